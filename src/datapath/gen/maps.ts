// Generated from proto/datapath/maps.ts by npm run gen; edit the source.

export const LAYOUT_VERSION = 5;
export const UPCALL_CAP = 2048;
export const MAC_ENTRIES = 8192;
export const PORT_SLOTS = 1024;
export const MAX_GROUPS = 4;
export const MAX_MASKS = 32;
export const MAX_OPS = 32;
export const MAX_TABLE_HOPS = 16;
export const EMC_WORDS = 8;
export const EMC_HOPS = 4;
export const EMC_ENTRIES = 32768;
export const METER_BANDS = 8;
export const METER_SCALE = 1000000;

export const XswIpFrag = {
  XSW_FRAG_ANY: 1,
  XSW_FRAG_LATER: 2,
} as const;

export const XswPortAction = {
  XSW_PORT_PASS: 0,
  XSW_PORT_DROP: 1,
  XSW_PORT_REDIRECT: 2,
  XSW_PORT_UPCALL: 3,
  XSW_PORT_PIPELINE: 4,
} as const;

export const XswUpcallReason = {
  XSW_UPCALL_PORT: 0,
  XSW_UPCALL_NO_PORT: 1,
  XSW_UPCALL_ACTION: 2,
  XSW_UPCALL_INVALID_TTL: 3,
  XSW_UPCALL_UNSUPPORTED: 4,
  XSW_UPCALL_MULTI_OUTPUT: 5,
  XSW_UPCALL_TABLE_HOPS: 6,
  XSW_UPCALL_OPS: 7,
  XSW_UPCALL_NO_OUTPUT_PORT: 8,
  XSW_UPCALL_MASKS: 9,
  XSW_UPCALL_NORMAL_FLOOD: 10,
  XSW_UPCALL_NORMAL_SLOW: 11,
  XSW_UPCALL_CONNTRACK: 12,
} as const;

export const XswOpCode = {
  XSW_OP_OUTPUT: 1,
  XSW_OP_SET_FIELD: 2,
  XSW_OP_PUSH_VLAN: 3,
  XSW_OP_POP_VLAN: 4,
  XSW_OP_DEC_NW_TTL: 5,
  XSW_OP_SET_NW_TTL: 6,
  XSW_OP_WRITE_METADATA: 7,
  XSW_OP_GOTO_TABLE: 8,
  XSW_OP_UPCALL: 9,
  XSW_OP_SET_MASKED: 10,
  XSW_OP_METER: 11,
  XSW_OP_NORMAL: 12,
  XSW_OP_CT: 13,
  XSW_OP_GROUP: 14,
  XSW_OP_BUCKET: 15,
  XSW_OP_BUCKET_END: 16,
} as const;

export const XswOpCond = {
  XSW_COND_ALWAYS: 0,
  XSW_COND_VLAN: 1,
  XSW_COND_IPV4: 2,
  XSW_COND_IPV6: 3,
  XSW_COND_IP: 4,
  XSW_COND_TCP: 5,
  XSW_COND_UDP: 6,
  XSW_COND_ARP: 7,
} as const;

export const XswVlanMode = {
  XSW_VLAN_TRUNK: 0,
  XSW_VLAN_ACCESS: 1,
  XSW_VLAN_NATIVE_TAGGED: 2,
  XSW_VLAN_NATIVE_UNTAGGED: 3,
} as const;

export interface XswFlowKey {
  in_port: number; // OpenFlow ingress port number, host order
  recirc_id: number; // 0 on the first pass, host order
  metadata: bigint; // OpenFlow metadata, host order
  tunnel_id: bigint; // host order
  eth_dst: Uint8Array;
  eth_src: Uint8Array;
  eth_type: number; // innermost ethertype, after the VLAN tags
  vlan_tci: number; // outer tag: PCP(3) | present(1, in CFI position) | VID(12); 0 when untagged
  vlan_tpid: number; // outer tag TPID (0x8100 or 0x88a8)
  vlan2_tci: number; // inner tag, same form as vlan_tci
  ip_proto: number; // IPv4 protocol / IPv6 next header of the L4 header
  ip_tos: number; // DSCP(6) | ECN(2); IPv6 traffic class
  ip_ttl: number; // TTL / hop limit
  ip_frag: number; // enum xsw_ip_frag bits
  ipv4_src: number; // also ARP SPA
  ipv4_dst: number; // also ARP TPA
  tp_src: number; // TCP/UDP/SCTP source port; ICMP/ICMPv6 type in the low byte
  tp_dst: number; // TCP/UDP/SCTP destination port; ICMP/ICMPv6 code in the low byte
  tcp_flags: number; // low 12 bits of the TCP header flags word
  arp_op: number;
  arp_sha: Uint8Array; // also ND source link-layer address
  arp_tha: Uint8Array; // also ND target link-layer address
  ipv6_label: number; // low 20 bits
  ipv6_src: Uint8Array;
  ipv6_dst: Uint8Array;
  nd_target: Uint8Array;
  mpls_lse: number; // top label stack entry: label(20) | TC(3) | BOS(1) | TTL(8)
  ipv6_exthdr: number; // OFPIEH_* bits, host order
  ct_zone: number; // host order
  ct_state: number; // OVS CS_* bits, host order
  ct_mark: number; // host order
  ct_label: Uint8Array;
}

export const XSW_FLOW_KEY_SIZE = 160;

export function encodeXswFlowKey(v: XswFlowKey, buf: Buffer = Buffer.alloc(160), off = 0): Buffer {
  const dv = new DataView(buf.buffer, buf.byteOffset + off, 160);
  dv.setUint32(0, v.in_port, true);
  dv.setUint32(4, v.recirc_id, true);
  dv.setBigUint64(8, v.metadata, true);
  dv.setBigUint64(16, v.tunnel_id, true);
  buf.set(v.eth_dst.subarray(0, 6), off + 24);
  buf.set(v.eth_src.subarray(0, 6), off + 30);
  dv.setUint16(36, v.eth_type, false);
  dv.setUint16(38, v.vlan_tci, false);
  dv.setUint16(40, v.vlan_tpid, false);
  dv.setUint16(42, v.vlan2_tci, false);
  dv.setUint8(44, v.ip_proto);
  dv.setUint8(45, v.ip_tos);
  dv.setUint8(46, v.ip_ttl);
  dv.setUint8(47, v.ip_frag);
  dv.setUint32(48, v.ipv4_src, false);
  dv.setUint32(52, v.ipv4_dst, false);
  dv.setUint16(56, v.tp_src, false);
  dv.setUint16(58, v.tp_dst, false);
  dv.setUint16(60, v.tcp_flags, false);
  dv.setUint16(62, v.arp_op, false);
  buf.set(v.arp_sha.subarray(0, 6), off + 64);
  buf.set(v.arp_tha.subarray(0, 6), off + 70);
  dv.setUint32(76, v.ipv6_label, false);
  buf.set(v.ipv6_src.subarray(0, 16), off + 80);
  buf.set(v.ipv6_dst.subarray(0, 16), off + 96);
  buf.set(v.nd_target.subarray(0, 16), off + 112);
  dv.setUint32(128, v.mpls_lse, false);
  dv.setUint16(132, v.ipv6_exthdr, true);
  dv.setUint16(134, v.ct_zone, true);
  dv.setUint32(136, v.ct_state, true);
  dv.setUint32(140, v.ct_mark, true);
  buf.set(v.ct_label.subarray(0, 16), off + 144);
  return buf;
}

export function decodeXswFlowKey(buf: Uint8Array, off = 0): XswFlowKey {
  if (buf.length - off < 160) throw new RangeError('xsw_flow_key: need 160 bytes, have ' + (buf.length - off));
  const dv = new DataView(buf.buffer, buf.byteOffset + off, 160);
  return {
    in_port: dv.getUint32(0, true),
    recirc_id: dv.getUint32(4, true),
    metadata: dv.getBigUint64(8, true),
    tunnel_id: dv.getBigUint64(16, true),
    eth_dst: buf.slice(off + 24, off + 30),
    eth_src: buf.slice(off + 30, off + 36),
    eth_type: dv.getUint16(36, false),
    vlan_tci: dv.getUint16(38, false),
    vlan_tpid: dv.getUint16(40, false),
    vlan2_tci: dv.getUint16(42, false),
    ip_proto: dv.getUint8(44),
    ip_tos: dv.getUint8(45),
    ip_ttl: dv.getUint8(46),
    ip_frag: dv.getUint8(47),
    ipv4_src: dv.getUint32(48, false),
    ipv4_dst: dv.getUint32(52, false),
    tp_src: dv.getUint16(56, false),
    tp_dst: dv.getUint16(58, false),
    tcp_flags: dv.getUint16(60, false),
    arp_op: dv.getUint16(62, false),
    arp_sha: buf.slice(off + 64, off + 70),
    arp_tha: buf.slice(off + 70, off + 76),
    ipv6_label: dv.getUint32(76, false),
    ipv6_src: buf.slice(off + 80, off + 96),
    ipv6_dst: buf.slice(off + 96, off + 112),
    nd_target: buf.slice(off + 112, off + 128),
    mpls_lse: dv.getUint32(128, false),
    ipv6_exthdr: dv.getUint16(132, true),
    ct_zone: dv.getUint16(134, true),
    ct_state: dv.getUint32(136, true),
    ct_mark: dv.getUint32(140, true),
    ct_label: buf.slice(off + 144, off + 160),
  };
}

export interface XswPort {
  action: number; // enum xsw_port_action
  out_ifindex: number; // egress device for XSW_PORT_REDIRECT
  ofport: number; // OpenFlow port number, for upcalls and counters
  flags: number; // reserved for port flags, written as zero
}

export const XSW_PORT_SIZE = 16;

export function encodeXswPort(v: XswPort, buf: Buffer = Buffer.alloc(16), off = 0): Buffer {
  const dv = new DataView(buf.buffer, buf.byteOffset + off, 16);
  dv.setUint32(0, v.action, true);
  dv.setUint32(4, v.out_ifindex, true);
  dv.setUint32(8, v.ofport, true);
  dv.setUint32(12, v.flags, true);
  return buf;
}

export function decodeXswPort(buf: Uint8Array, off = 0): XswPort {
  if (buf.length - off < 16) throw new RangeError('xsw_port: need 16 bytes, have ' + (buf.length - off));
  const dv = new DataView(buf.buffer, buf.byteOffset + off, 16);
  return {
    action: dv.getUint32(0, true),
    out_ifindex: dv.getUint32(4, true),
    ofport: dv.getUint32(8, true),
    flags: dv.getUint32(12, true),
  };
}

export interface XswPortStats {
  rx_packets: bigint; // frames received on the port
  rx_bytes: bigint; // bytes received, Ethernet header included
  tx_packets: bigint; // frames redirected out of the port
  tx_bytes: bigint;
  drops: bigint; // frames dropped by the pipeline
  upcalls: bigint; // frames copied to userspace
}

export const XSW_PORT_STATS_SIZE = 48;

export function encodeXswPortStats(v: XswPortStats, buf: Buffer = Buffer.alloc(48), off = 0): Buffer {
  const dv = new DataView(buf.buffer, buf.byteOffset + off, 48);
  dv.setBigUint64(0, v.rx_packets, true);
  dv.setBigUint64(8, v.rx_bytes, true);
  dv.setBigUint64(16, v.tx_packets, true);
  dv.setBigUint64(24, v.tx_bytes, true);
  dv.setBigUint64(32, v.drops, true);
  dv.setBigUint64(40, v.upcalls, true);
  return buf;
}

export function decodeXswPortStats(buf: Uint8Array, off = 0): XswPortStats {
  if (buf.length - off < 48) throw new RangeError('xsw_port_stats: need 48 bytes, have ' + (buf.length - off));
  const dv = new DataView(buf.buffer, buf.byteOffset + off, 48);
  return {
    rx_packets: dv.getBigUint64(0, true),
    rx_bytes: dv.getBigUint64(8, true),
    tx_packets: dv.getBigUint64(16, true),
    tx_bytes: dv.getBigUint64(24, true),
    drops: dv.getBigUint64(32, true),
    upcalls: dv.getBigUint64(40, true),
  };
}

export interface XswPortSlot {
  ifindex: number; // the device these counts are for: a CPU finding another resets its copy
  reserved: number; // written as zero
  stats: XswPortStats; // as in xsw_port_stats
}

export const XSW_PORT_SLOT_SIZE = 56;

export function encodeXswPortSlot(v: XswPortSlot, buf: Buffer = Buffer.alloc(56), off = 0): Buffer {
  const dv = new DataView(buf.buffer, buf.byteOffset + off, 56);
  dv.setUint32(0, v.ifindex, true);
  dv.setUint32(4, v.reserved, true);
  encodeXswPortStats(v.stats, buf, off + 8);
  return buf;
}

export function decodeXswPortSlot(buf: Uint8Array, off = 0): XswPortSlot {
  if (buf.length - off < 56) throw new RangeError('xsw_port_slot: need 56 bytes, have ' + (buf.length - off));
  const dv = new DataView(buf.buffer, buf.byteOffset + off, 56);
  return {
    ifindex: dv.getUint32(0, true),
    reserved: dv.getUint32(4, true),
    stats: decodeXswPortStats(buf, off + 8),
  };
}

export interface XswUpcall {
  ifindex: number; // ingress device
  reason: number; // enum xsw_upcall_reason
  frame_len: number; // length of the whole frame in bytes
  cap_len: number; // bytes of it in data[]
  table_id: number; // table of the rule that sent it
  rule_id: number; // that rule (0: none)
  arg: number; // by reason: max_len for XSW_UPCALL_ACTION
  vlan_meta: number; // TC: the outer tag kept in skb metadata, not in data[] (TPID << 16 | TCI); 0 when none
  meters: number; // meter ops the fast path ran on this packet before it left: the slow path's re-run skips as many
  reserved: number; // written as zero
  key: XswFlowKey; // the frame as the parser saw it
  data: Uint8Array; // the frame head, cap_len bytes valid
}

export const XSW_UPCALL_SIZE = 2248;

export function encodeXswUpcall(v: XswUpcall, buf: Buffer = Buffer.alloc(2248), off = 0): Buffer {
  const dv = new DataView(buf.buffer, buf.byteOffset + off, 2248);
  dv.setUint32(0, v.ifindex, true);
  dv.setUint32(4, v.reason, true);
  dv.setUint32(8, v.frame_len, true);
  dv.setUint32(12, v.cap_len, true);
  dv.setUint32(16, v.table_id, true);
  dv.setUint32(20, v.rule_id, true);
  dv.setUint32(24, v.arg, true);
  dv.setUint32(28, v.vlan_meta, true);
  dv.setUint32(32, v.meters, true);
  dv.setUint32(36, v.reserved, true);
  encodeXswFlowKey(v.key, buf, off + 40);
  buf.set(v.data.subarray(0, 2048), off + 200);
  return buf;
}

export function decodeXswUpcall(buf: Uint8Array, off = 0): XswUpcall {
  if (buf.length - off < 2248) throw new RangeError('xsw_upcall: need 2248 bytes, have ' + (buf.length - off));
  const dv = new DataView(buf.buffer, buf.byteOffset + off, 2248);
  return {
    ifindex: dv.getUint32(0, true),
    reason: dv.getUint32(4, true),
    frame_len: dv.getUint32(8, true),
    cap_len: dv.getUint32(12, true),
    table_id: dv.getUint32(16, true),
    rule_id: dv.getUint32(20, true),
    arg: dv.getUint32(24, true),
    vlan_meta: dv.getUint32(28, true),
    meters: dv.getUint32(32, true),
    reserved: dv.getUint32(36, true),
    key: decodeXswFlowKey(buf, off + 40),
    data: buf.slice(off + 200, off + 2248),
  };
}

export interface XswTable {
  n_masks: number; // masks in use, sorted by max_prio, highest first
  flags: number; // XSW_TABLE_SLOW (1): more masks than the fast path walks; all its packets go slow
  masks: number[]; // n_masks pairs (mask_id: index into xsw_masks, max_prio: highest rule priority under it)
}

export const XSW_TABLE_SIZE = 264;

export function encodeXswTable(v: XswTable, buf: Buffer = Buffer.alloc(264), off = 0): Buffer {
  const dv = new DataView(buf.buffer, buf.byteOffset + off, 264);
  dv.setUint32(0, v.n_masks, true);
  dv.setUint32(4, v.flags, true);
  for (let i = 0; i < 64; i++) dv.setUint32(8 + i * 4, v.masks[i] ?? 0, true);
  return buf;
}

export function decodeXswTable(buf: Uint8Array, off = 0): XswTable {
  if (buf.length - off < 264) throw new RangeError('xsw_table: need 264 bytes, have ' + (buf.length - off));
  const dv = new DataView(buf.buffer, buf.byteOffset + off, 264);
  return {
    n_masks: dv.getUint32(0, true),
    flags: dv.getUint32(4, true),
    masks: Array.from({ length: 64 }, (_, i) => dv.getUint32(8 + i * 4, true)),
  };
}

export interface XswRuleKey {
  table_id: number;
  mask_id: number;
  key: XswFlowKey; // the rule match: flow key & mask
}

export const XSW_RULE_KEY_SIZE = 168;

export function encodeXswRuleKey(v: XswRuleKey, buf: Buffer = Buffer.alloc(168), off = 0): Buffer {
  const dv = new DataView(buf.buffer, buf.byteOffset + off, 168);
  dv.setUint32(0, v.table_id, true);
  dv.setUint32(4, v.mask_id, true);
  encodeXswFlowKey(v.key, buf, off + 8);
  return buf;
}

export function decodeXswRuleKey(buf: Uint8Array, off = 0): XswRuleKey {
  if (buf.length - off < 168) throw new RangeError('xsw_rule_key: need 168 bytes, have ' + (buf.length - off));
  const dv = new DataView(buf.buffer, buf.byteOffset + off, 168);
  return {
    table_id: dv.getUint32(0, true),
    mask_id: dv.getUint32(4, true),
    key: decodeXswFlowKey(buf, off + 8),
  };
}

export interface XswRule {
  priority: number;
  rule_id: number; // index of the rule counters; FlowEntry.id mod the map size
  op_start: number; // first op in xsw_ops
  n_ops: number; // ops in the program
}

export const XSW_RULE_SIZE = 16;

export function encodeXswRule(v: XswRule, buf: Buffer = Buffer.alloc(16), off = 0): Buffer {
  const dv = new DataView(buf.buffer, buf.byteOffset + off, 16);
  dv.setUint32(0, v.priority, true);
  dv.setUint32(4, v.rule_id, true);
  dv.setUint32(8, v.op_start, true);
  dv.setUint32(12, v.n_ops, true);
  return buf;
}

export function decodeXswRule(buf: Uint8Array, off = 0): XswRule {
  if (buf.length - off < 16) throw new RangeError('xsw_rule: need 16 bytes, have ' + (buf.length - off));
  const dv = new DataView(buf.buffer, buf.byteOffset + off, 16);
  return {
    priority: dv.getUint32(0, true),
    rule_id: dv.getUint32(4, true),
    op_start: dv.getUint32(8, true),
    n_ops: dv.getUint32(12, true),
  };
}

export interface XswOp {
  code: number; // enum xsw_op_code
  cond: number; // enum xsw_op_cond: the op applies only to frames that have the field
  len: number; // SET_FIELD: bytes of val to write into the key; CT: zone
  arg: number; // OUTPUT: OpenFlow port; SET_FIELD: key offset; GOTO, CT: table; PUSH_VLAN: TPID; UPCALL: reason
  val: Uint8Array; // SET_FIELD: the value (network order); WRITE_METADATA: value(8) then mask(8), host order
}

export const XSW_OP_SIZE = 24;

export function encodeXswOp(v: XswOp, buf: Buffer = Buffer.alloc(24), off = 0): Buffer {
  const dv = new DataView(buf.buffer, buf.byteOffset + off, 24);
  dv.setUint8(0, v.code);
  dv.setUint8(1, v.cond);
  dv.setUint16(2, v.len, true);
  dv.setUint32(4, v.arg, true);
  buf.set(v.val.subarray(0, 16), off + 8);
  return buf;
}

export function decodeXswOp(buf: Uint8Array, off = 0): XswOp {
  if (buf.length - off < 24) throw new RangeError('xsw_op: need 24 bytes, have ' + (buf.length - off));
  const dv = new DataView(buf.buffer, buf.byteOffset + off, 24);
  return {
    code: dv.getUint8(0),
    cond: dv.getUint8(1),
    len: dv.getUint16(2, true),
    arg: dv.getUint32(4, true),
    val: buf.slice(off + 8, off + 24),
  };
}

export interface XswOfport {
  ifindex: number; // the device behind the OpenFlow port
  config: number; // OFPPC_* bits: NO_FWD and PORT_DOWN drop its output
}

export const XSW_OFPORT_SIZE = 8;

export function encodeXswOfport(v: XswOfport, buf: Buffer = Buffer.alloc(8), off = 0): Buffer {
  const dv = new DataView(buf.buffer, buf.byteOffset + off, 8);
  dv.setUint32(0, v.ifindex, true);
  dv.setUint32(4, v.config, true);
  return buf;
}

export function decodeXswOfport(buf: Uint8Array, off = 0): XswOfport {
  if (buf.length - off < 8) throw new RangeError('xsw_ofport: need 8 bytes, have ' + (buf.length - off));
  const dv = new DataView(buf.buffer, buf.byteOffset + off, 8);
  return {
    ifindex: dv.getUint32(0, true),
    config: dv.getUint32(4, true),
  };
}

export interface XswRuleStats {
  packets: bigint;
  bytes: bigint;
  last_used: bigint; // bpf_ktime_get_ns() of the last hit
}

export const XSW_RULE_STATS_SIZE = 24;

export function encodeXswRuleStats(v: XswRuleStats, buf: Buffer = Buffer.alloc(24), off = 0): Buffer {
  const dv = new DataView(buf.buffer, buf.byteOffset + off, 24);
  dv.setBigUint64(0, v.packets, true);
  dv.setBigUint64(8, v.bytes, true);
  dv.setBigUint64(16, v.last_used, true);
  return buf;
}

export function decodeXswRuleStats(buf: Uint8Array, off = 0): XswRuleStats {
  if (buf.length - off < 24) throw new RangeError('xsw_rule_stats: need 24 bytes, have ' + (buf.length - off));
  const dv = new DataView(buf.buffer, buf.byteOffset + off, 24);
  return {
    packets: dv.getBigUint64(0, true),
    bytes: dv.getBigUint64(8, true),
    last_used: dv.getBigUint64(16, true),
  };
}

export interface XswTableStats {
  lookups: bigint; // packets the fast path looked up in the table
  matched: bigint; // of those, packets that hit a rule
}

export const XSW_TABLE_STATS_SIZE = 16;

export function encodeXswTableStats(v: XswTableStats, buf: Buffer = Buffer.alloc(16), off = 0): Buffer {
  const dv = new DataView(buf.buffer, buf.byteOffset + off, 16);
  dv.setBigUint64(0, v.lookups, true);
  dv.setBigUint64(8, v.matched, true);
  return buf;
}

export function decodeXswTableStats(buf: Uint8Array, off = 0): XswTableStats {
  if (buf.length - off < 16) throw new RangeError('xsw_table_stats: need 16 bytes, have ' + (buf.length - off));
  const dv = new DataView(buf.buffer, buf.byteOffset + off, 16);
  return {
    lookups: dv.getBigUint64(0, true),
    matched: dv.getBigUint64(8, true),
  };
}

export interface XswEmcConfig {
  n_words: number; // words in use; 0: the cache is off (more words than EMC_WORDS)
  reserved: number; // written as zero
  words: number[]; // index of the 8-byte key word
  masks: bigint[]; // bits of that word the key keeps (unused words: 0)
}

export const XSW_EMC_CONFIG_SIZE = 104;

export function encodeXswEmcConfig(v: XswEmcConfig, buf: Buffer = Buffer.alloc(104), off = 0): Buffer {
  const dv = new DataView(buf.buffer, buf.byteOffset + off, 104);
  dv.setUint32(0, v.n_words, true);
  dv.setUint32(4, v.reserved, true);
  for (let i = 0; i < 8; i++) dv.setUint32(8 + i * 4, v.words[i] ?? 0, true);
  for (let i = 0; i < 8; i++) dv.setBigUint64(40 + i * 8, v.masks[i] ?? 0, true);
  return buf;
}

export function decodeXswEmcConfig(buf: Uint8Array, off = 0): XswEmcConfig {
  if (buf.length - off < 104) throw new RangeError('xsw_emc_config: need 104 bytes, have ' + (buf.length - off));
  const dv = new DataView(buf.buffer, buf.byteOffset + off, 104);
  return {
    n_words: dv.getUint32(0, true),
    reserved: dv.getUint32(4, true),
    words: Array.from({ length: 8 }, (_, i) => dv.getUint32(8 + i * 4, true)),
    masks: Array.from({ length: 8 }, (_, i) => dv.getBigUint64(40 + i * 8, true)),
  };
}

export interface XswEmcEntry {
  key: bigint[]; // the masked key words
  hops: number[]; // per table visited: table id | XSW_TABLE_MATCHED (1 << 31), rule_id, op_start, n_ops (the ops run again on each hit: they read the frame)
  gen: number; // xsw_emc_gen when the walk ran; any other value is stale (0: empty)
  n_hops: number;
}

export const XSW_EMC_ENTRY_SIZE = 136;

export function encodeXswEmcEntry(v: XswEmcEntry, buf: Buffer = Buffer.alloc(136), off = 0): Buffer {
  const dv = new DataView(buf.buffer, buf.byteOffset + off, 136);
  for (let i = 0; i < 8; i++) dv.setBigUint64(0 + i * 8, v.key[i] ?? 0, true);
  for (let i = 0; i < 16; i++) dv.setUint32(64 + i * 4, v.hops[i] ?? 0, true);
  dv.setUint32(128, v.gen, true);
  dv.setUint32(132, v.n_hops, true);
  return buf;
}

export function decodeXswEmcEntry(buf: Uint8Array, off = 0): XswEmcEntry {
  if (buf.length - off < 136) throw new RangeError('xsw_emc_entry: need 136 bytes, have ' + (buf.length - off));
  const dv = new DataView(buf.buffer, buf.byteOffset + off, 136);
  return {
    key: Array.from({ length: 8 }, (_, i) => dv.getBigUint64(0 + i * 8, true)),
    hops: Array.from({ length: 16 }, (_, i) => dv.getUint32(64 + i * 4, true)),
    gen: dv.getUint32(128, true),
    n_hops: dv.getUint32(132, true),
  };
}

export interface XswMeter {
  lock: number; // taken by the datapath around the buckets
  flags: number; // OFPMF_* (KBPS 1, PKTPS 2, BURST 4, STATS 8)
  n_bands: number;
  reserved: number; // written as zero
  last_ns: bigint; // bpf_ktime_get_ns() of the last packet; 0: buckets untouched since written
  packets: bigint; // packets metered by the datapath (packet_in_count)
  bytes: bigint;
  reserved2: bigint; // written as zero
  band_type: number[]; // OFPMBT_DROP (1) or OFPMBT_DSCP_REMARK (2)
  band_rate: number[]; // kb/s or packet/s, per flags
  band_prec_level: number[]; // DSCP_REMARK: raise DSCP by 2 × prec_level (at most 63)
  band_capacity: bigint[]; // bucket depth, scaled
  band_tokens: bigint[]; // bucket content, scaled
  band_packets: bigint[]; // packets that exceeded the band (packet_band_count)
  band_bytes: bigint[];
  reserved3: bigint; // written as zero
}

export const XSW_METER_SIZE = 408;

export function encodeXswMeter(v: XswMeter, buf: Buffer = Buffer.alloc(408), off = 0): Buffer {
  const dv = new DataView(buf.buffer, buf.byteOffset + off, 408);
  dv.setUint32(0, v.lock, true);
  dv.setUint32(4, v.flags, true);
  dv.setUint32(8, v.n_bands, true);
  dv.setUint32(12, v.reserved, true);
  dv.setBigUint64(16, v.last_ns, true);
  dv.setBigUint64(24, v.packets, true);
  dv.setBigUint64(32, v.bytes, true);
  dv.setBigUint64(40, v.reserved2, true);
  for (let i = 0; i < 8; i++) dv.setUint32(48 + i * 4, v.band_type[i] ?? 0, true);
  for (let i = 0; i < 8; i++) dv.setUint32(80 + i * 4, v.band_rate[i] ?? 0, true);
  for (let i = 0; i < 8; i++) dv.setUint32(112 + i * 4, v.band_prec_level[i] ?? 0, true);
  for (let i = 0; i < 8; i++) dv.setBigUint64(144 + i * 8, v.band_capacity[i] ?? 0, true);
  for (let i = 0; i < 8; i++) dv.setBigUint64(208 + i * 8, v.band_tokens[i] ?? 0, true);
  for (let i = 0; i < 8; i++) dv.setBigUint64(272 + i * 8, v.band_packets[i] ?? 0, true);
  for (let i = 0; i < 8; i++) dv.setBigUint64(336 + i * 8, v.band_bytes[i] ?? 0, true);
  dv.setBigUint64(400, v.reserved3, true);
  return buf;
}

export function decodeXswMeter(buf: Uint8Array, off = 0): XswMeter {
  if (buf.length - off < 408) throw new RangeError('xsw_meter: need 408 bytes, have ' + (buf.length - off));
  const dv = new DataView(buf.buffer, buf.byteOffset + off, 408);
  return {
    lock: dv.getUint32(0, true),
    flags: dv.getUint32(4, true),
    n_bands: dv.getUint32(8, true),
    reserved: dv.getUint32(12, true),
    last_ns: dv.getBigUint64(16, true),
    packets: dv.getBigUint64(24, true),
    bytes: dv.getBigUint64(32, true),
    reserved2: dv.getBigUint64(40, true),
    band_type: Array.from({ length: 8 }, (_, i) => dv.getUint32(48 + i * 4, true)),
    band_rate: Array.from({ length: 8 }, (_, i) => dv.getUint32(80 + i * 4, true)),
    band_prec_level: Array.from({ length: 8 }, (_, i) => dv.getUint32(112 + i * 4, true)),
    band_capacity: Array.from({ length: 8 }, (_, i) => dv.getBigUint64(144 + i * 8, true)),
    band_tokens: Array.from({ length: 8 }, (_, i) => dv.getBigUint64(208 + i * 8, true)),
    band_packets: Array.from({ length: 8 }, (_, i) => dv.getBigUint64(272 + i * 8, true)),
    band_bytes: Array.from({ length: 8 }, (_, i) => dv.getBigUint64(336 + i * 8, true)),
    reserved3: dv.getBigUint64(400, true),
  };
}

export interface XswGroupStats {
  packets: bigint; // packets the fast path ran through the group
  bytes: bigint;
}

export const XSW_GROUP_STATS_SIZE = 16;

export function encodeXswGroupStats(v: XswGroupStats, buf: Buffer = Buffer.alloc(16), off = 0): Buffer {
  const dv = new DataView(buf.buffer, buf.byteOffset + off, 16);
  dv.setBigUint64(0, v.packets, true);
  dv.setBigUint64(8, v.bytes, true);
  return buf;
}

export function decodeXswGroupStats(buf: Uint8Array, off = 0): XswGroupStats {
  if (buf.length - off < 16) throw new RangeError('xsw_group_stats: need 16 bytes, have ' + (buf.length - off));
  const dv = new DataView(buf.buffer, buf.byteOffset + off, 16);
  return {
    packets: dv.getBigUint64(0, true),
    bytes: dv.getBigUint64(8, true),
  };
}

export interface XswMacKey {
  mac: Uint8Array; // Ethernet address
  vlan: number; // VLAN the address was seen in (0: untagged), host order
}

export const XSW_MAC_KEY_SIZE = 8;

export function encodeXswMacKey(v: XswMacKey, buf: Buffer = Buffer.alloc(8), off = 0): Buffer {
  const dv = new DataView(buf.buffer, buf.byteOffset + off, 8);
  buf.set(v.mac.subarray(0, 6), off + 0);
  dv.setUint16(6, v.vlan, true);
  return buf;
}

export function decodeXswMacKey(buf: Uint8Array, off = 0): XswMacKey {
  if (buf.length - off < 8) throw new RangeError('xsw_mac_key: need 8 bytes, have ' + (buf.length - off));
  const dv = new DataView(buf.buffer, buf.byteOffset + off, 8);
  return {
    mac: buf.slice(off + 0, off + 6),
    vlan: dv.getUint16(6, true),
  };
}

export interface XswMacEntry {
  ofport: number; // OpenFlow port the address was last seen on
  ifindex: number; // its device then: an entry whose port number now names another device is unknown
  seen_ns: bigint; // bpf_ktime_get_coarse_ns() when last seen (refreshed at most once a second)
}

export const XSW_MAC_ENTRY_SIZE = 16;

export function encodeXswMacEntry(v: XswMacEntry, buf: Buffer = Buffer.alloc(16), off = 0): Buffer {
  const dv = new DataView(buf.buffer, buf.byteOffset + off, 16);
  dv.setUint32(0, v.ofport, true);
  dv.setUint32(4, v.ifindex, true);
  dv.setBigUint64(8, v.seen_ns, true);
  return buf;
}

export function decodeXswMacEntry(buf: Uint8Array, off = 0): XswMacEntry {
  if (buf.length - off < 16) throw new RangeError('xsw_mac_entry: need 16 bytes, have ' + (buf.length - off));
  const dv = new DataView(buf.buffer, buf.byteOffset + off, 16);
  return {
    ofport: dv.getUint32(0, true),
    ifindex: dv.getUint32(4, true),
    seen_ns: dv.getBigUint64(8, true),
  };
}

export interface XswNormalConfig {
  enabled: number; // 1: NORMAL runs in the fast path; 0: every NORMAL frame goes to the slow path
  aging_sec: number; // an entry older than this is unknown (OVS mac-aging-time, default 300)
}

export const XSW_NORMAL_CONFIG_SIZE = 8;

export function encodeXswNormalConfig(v: XswNormalConfig, buf: Buffer = Buffer.alloc(8), off = 0): Buffer {
  const dv = new DataView(buf.buffer, buf.byteOffset + off, 8);
  dv.setUint32(0, v.enabled, true);
  dv.setUint32(4, v.aging_sec, true);
  return buf;
}

export function decodeXswNormalConfig(buf: Uint8Array, off = 0): XswNormalConfig {
  if (buf.length - off < 8) throw new RangeError('xsw_normal_config: need 8 bytes, have ' + (buf.length - off));
  const dv = new DataView(buf.buffer, buf.byteOffset + off, 8);
  return {
    enabled: dv.getUint32(0, true),
    aging_sec: dv.getUint32(4, true),
  };
}

export interface XswNormalPort {
  mode: number; // enum xsw_vlan_mode
  tag: number; // Port tag (0: none)
  trunks: bigint[]; // bit v of word v / 64: the port carries VLAN v as a trunk
}

export const XSW_NORMAL_PORT_SIZE = 520;

export function encodeXswNormalPort(v: XswNormalPort, buf: Buffer = Buffer.alloc(520), off = 0): Buffer {
  const dv = new DataView(buf.buffer, buf.byteOffset + off, 520);
  dv.setUint32(0, v.mode, true);
  dv.setUint32(4, v.tag, true);
  for (let i = 0; i < 64; i++) dv.setBigUint64(8 + i * 8, v.trunks[i] ?? 0, true);
  return buf;
}

export function decodeXswNormalPort(buf: Uint8Array, off = 0): XswNormalPort {
  if (buf.length - off < 520) throw new RangeError('xsw_normal_port: need 520 bytes, have ' + (buf.length - off));
  const dv = new DataView(buf.buffer, buf.byteOffset + off, 520);
  return {
    mode: dv.getUint32(0, true),
    tag: dv.getUint32(4, true),
    trunks: Array.from({ length: 64 }, (_, i) => dv.getBigUint64(8 + i * 8, true)),
  };
}

export interface MapSpec {
  type: string;
  maxEntries: number;
  keySize: number;
  valueSize: number;
  perCpu: boolean;
}

export const maps = {
  xsw_ports: { type: 'HASH', maxEntries: 1024, keySize: 4, valueSize: 16, perCpu: false }, // ingress ifindex → port config
  xsw_tx_ports: { type: 'DEVMAP_HASH', maxEntries: 1024, keySize: 4, valueSize: 4, perCpu: false }, // ifindex → ifindex, XDP redirect targets
  xsw_port_stats: { type: 'PERCPU_HASH', maxEntries: 1024, keySize: 4, valueSize: 48, perCpu: true }, // ifindex → per-CPU counters (ports without a slot)
  xsw_port_slots: { type: 'PERCPU_ARRAY', maxEntries: 1024, keySize: 4, valueSize: 56, perCpu: true }, // OpenFlow port → per-CPU counters of the pipeline ports numbered below PORT_SLOTS
  xsw_upcalls: { type: 'RINGBUF', maxEntries: 4194304, keySize: 0, valueSize: 0, perCpu: false }, // struct xsw_upcall records for userspace
  xsw_tables: { type: 'ARRAY', maxEntries: 256, keySize: 4, valueSize: 264, perCpu: false }, // table_id → masks in use
  xsw_masks: { type: 'ARRAY', maxEntries: 4096, keySize: 4, valueSize: 160, perCpu: false }, // mask_id → mask over the flow key
  xsw_rules: { type: 'HASH', maxEntries: 262144, keySize: 168, valueSize: 16, perCpu: false }, // (table, mask, masked key) → rule
  xsw_ops: { type: 'ARRAY', maxEntries: 524288, keySize: 4, valueSize: 24, perCpu: false }, // action programs, a run of ops per rule
  xsw_ofports: { type: 'HASH', maxEntries: 1024, keySize: 4, valueSize: 8, perCpu: false }, // OpenFlow port → device
  xsw_rule_stats: { type: 'PERCPU_ARRAY', maxEntries: 262144, keySize: 4, valueSize: 24, perCpu: true }, // rule_id → per-CPU counters
  xsw_table_stats: { type: 'PERCPU_ARRAY', maxEntries: 256, keySize: 4, valueSize: 16, perCpu: true }, // table_id → per-CPU lookup counters
  xsw_emc_config: { type: 'ARRAY', maxEntries: 2, keySize: 4, valueSize: 104, perCpu: false }, // gen & 1 → what the cache keys on
  xsw_emc_gen: { type: 'ARRAY', maxEntries: 1, keySize: 4, valueSize: 4, perCpu: false }, // 0 → generation of the flow tables, bumped last by every change
  xsw_meters: { type: 'HASH', maxEntries: 4096, keySize: 4, valueSize: 408, perCpu: false }, // meter_id → bands and token buckets
  xsw_group_stats: { type: 'PERCPU_HASH', maxEntries: 4096, keySize: 4, valueSize: 16, perCpu: true }, // group_id → per-CPU counters of the fast path (the compiler deletes them when it writes the group)
  xsw_emc: { type: 'PERCPU_ARRAY', maxEntries: 32768, keySize: 4, valueSize: 136, perCpu: true }, // exact-match cache: hash of the masked key → cached walk
  xsw_macs: { type: 'LRU_HASH', maxEntries: 8192, keySize: 8, valueSize: 16, perCpu: false }, // (MAC, VLAN) → port the address was seen on
  xsw_normal_ports: { type: 'HASH', maxEntries: 1024, keySize: 4, valueSize: 520, perCpu: false }, // OpenFlow port → its VLAN config, for the ports that have one
  xsw_normal_config: { type: 'ARRAY', maxEntries: 1, keySize: 4, valueSize: 8, perCpu: false }, // 0 → whether and how NORMAL runs in the fast path
} as const satisfies Record<string, MapSpec>;
