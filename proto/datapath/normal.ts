// OFPP_NORMAL in the datapath (bpf/lib/normal.h): the MAC learning table of one bridge,
// keyed by VLAN and MAC as OVS's mac-learning is, the ports' VLAN config (Port tag,
// trunks, vlan_mode, as src/ofproto/normal.ts applies them), and the switch that says
// whether the fast path may run NORMAL at all.
import { array, cenum, cstruct, type MapDecl, u16, u32, u64, u8 } from '../lib/cstruct.js';

/** MACs learned per bridge (OVS's default other_config:mac-table-size is 2048). */
export const MAC_ENTRIES = 8192;

export const macKey = cstruct('xsw_mac_key', 8, [
  ['mac', array(u8, 6), 'Ethernet address'],
  ['vlan', u16, 'VLAN the address was seen in (0: untagged), host order'],
]);

export const macEntry = cstruct('xsw_mac_entry', 16, [
  ['ofport', u32, 'OpenFlow port the address was last seen on'],
  ['ifindex', u32, 'its device then: an entry whose port number now names another device is unknown'],
  ['seen_ns', u64, 'bpf_ktime_get_coarse_ns() when last seen (refreshed at most once a second)'],
]);

export const normalConfig = cstruct('xsw_normal_config', 8, [
  ['enabled', u32, '1: NORMAL runs in the fast path; 0: every NORMAL frame goes to the slow path'],
  ['aging_sec', u32, 'an entry older than this is unknown (OVS mac-aging-time, default 300)'],
]);

export const vlanMode = cenum(
  'xsw_vlan_mode',
  {
    XSW_VLAN_TRUNK: 0, // carries the VLANs of trunks (every VLAN when it has none), tagged
    XSW_VLAN_ACCESS: 1, // carries VLAN tag only, untagged; tagged frames are dropped
    XSW_VLAN_NATIVE_TAGGED: 2, // untagged frames are in VLAN tag; everything leaves tagged
    XSW_VLAN_NATIVE_UNTAGGED: 3, // as native-tagged, but VLAN tag leaves untagged
  },
  'Port vlan_mode (a port without an xsw_normal_ports entry is a trunk of every VLAN)',
);

export const normalPort = cstruct('xsw_normal_port', 8 + 8 * 64, [
  ['mode', u32, 'enum xsw_vlan_mode'],
  ['tag', u32, 'Port tag (0: none)'],
  ['trunks', array(u64, 64), 'bit v of word v / 64: the port carries VLAN v as a trunk'],
]);

export const normalMaps = {
  xsw_macs: { type: 'LRU_HASH', maxEntries: MAC_ENTRIES, key: macKey, value: macEntry, comment: '(MAC, VLAN) → port the address was seen on' },
  xsw_normal_ports: { type: 'HASH', maxEntries: 1024, key: u32, value: normalPort, comment: 'OpenFlow port → its VLAN config, for the ports that have one' },
  xsw_normal_config: { type: 'ARRAY', maxEntries: 1, key: u32, value: normalConfig, comment: '0 → whether and how NORMAL runs in the fast path' },
} as const satisfies Record<string, MapDecl>;

export const normalStructs = [macKey, macEntry, normalConfig, normalPort];
export const normalEnums = [vlanMode];
