/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Frame parser: fills struct xsw_flow_key once per packet, for XDP and TC alike.
 *
 * Contract of every parse_* helper: it reads the header at c->data + c->off, checks
 * each read against c->end first, stores what it found in the key, advances c->off
 * past the header and returns the next protocol (an ethertype or an IP protocol
 * number), or -1 when the frame ends inside the header. A -1 leaves the fields parsed
 * so far in the key; the caller stops there, as OVS's flow extraction does.
 *
 * The position is a scalar offset, masked after every variable-length step, not a
 * packet pointer: offsets reached by different paths then fall in one range and the
 * verifier prunes them as one state, where pointers with different ranges would each
 * be explored again (the IPv6 extension-header walk made that exceed 1M insns). */
#pragma once

#include "vmlinux.h"
#include <bpf/bpf_endian.h>

#include "gen/maps.h"

#define ETH_P_IP 0x0800
#define ETH_P_ARP 0x0806
#define ETH_P_8021Q 0x8100
#define ETH_P_8021AD 0x88A8
#define ETH_P_IPV6 0x86DD
#define ETH_P_MPLS_UC 0x8847
#define ETH_P_MPLS_MC 0x8848
#define ETH_P_802_3_MIN 0x0600

#define IPPROTO_HOPOPTS 0
#define IPPROTO_ICMP 1
#define IPPROTO_TCP 6
#define IPPROTO_UDP 17
#define IPPROTO_ROUTING 43
#define IPPROTO_FRAGMENT 44
#define IPPROTO_ESP 50
#define IPPROTO_AH 51
#define IPPROTO_ICMPV6 58
#define IPPROTO_NONE 59
#define IPPROTO_DSTOPTS 60
#define IPPROTO_SCTP 132

#define XSW_VLAN_PRESENT 0x1000
#define XSW_IP_MF 0x2000
#define XSW_IP_OFFSET 0x1fff

/* OFPIEH_* (OpenFlow 1.3 §7.2.3.8), for flow_key.ipv6_exthdr. */
#define OFPIEH_NONEXT (1 << 0)
#define OFPIEH_ESP (1 << 1)
#define OFPIEH_AUTH (1 << 2)
#define OFPIEH_DEST (1 << 3)
#define OFPIEH_FRAG (1 << 4)
#define OFPIEH_ROUTER (1 << 5)
#define OFPIEH_HOP (1 << 6)
#define OFPIEH_UNREP (1 << 7)
#define OFPIEH_UNSEQ (1 << 8)

/* IPv6 extension headers followed before giving up; more is rare and passes unparsed. */
#define XSW_MAX_EXTHDRS 6

/* Headers are parsed within the first XSW_PARSE_SPAN bytes (a power of two). */
#define XSW_PARSE_SPAN 512

struct xsw_cursor {
	void *data;
	void *end;
	__u32 off;
	__u32 l3; /* offset of the L3 header, once parse_eth found it */
	__s32 l4; /* offset of the L4 header, -1 until found */
};

/* The header at the cursor as `type *var`, or return -1 if the frame ends first. */
#define XSW_AT(c, type, var)                                                                       \
	type *var = (c)->data + ((c)->off & (XSW_PARSE_SPAN - 1));                                 \
	if ((void *)(var + 1) > (c)->end)                                                          \
		return -1

#define XSW_PULL(c, type, var)                                                                     \
	XSW_AT(c, type, var);                                                                      \
	(c)->off = ((c)->off + sizeof(type)) & (XSW_PARSE_SPAN - 1)

static __always_inline int xsw_skip(struct xsw_cursor *c, __u32 len)
{
	c->off = (c->off + len) & (XSW_PARSE_SPAN - 1);
	return c->data + c->off > c->end ? -1 : 0;
}

static __always_inline void xsw_mac_copy(__u8 *dst, const __u8 *src)
{
	__builtin_memcpy(dst, src, 6);
}

/* VLAN tags parsed: OVS's other_config:vlan-limit, 1 by default. Past the limit the
 * next tag's TPID is the ethertype and the frame is not parsed further. Set at load. */
const volatile __u32 xsw_vlan_limit = 1;

/* Ethernet with up to two VLAN tags (802.1Q or 802.1ad outer). Returns the inner
 * ethertype; frames with a length field (802.3) report 0x05ff, as OVS does. */
static __always_inline int parse_eth(struct xsw_cursor *c, struct xsw_flow_key *k)
{
	XSW_PULL(c, struct ethhdr, eth);
	__be16 proto = eth->h_proto;

	xsw_mac_copy(k->eth_dst, eth->h_dest);
	xsw_mac_copy(k->eth_src, eth->h_source);
	/* Outer tag, then at most one inner (802.1Q in 802.1ad, or double 802.1Q). */
	if (proto == bpf_htons(ETH_P_8021Q) || proto == bpf_htons(ETH_P_8021AD)) {
		XSW_PULL(c, struct vlan_hdr, v);
		k->vlan_tpid = proto;
		k->vlan_tci = v->h_vlan_TCI | bpf_htons(XSW_VLAN_PRESENT);
		proto = v->h_vlan_encapsulated_proto;
		if (xsw_vlan_limit > 1 &&
		    (proto == bpf_htons(ETH_P_8021Q) || proto == bpf_htons(ETH_P_8021AD))) {
			XSW_PULL(c, struct vlan_hdr, v2);
			k->vlan2_tci = v2->h_vlan_TCI | bpf_htons(XSW_VLAN_PRESENT);
			proto = v2->h_vlan_encapsulated_proto;
		}
	}
	if (bpf_ntohs(proto) < ETH_P_802_3_MIN)
		proto = bpf_htons(0x05ff);
	k->eth_type = proto;
	return bpf_ntohs(proto);
}

static __always_inline int parse_arp(struct xsw_cursor *c, struct xsw_flow_key *k)
{
	/* Ethernet/IPv4 ARP only: hardware type 1, protocol 0x0800, lengths 6 and 4. */
	struct arp_eth {
		__be16 hrd, pro;
		__u8 hln, pln;
		__be16 op;
		__u8 sha[6];
		__be32 spa;
		__u8 tha[6];
		__be32 tpa;
	} __attribute__((packed));
	XSW_PULL(c, struct arp_eth, a);

	if (a->hrd != bpf_htons(1) || a->pro != bpf_htons(ETH_P_IP) || a->hln != 6 || a->pln != 4)
		return -1;
	if (bpf_ntohs(a->op) <= 0xff)
		k->arp_op = a->op;
	k->ipv4_src = a->spa;
	k->ipv4_dst = a->tpa;
	xsw_mac_copy(k->arp_sha, a->sha);
	xsw_mac_copy(k->arp_tha, a->tha);
	return 0;
}

static __always_inline int parse_ipv4(struct xsw_cursor *c, struct xsw_flow_key *k)
{
	XSW_AT(c, struct iphdr, ip);
	__u32 hlen = ip->ihl * 4;

	if (hlen < sizeof(*ip) || xsw_skip(c, hlen))
		return -1;
	k->ipv4_src = ip->saddr;
	k->ipv4_dst = ip->daddr;
	k->ip_proto = ip->protocol;
	k->ip_tos = ip->tos;
	k->ip_ttl = ip->ttl;
	if (ip->frag_off & bpf_htons(XSW_IP_MF | XSW_IP_OFFSET)) {
		k->ip_frag = XSW_FRAG_ANY;
		if (ip->frag_off & bpf_htons(XSW_IP_OFFSET)) {
			k->ip_frag |= XSW_FRAG_LATER;
			return -1; /* no L4 header in a later fragment */
		}
	}
	return ip->protocol;
}

static __always_inline int parse_ipv6(struct xsw_cursor *c, struct xsw_flow_key *k)
{
	XSW_PULL(c, struct ipv6hdr, ip6);
	__u8 next = ip6->nexthdr;

	__builtin_memcpy(k->ipv6_src, &ip6->saddr, 16);
	__builtin_memcpy(k->ipv6_dst, &ip6->daddr, 16);
	k->ip_tos = (ip6->priority << 4) | (ip6->flow_lbl[0] >> 4);
	k->ipv6_label = bpf_htonl(((__u32)(ip6->flow_lbl[0] & 0x0f) << 16) |
				  ((__u32)ip6->flow_lbl[1] << 8) | ip6->flow_lbl[2]);
	k->ip_ttl = ip6->hop_limit;
	k->ip_proto = next;

	/* Bounded: XSW_MAX_EXTHDRS headers, each checked against end. The headers seen
	 * accumulate in the key, not in a register: a register holding a different set of
	 * bits on each path would keep the verifier from merging the paths. */
	for (int i = 0; i < XSW_MAX_EXTHDRS; i++) {
		struct ipv6_opt_hdr *opt;
		__u16 bit;
		__u32 len;

		switch (next) {
		case IPPROTO_HOPOPTS:
			bit = OFPIEH_HOP;
			break;
		case IPPROTO_ROUTING:
			bit = OFPIEH_ROUTER;
			break;
		case IPPROTO_DSTOPTS:
			bit = OFPIEH_DEST;
			break;
		case IPPROTO_AH:
			bit = OFPIEH_AUTH;
			break;
		case IPPROTO_FRAGMENT:
			bit = OFPIEH_FRAG;
			break;
		case IPPROTO_ESP:
			k->ipv6_exthdr |= OFPIEH_ESP;
			return next;
		case IPPROTO_NONE:
			k->ipv6_exthdr |= OFPIEH_NONEXT;
			return next;
		default:
			return next;
		}
		if (k->ipv6_exthdr & bit)
			k->ipv6_exthdr |= OFPIEH_UNREP;
		k->ipv6_exthdr |= bit;
		opt = c->data + (c->off & (XSW_PARSE_SPAN - 1));
		if ((void *)(opt + 1) > c->end)
			return -1;
		if (next == IPPROTO_FRAGMENT) {
			struct frag_hdr *fh = (void *)opt;

			if ((void *)(fh + 1) > c->end)
				return -1;
			k->ip_frag = XSW_FRAG_ANY;
			if (fh->frag_off & bpf_htons(0xfff8))
				k->ip_frag |= XSW_FRAG_LATER;
			len = sizeof(*fh);
		} else {
			/* AH counts its length in 4-byte units (minus 2), the others in 8-byte units. */
			len = next == IPPROTO_AH ? (opt->hdrlen + 2) * 4 : (opt->hdrlen + 1) * 8;
		}
		next = opt->nexthdr;
		k->ip_proto = next;
		if (k->ip_frag & XSW_FRAG_LATER)
			return -1; /* no L4 header in a later fragment */
		if (xsw_skip(c, len))
			return -1;
	}
	return next;
}

static __always_inline int parse_l4(struct xsw_cursor *c, struct xsw_flow_key *k, int proto)
{
	switch (proto) {
	case IPPROTO_TCP: {
		XSW_PULL(c, struct tcphdr, th);
		k->tp_src = th->source;
		k->tp_dst = th->dest;
		/* The 12 flag bits after the data offset nibble. */
		k->tcp_flags = ((__be16 *)th)[6] & bpf_htons(0x0fff);
		return 0;
	}
	case IPPROTO_UDP: {
		XSW_PULL(c, struct udphdr, uh);
		k->tp_src = uh->source;
		k->tp_dst = uh->dest;
		return 0;
	}
	case IPPROTO_SCTP: {
		struct sctp_ports {
			__be16 src, dst;
		};
		XSW_PULL(c, struct sctp_ports, sh);
		k->tp_src = sh->src;
		k->tp_dst = sh->dst;
		return 0;
	}
	case IPPROTO_ICMP:
	case IPPROTO_ICMPV6: {
		struct icmp_tc {
			__u8 type, code;
			__be16 csum;
		};
		XSW_PULL(c, struct icmp_tc, ic);
		k->tp_src = bpf_htons(ic->type);
		k->tp_dst = bpf_htons(ic->code);
		return proto == IPPROTO_ICMPV6 ? ic->type : 0;
	}
	}
	return 0;
}

/* ICMPv6 neighbour solicitation (135) / advertisement (136): target and the first
 * source / target link-layer address option. Returns 0, or -1 on a malformed option. */
static __always_inline int parse_nd(struct xsw_cursor *c, struct xsw_flow_key *k, int icmp_type)
{
	struct nd_body {
		__be32 reserved;
		__u8 target[16];
	};
	struct nd_opt {
		__u8 type, len;
		__u8 mac[6];
	};

	if (icmp_type != 135 && icmp_type != 136)
		return 0;
	XSW_PULL(c, struct nd_body, nd);
	__builtin_memcpy(k->nd_target, nd->target, 16);
	/* Options: bounded walk; OVS takes the first SLL (in NS) or TLL (in NA). */
	for (int i = 0; i < 4; i++) {
		struct nd_opt *o = c->data + (c->off & (XSW_PARSE_SPAN - 1));

		if ((void *)(o + 1) > c->end)
			return 0;
		if (o->len == 0)
			return -1;
		if (o->type == 1 && icmp_type == 135 && o->len == 1)
			xsw_mac_copy(k->arp_sha, o->mac);
		else if (o->type == 2 && icmp_type == 136 && o->len == 1)
			xsw_mac_copy(k->arp_tha, o->mac);
		if (xsw_skip(c, o->len * 8))
			return 0;
	}
	return 0;
}

/* The whole frame into the key: L2, then L3 by ethertype, then L4; c->l3 and c->l4
 * tell where those headers start, for the code that rewrites them. */
static __always_inline void xsw_parse(struct xsw_cursor *c, struct xsw_flow_key *k)
{
	int proto = parse_eth(c, k);

	c->l3 = c->off;
	c->l4 = -1;

	switch (proto) {
	case ETH_P_IP:
		proto = parse_ipv4(c, k);
		if (proto >= 0) {
			c->l4 = c->off;
			parse_l4(c, k, proto);
		}
		break;
	case ETH_P_IPV6:
		proto = parse_ipv6(c, k);
		if (proto >= 0) {
			c->l4 = c->off;
			int t = parse_l4(c, k, proto);

			if (proto == IPPROTO_ICMPV6)
				parse_nd(c, k, t);
		}
		break;
	case ETH_P_ARP:
		parse_arp(c, k);
		break;
	case ETH_P_MPLS_UC:
	case ETH_P_MPLS_MC: {
		__be32 *lse = c->data + (c->off & (XSW_PARSE_SPAN - 1));

		if ((void *)(lse + 1) <= c->end)
			k->mpls_lse = *lse;
		break;
	}
	}
}
