// Layouts of every map shared by bpf/xdpswitch.bpf.c and src/datapath. Pinned maps
// outlive the daemon, so this is an ABI: retire a field as reserved_N, never reuse it,
// and bump LAYOUT_VERSION (part of the pin path) when a field moves.
import { array, cenum, cstruct, type MapDecl, u32, u64, u8 } from '../lib/cstruct.js';
import { flowKey, ipFrag } from './key.js';
import { MAC_ENTRIES, normalEnums, normalMaps, normalStructs } from './normal.js';
import { EMC_ENTRIES, EMC_HOPS, EMC_WORDS, MAX_GROUPS, MAX_MASKS, METER_BANDS, METER_SCALE, MAX_OPS, MAX_TABLE_HOPS, pipelineEnums, pipelineMaps, pipelineStructs } from './pipeline.js';

export const LAYOUT_VERSION = 5;

/** OpenFlow port numbers 1 .. PORT_SLOTS-1 count in xsw_port_slots (an array: no hash per packet). */
export const PORT_SLOTS = 1024;

/** What the first-form pipeline does with a frame arriving on a port. */
export const portAction = cenum(
  'xsw_port_action',
  {
    XSW_PORT_PASS: 0, // hand the frame to the kernel stack unchanged
    XSW_PORT_DROP: 1,
    XSW_PORT_REDIRECT: 2, // send out of port.out_ifindex
    XSW_PORT_UPCALL: 3, // copy the head of the frame to userspace, then pass
    XSW_PORT_PIPELINE: 4, // run the OpenFlow pipeline (xsw_tables, xsw_rules, xsw_ops)
  },
  'per-port verdict of the first-form pipeline',
);

/** Why a frame was copied to userspace; counted per reason. */
export const upcallReason = cenum('xsw_upcall_reason', {
  XSW_UPCALL_PORT: 0, // the port's action is XSW_PORT_UPCALL
  XSW_UPCALL_NO_PORT: 1, // ingress ifindex has no xsw_ports entry
  XSW_UPCALL_ACTION: 2, // output:CONTROLLER (OFPR_ACTION); upcall.arg = max_len
  XSW_UPCALL_INVALID_TTL: 3, // dec_nw_ttl reached 0 (OFPR_INVALID_TTL)
  XSW_UPCALL_UNSUPPORTED: 4, // an op the fast path lacks (compiled as XSW_OP_UPCALL)
  XSW_UPCALL_MULTI_OUTPUT: 5, // several outputs XDP cannot send as one broadcast, or more copies than XSW_MAX_COPIES
  XSW_UPCALL_TABLE_HOPS: 6, // more goto_table hops than XSW_MAX_TABLE_HOPS
  XSW_UPCALL_OPS: 7, // a program longer than XSW_MAX_OPS
  XSW_UPCALL_NO_OUTPUT_PORT: 8, // output to a port the datapath has no device for
  XSW_UPCALL_MASKS: 9, // the table uses more masks than XSW_MAX_MASKS
  XSW_UPCALL_NORMAL_FLOOD: 10, // NORMAL's flood at XDP when the copies differ (per-port VLAN tags) or skip ports
  XSW_UPCALL_NORMAL_SLOW: 11, // NORMAL the fast path leaves to the slow path (port VLAN config, priority tag)
  XSW_UPCALL_CONNTRACK: 12, // ct the fast path cannot answer (bpf/lib/ct.h): a new connection, commit, NAT, not TCP/UDP, a fragment
});

/** Load-time limits shared by the C and the compiler. */
export const limits = { MAC_ENTRIES, PORT_SLOTS, MAX_GROUPS, MAX_MASKS, MAX_OPS, MAX_TABLE_HOPS, EMC_WORDS, EMC_HOPS, EMC_ENTRIES, METER_BANDS, METER_SCALE };

export const port = cstruct('xsw_port', 16, [
  ['action', u32, 'enum xsw_port_action'],
  ['out_ifindex', u32, 'egress device for XSW_PORT_REDIRECT'],
  ['ofport', u32, 'OpenFlow port number, for upcalls and counters'],
  ['flags', u32, 'reserved for port flags, written as zero'],
]);

export const portStats = cstruct('xsw_port_stats', 48, [
  ['rx_packets', u64, 'frames received on the port'],
  ['rx_bytes', u64, 'bytes received, Ethernet header included'],
  ['tx_packets', u64, 'frames redirected out of the port'],
  ['tx_bytes', u64],
  ['drops', u64, 'frames dropped by the pipeline'],
  ['upcalls', u64, 'frames copied to userspace'],
]);

export const portSlot = cstruct('xsw_port_slot', 8 + portStats.size, [
  ['ifindex', u32, 'the device these counts are for: a CPU finding another resets its copy'],
  ['reserved', u32, 'written as zero'],
  ['stats', portStats, 'as in xsw_port_stats'],
]);

/** Largest frame copied whole into an upcall record (the slow path needs all of it). */
export const UPCALL_CAP = 2048;

export const upcall = cstruct('xsw_upcall', 40 + flowKey.size + UPCALL_CAP, [
  ['ifindex', u32, 'ingress device'],
  ['reason', u32, 'enum xsw_upcall_reason'],
  ['frame_len', u32, 'length of the whole frame in bytes'],
  ['cap_len', u32, 'bytes of it in data[]'],
  ['table_id', u32, 'table of the rule that sent it'],
  ['rule_id', u32, 'that rule (0: none)'],
  ['arg', u32, 'by reason: max_len for XSW_UPCALL_ACTION'],
  ['vlan_meta', u32, 'TC: the outer tag kept in skb metadata, not in data[] (TPID << 16 | TCI); 0 when none'],
  ['meters', u32, 'meter ops the fast path ran on this packet before it left: the slow path\'s re-run skips as many'],
  ['reserved', u32, 'written as zero'],
  ['key', flowKey, 'the frame as the parser saw it'],
  ['data', array(u8, UPCALL_CAP), 'the frame head, cap_len bytes valid'],
]);

export const maps = {
  xsw_ports: { type: 'HASH', maxEntries: 1024, key: u32, value: port, comment: 'ingress ifindex → port config' },
  xsw_tx_ports: { type: 'DEVMAP_HASH', maxEntries: 1024, key: u32, value: u32, comment: 'ifindex → ifindex, XDP redirect targets' },
  xsw_port_stats: { type: 'PERCPU_HASH', maxEntries: 1024, key: u32, value: portStats, comment: 'ifindex → per-CPU counters (ports without a slot)' },
  xsw_port_slots: { type: 'PERCPU_ARRAY', maxEntries: PORT_SLOTS, key: u32, value: portSlot, comment: 'OpenFlow port → per-CPU counters of the pipeline ports numbered below PORT_SLOTS' },
  xsw_upcalls: { type: 'RINGBUF', maxEntries: 4 * 1024 * 1024, record: upcall, comment: 'struct xsw_upcall records for userspace' },
  ...pipelineMaps,
  ...normalMaps,
} as const satisfies Record<string, MapDecl>;

export const structs = [flowKey, port, portStats, portSlot, upcall, ...pipelineStructs, ...normalStructs];
export const enums = [ipFrag, portAction, upcallReason, ...pipelineEnums, ...normalEnums];
