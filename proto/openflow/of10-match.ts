// proto/openflow/of10-match.ts — OpenFlow 1.0's fixed ofp_match (§5.2.3) with its
// wildcard bits. src/openflow/of10.ts maps it to and from the OXM match of the model.
import { mac, pad, struct, u16, u32, u8, type ValueOf } from './struct.js';

/** ofp_flow_wildcards bits. NW_SRC/NW_DST hold a count of wildcarded low bits (>= 32: all). */
export const OFPFW10 = {
  IN_PORT: 1 << 0,
  DL_VLAN: 1 << 1,
  DL_SRC: 1 << 2,
  DL_DST: 1 << 3,
  DL_TYPE: 1 << 4,
  NW_PROTO: 1 << 5,
  TP_SRC: 1 << 6,
  TP_DST: 1 << 7,
  NW_SRC_SHIFT: 8,
  NW_DST_SHIFT: 14,
  /** Six bits each at the shifts above. */
  NW_BITS_MASK: 0x3f,
  DL_VLAN_PCP: 1 << 20,
  NW_TOS: 1 << 21,
  ALL: (1 << 22) - 1,
} as const;

/** dl_vlan value meaning "no VLAN tag". */
export const OFP10_VLAN_NONE = 0xffff;

export const match10 = struct('ofp_match', 40, [
  ['wildcards', u32], // OFPFW10 bits; bits above 21 are ignored on read, as OVS does
  ['in_port', u16], // 16-bit port number
  ['dl_src', mac],
  ['dl_dst', mac],
  ['dl_vlan', u16], // VLAN id, OFP10_VLAN_NONE for untagged
  ['dl_vlan_pcp', u8],
  pad(1),
  ['dl_type', u16],
  ['nw_tos', u8], // IP ToS: DSCP in the top 6 bits
  ['nw_proto', u8], // IP protocol, or the low 8 bits of the ARP opcode
  pad(2),
  ['nw_src', u32], // IPv4 (or ARP spa), host order number
  ['nw_dst', u32],
  ['tp_src', u16], // TCP/UDP/SCTP port, or ICMP type
  ['tp_dst', u16], // TCP/UDP/SCTP port, or ICMP code
]);
export type Match10 = ValueOf<typeof match10>;

/** The match that matches everything. */
export function matchAll10(): Match10 {
  return { wildcards: OFPFW10.ALL, in_port: 0, dl_src: '00:00:00:00:00:00', dl_dst: '00:00:00:00:00:00', dl_vlan: 0, dl_vlan_pcp: 0, dl_type: 0, nw_tos: 0, nw_proto: 0, nw_src: 0, nw_dst: 0, tp_src: 0, tp_dst: 0 };
}
