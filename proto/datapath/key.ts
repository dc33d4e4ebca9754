// The flow key: every field the parser extracts from a frame, laid out once for the
// BPF parser, the tuple-space tables (masked keys are hash keys) and the compiler that
// turns OpenFlow matches into masked keys. Packet fields keep network byte order, so a
// match value is copied from the OXM bytes as is; port and metadata are host order.
import { array, be16, be32, cenum, cstruct, u16, u32, u64, u8 } from '../lib/cstruct.js';

/** Bits of flow_key.vlan_tci besides VID and PCP: set when the frame has the tag. */
export const VLAN_PRESENT = 0x1000;

export const ipFrag = cenum(
  'xsw_ip_frag',
  {
    XSW_FRAG_ANY: 1, // the packet is a fragment (OVS nw_frag "yes")
    XSW_FRAG_LATER: 2, // and not the first one: it has no L4 header
  },
  'flow_key.ip_frag bits',
);

export const flowKey = cstruct('xsw_flow_key', 160, [
  ['in_port', u32, 'OpenFlow ingress port number, host order'],
  ['recirc_id', u32, '0 on the first pass, host order'],
  ['metadata', u64, 'OpenFlow metadata, host order'],
  ['tunnel_id', u64, 'host order'],
  ['eth_dst', array(u8, 6)],
  ['eth_src', array(u8, 6)],
  ['eth_type', be16, 'innermost ethertype, after the VLAN tags'],
  ['vlan_tci', be16, 'outer tag: PCP(3) | present(1, in CFI position) | VID(12); 0 when untagged'],
  ['vlan_tpid', be16, 'outer tag TPID (0x8100 or 0x88a8)'],
  ['vlan2_tci', be16, 'inner tag, same form as vlan_tci'],
  ['ip_proto', u8, 'IPv4 protocol / IPv6 next header of the L4 header'],
  ['ip_tos', u8, 'DSCP(6) | ECN(2); IPv6 traffic class'],
  ['ip_ttl', u8, 'TTL / hop limit'],
  ['ip_frag', u8, 'enum xsw_ip_frag bits'],
  ['ipv4_src', be32, 'also ARP SPA'],
  ['ipv4_dst', be32, 'also ARP TPA'],
  ['tp_src', be16, 'TCP/UDP/SCTP source port; ICMP/ICMPv6 type in the low byte'],
  ['tp_dst', be16, 'TCP/UDP/SCTP destination port; ICMP/ICMPv6 code in the low byte'],
  ['tcp_flags', be16, 'low 12 bits of the TCP header flags word'],
  ['arp_op', be16],
  ['arp_sha', array(u8, 6), 'also ND source link-layer address'],
  ['arp_tha', array(u8, 6), 'also ND target link-layer address'],
  ['ipv6_label', be32, 'low 20 bits'],
  ['ipv6_src', array(u8, 16)],
  ['ipv6_dst', array(u8, 16)],
  ['nd_target', array(u8, 16)],
  ['mpls_lse', be32, 'top label stack entry: label(20) | TC(3) | BOS(1) | TTL(8)'],
  ['ipv6_exthdr', u16, 'OFPIEH_* bits, host order'],
  ['ct_zone', u16, 'host order'],
  ['ct_state', u32, 'OVS CS_* bits, host order'],
  ['ct_mark', u32, 'host order'],
  ['ct_label', array(u8, 16)],
]);
