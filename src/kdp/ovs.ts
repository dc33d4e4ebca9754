// src/kdp/ovs.ts — the kernel openvswitch module's generic netlink families, declared
// once from include/uapi/linux/openvswitch.h (Linux 6.1): commands, attribute sets
// (nla_type numbers verbatim) and the structs they carry. Attribute names are those
// `ovs-dpctl dump-flows` prints (in_port, eth, eth_type, ipv4, ct_state, recirc_id, ...).
import { attrSet, struct, type AttrList, type Attrs } from './attr.js';

/** struct ovs_header: the datapath's local port ifindex, host order (0: by name). */
export const ovs_header = struct('ovs_header', 4, [['dp_ifindex', 'u32']]);

export const families = {
  datapath: { name: 'ovs_datapath', version: 2, mcgroup: 'ovs_datapath' },
  vport: { name: 'ovs_vport', version: 1, mcgroup: 'ovs_vport' },
  flow: { name: 'ovs_flow', version: 1, mcgroup: 'ovs_flow' },
  packet: { name: 'ovs_packet', version: 1, mcgroup: undefined },
  meter: { name: 'ovs_meter', version: 1, mcgroup: 'ovs_meter' },
} as const;
export type FamilyName = keyof typeof families;

export const OVS_DP_CMD = { NEW: 1, DEL: 2, GET: 3, SET: 4 } as const;
export const OVS_VPORT_CMD = { NEW: 1, DEL: 2, GET: 3, SET: 4 } as const;
export const OVS_FLOW_CMD = { NEW: 1, DEL: 2, GET: 3, SET: 4 } as const;
export const OVS_PACKET_CMD = { MISS: 1, ACTION: 2, EXECUTE: 3 } as const;
export const OVS_METER_CMD = { FEATURES: 1, SET: 2, DEL: 3, GET: 4 } as const;

/** OVS_DP_F_*: user features asked for at OVS_DP_CMD_NEW. */
export const OVS_DP_F = { UNALIGNED: 1 << 0, VPORT_PIDS: 1 << 1, TC_RECIRC_SHARING: 1 << 2, DISPATCH_UPCALL_PER_CPU: 1 << 3 } as const;

export const OVS_VPORT_TYPE = { NETDEV: 1, INTERNAL: 2, GRE: 3, VXLAN: 4, GENEVE: 5 } as const;
export const vportTypeName = (t: number): string =>
  (Object.entries(OVS_VPORT_TYPE).find(([, v]) => v === t)?.[0] ?? `type${t}`).toLowerCase();

/** OVS_FRAG_TYPE_* of ovs_key_ipv4.frag / ovs_key_ipv6.frag. */
export const OVS_FRAG_TYPE = { NONE: 0, FIRST: 1, LATER: 2 } as const;

/** OVS_CS_F_* bits of OVS_KEY_ATTR_CT_STATE, with the names ovs-dpctl prints. */
export const OVS_CS_F = { new: 0x01, est: 0x02, rel: 0x04, rpl: 0x08, inv: 0x10, trk: 0x20, snat: 0x40, dnat: 0x80 } as const;

// ---- structs ----

export const ovs_dp_stats = struct('ovs_dp_stats', 32, [
  ['n_hit', 'u64'], // flow table matches
  ['n_missed', 'u64'], // misses (upcalls)
  ['n_lost', 'u64'], // misses not sent to userspace
  ['n_flows', 'u64'], // flows present
]);

export const ovs_dp_megaflow_stats = struct('ovs_dp_megaflow_stats', 32, [
  ['n_mask_hit', 'u64'],
  ['n_masks', 'u32'],
  ['pad0', 'pad4'],
  ['n_cache_hit', 'u64'],
  ['pad1', 'pad8'],
]);

export const ovs_vport_stats = struct('ovs_vport_stats', 64, [
  ['rx_packets', 'u64'],
  ['tx_packets', 'u64'],
  ['rx_bytes', 'u64'],
  ['tx_bytes', 'u64'],
  ['rx_errors', 'u64'],
  ['tx_errors', 'u64'],
  ['rx_dropped', 'u64'],
  ['tx_dropped', 'u64'],
]);

export const ovs_flow_stats = struct('ovs_flow_stats', 16, [
  ['n_packets', 'u64'],
  ['n_bytes', 'u64'],
]);

export const ovs_key_ethernet = struct('ovs_key_ethernet', 12, [
  ['src', 'mac'],
  ['dst', 'mac'],
]);

export const ovs_key_ipv4 = struct('ovs_key_ipv4', 12, [
  ['src', 'ipv4'],
  ['dst', 'ipv4'],
  ['proto', 'u8'],
  ['tos', 'u8'],
  ['ttl', 'u8'],
  ['frag', 'u8'], // OVS_FRAG_TYPE_*
]);

export const ovs_key_ipv6 = struct('ovs_key_ipv6', 40, [
  ['src', 'ipv6'],
  ['dst', 'ipv6'],
  ['label', 'be32'], // 20 bits, least significant
  ['proto', 'u8'],
  ['tclass', 'u8'],
  ['hlimit', 'u8'],
  ['frag', 'u8'],
]);

export const ovs_key_ports = struct('ovs_key_ports', 4, [
  ['src', 'be16'],
  ['dst', 'be16'],
]);

export const ovs_key_icmp = struct('ovs_key_icmp', 2, [
  ['type', 'u8'],
  ['code', 'u8'],
]);

export const ovs_key_arp = struct('ovs_key_arp', 24, [
  ['sip', 'ipv4'],
  ['tip', 'ipv4'],
  ['op', 'be16'],
  ['sha', 'mac'],
  ['tha', 'mac'],
  ['pad', 'pad2'], // sizeof rounds up to __be32 alignment
]);

export const ovs_key_nd = struct('ovs_key_nd', 28, [
  ['target', 'ipv6'],
  ['sll', 'mac'],
  ['tll', 'mac'],
]);

export const ovs_key_ct_tuple_ipv4 = struct('ovs_key_ct_tuple_ipv4', 16, [
  ['src', 'ipv4'],
  ['dst', 'ipv4'],
  ['src_port', 'be16'],
  ['dst_port', 'be16'],
  ['proto', 'u8'],
  ['pad', 'pad3'], // sizeof rounds up to __be32 alignment
]);

export const ovs_action_push_vlan = struct('ovs_action_push_vlan', 4, [
  ['vlan_tpid', 'be16'], // 0x8100 or 0x88a8
  ['vlan_tci', 'be16'], // VLAN_CFI (0x1000) must be set
]);

export const ovs_action_hash = struct('ovs_action_hash', 8, [
  ['hash_alg', 'u32'],
  ['hash_basis', 'u32'],
]);

export const ovs_action_push_mpls = struct('ovs_action_push_mpls', 8, [
  ['mpls_lse', 'be32'],
  ['mpls_ethertype', 'be16'],
  ['pad', 'pad2'],
]);

/** OVS_CT_ATTR_MARK: struct md_mark (net/openvswitch/conntrack.c). */
export const md_mark = struct('md_mark', 8, [
  ['value', 'u32'],
  ['mask', 'u32'],
]);

/** OVS_CT_ATTR_LABELS: struct md_labels, 128-bit value then mask (hex text). */
export const md_labels = struct('md_labels', 32, [
  ['value', 'label16'],
  ['mask', 'label16'],
]);

// ---- attribute sets ----

export const ovs_datapath_attr = attrSet('ovs_datapath_attr', {
  name: [1, 'string'], // OVS_DP_ATTR_NAME
  upcall_pid: [2, 'u32'], // netlink port id for upcalls of the local port
  stats: [3, { struct: ovs_dp_stats }],
  megaflow_stats: [4, { struct: ovs_dp_megaflow_stats }],
  user_features: [5, 'u32'], // OVS_DP_F_*
  masks_cache_size: [7, 'u32'],
  per_cpu_pids: [8, 'u32s'],
  ifindex: [9, 'u32'],
});

export const ovs_vport_attr = attrSet('ovs_vport_attr', {
  port_no: [1, 'u32'],
  type: [2, 'u32'], // OVS_VPORT_TYPE_*
  name: [3, 'string'],
  options: [4, 'bytes'], // nested OVS_TUNNEL_ATTR_* (tunnels only)
  upcall_pid: [5, 'u32s'], // port ids among which this port's misses are spread
  stats: [6, { struct: ovs_vport_stats }],
  ifindex: [8, 'u32'],
  netnsid: [9, 's32'],
});

/** enum ovs_key_attr: a flow key, and with the same layout its mask. */
export const ovs_key_attr = attrSet('ovs_key_attr', {
  encap: [1, 'self'], // the key inside an 802.1Q tag
  skb_priority: [2, 'u32'],
  in_port: [3, 'u32'], // datapath port number
  eth: [4, { struct: ovs_key_ethernet }],
  vlan: [5, 'be16'], // TCI, VLAN_CFI set when a tag is present
  eth_type: [6, 'be16'],
  ipv4: [7, { struct: ovs_key_ipv4 }],
  ipv6: [8, { struct: ovs_key_ipv6 }],
  tcp: [9, { struct: ovs_key_ports }],
  udp: [10, { struct: ovs_key_ports }],
  icmp: [11, { struct: ovs_key_icmp }],
  icmpv6: [12, { struct: ovs_key_icmp }],
  arp: [13, { struct: ovs_key_arp }],
  nd: [14, { struct: ovs_key_nd }],
  skb_mark: [15, 'u32'],
  tunnel: [16, 'bytes'], // nested OVS_TUNNEL_KEY_ATTR_* (kept opaque)
  sctp: [17, { struct: ovs_key_ports }],
  tcp_flags: [18, 'be16'],
  dp_hash: [19, 'u32'],
  recirc_id: [20, 'u32'],
  mpls: [21, 'bytes'], // array of be32 label stack entries
  ct_state: [22, 'u32'], // OVS_CS_F_*
  ct_zone: [23, 'u16'],
  ct_mark: [24, 'u32'],
  ct_label: [25, 'bytes'], // 16 bytes
  ct_tuple4: [26, { struct: ovs_key_ct_tuple_ipv4 }],
  ct_tuple6: [27, 'bytes'],
  nsh: [28, 'bytes'],
  packet_type: [29, 'be32'],
  nd_extensions: [30, 'bytes'],
  ipv6_exthdrs: [32, 'u16'],
});
export type OvsKey = Attrs<(typeof ovs_key_attr)['fields']>;

export const ovs_nat_attr = attrSet('ovs_nat_attr', {
  src: [1, 'flag'],
  dst: [2, 'flag'],
  ip_min: [3, 'ip'],
  ip_max: [4, 'ip'],
  proto_min: [5, 'u16'],
  proto_max: [6, 'u16'],
  persistent: [7, 'flag'],
  proto_hash: [8, 'flag'],
  proto_random: [9, 'flag'],
});

export const ovs_ct_attr = attrSet('ovs_ct_attr', {
  commit: [1, 'flag'],
  zone: [2, 'u16'],
  mark: [3, { struct: md_mark }],
  labels: [4, { struct: md_labels }],
  helper: [5, 'string'], // "ftp", "tftp"
  nat: [6, { nested: ovs_nat_attr }],
  force_commit: [7, 'flag'],
  eventmask: [8, 'u32'],
  timeout: [9, 'string'],
});

export const ovs_userspace_attr = attrSet('ovs_userspace_attr', {
  pid: [1, 'u32'], // netlink port id that receives the OVS_PACKET_CMD_ACTION
  userdata: [2, 'bytes'], // echoed as OVS_PACKET_ATTR_USERDATA
  egress_tun_port: [3, 'u32'],
  actions: [4, 'flag'],
});

/** enum ovs_action_attr, applied in order. Nested action lists (sample, clone, check_pkt_len, dec_ttl) stay opaque. */
export const ovs_action_attr = attrSet('ovs_action_attr', {
  output: [1, 'u32'],
  userspace: [2, { nested: ovs_userspace_attr }],
  set: [3, { nested: ovs_key_attr }], // exactly one key attribute
  push_vlan: [4, { struct: ovs_action_push_vlan }],
  pop_vlan: [5, 'flag'],
  sample: [6, 'bytes'],
  recirc: [7, 'u32'],
  hash: [8, { struct: ovs_action_hash }],
  push_mpls: [9, { struct: ovs_action_push_mpls }],
  pop_mpls: [10, 'be16'],
  set_masked: [11, { masked: ovs_key_attr }],
  ct: [12, { nested: ovs_ct_attr }],
  trunc: [13, 'u32'],
  push_eth: [14, { struct: ovs_key_ethernet }],
  pop_eth: [15, 'flag'],
  ct_clear: [16, 'flag'],
  push_nsh: [17, 'bytes'],
  pop_nsh: [18, 'flag'],
  meter: [19, 'u32'],
  clone: [20, 'bytes'],
  check_pkt_len: [21, 'bytes'],
  add_mpls: [22, 'bytes'],
  dec_ttl: [23, 'bytes'],
});
export type OvsAction = AttrList<(typeof ovs_action_attr)['fields']>[number];

export const ovs_flow_attr = attrSet('ovs_flow_attr', {
  key: [1, { nested: ovs_key_attr }],
  actions: [2, { list: ovs_action_attr }],
  stats: [3, { struct: ovs_flow_stats }],
  tcp_flags: [4, 'u8'],
  used: [5, 'u64'], // ms of CLOCK_MONOTONIC when last used
  clear: [6, 'flag'], // clear stats, tcp_flags and used (on SET)
  mask: [7, { nested: ovs_key_attr }],
  probe: [8, 'flag'],
  ufid: [9, 'bytes'], // up to 16 bytes
  ufid_flags: [10, 'u32'],
});

export const ovs_packet_attr = attrSet('ovs_packet_attr', {
  packet: [1, 'bytes'], // from the Ethernet header on
  key: [2, { nested: ovs_key_attr }],
  actions: [3, { list: ovs_action_attr }],
  userdata: [4, 'bytes'],
  egress_tun_key: [5, 'bytes'],
  probe: [8, 'flag'],
  mru: [9, 'u16'], // largest IP fragment received, when conntrack reassembled
  len: [10, 'u32'], // size before truncation
  hash: [11, 'u64'],
});

export const ovs_band_attr = attrSet('ovs_band_attr', {
  type: [1, 'u32'], // OVS_METER_BAND_TYPE_DROP = 1
  rate: [2, 'u32'],
  burst: [3, 'u32'],
  stats: [4, { struct: ovs_flow_stats }],
});

/** Meter bands: each a nested ovs_band_attr set under type OVS_BAND_ATTR_UNSPEC (0). */
export const ovs_bands = attrSet('ovs_bands', {
  band: [0, { nested: ovs_band_attr }],
});

export const ovs_meter_attr = attrSet('ovs_meter_attr', {
  id: [1, 'u32'],
  kbps: [2, 'flag'],
  stats: [3, { struct: ovs_flow_stats }],
  bands: [4, { list: ovs_bands }],
  used: [5, 'u64'],
  clear: [6, 'flag'],
  max_meters: [7, 'u32'],
  max_bands: [8, 'u32'],
});
