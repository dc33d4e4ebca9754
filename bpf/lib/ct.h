/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Tier 1 conntrack: the ct action for TCP and UDP answered in the fast path from the
 * kernel's own table, through the conntrack kfuncs (Linux 6.1+; zones 6.8+). Lookup
 * only: what it cannot answer returns XSW_CT_SLOW and the caller hands the packet to
 * the slow path, which commits (bpf/ct.bpf.c) into the same table:
 *   - no entry (a new connection, or one the slow path has yet to commit);
 *   - NAT (the rewrite is the slow path's);
 *   - not TCP/UDP over IPv4/IPv6, or a fragment.
 * ct_label lives in the slow path only: a pipeline matching it must not use this.
 * The first reply seen marks the entry replied (packets here never pass netfilter),
 * and each hit refreshes its timeout, as the kernel's own tracking would. */
#pragma once

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

#include "gen/maps.h"
#include "lib/parse.h"

#define XSW_CS_NEW 0x01
#define XSW_CS_ESTABLISHED 0x02
#define XSW_CS_REPLY_DIR 0x08
#define XSW_CS_TRACKED 0x20
#define XSW_CT_SLOW (-1)

#define XSW_CT_ZONE_DIR_BOTH 3 /* NF_CT_DEFAULT_ZONE_DIR */
#define XSW_CT_IPS_NAT_MASK (IPS_SRC_NAT | IPS_DST_NAT)
/* Idle timeouts (ms), Linux's defaults: TCP established, UDP stream, and unreplied. */
#define XSW_CT_TCP_EST_MS (5U * 24 * 3600 * 1000)
#define XSW_CT_UDP_STREAM_MS (120U * 1000)
#define XSW_CT_TCP_NEW_MS (120U * 1000)
#define XSW_CT_UDP_MS (30U * 1000)

/* Weak: the kfuncs live in nf_conntrack's BTF. Without that module loaded the
 * pipeline (bpf/xdpswitch.bpf.c) still loads; libbpf leaves these 0, the checks below
 * make every ct XSW_CT_SLOW, and the verifier drops the calls as dead code. */
struct nf_conn *bpf_xdp_ct_lookup(struct xdp_md *, struct bpf_sock_tuple *, __u32, struct bpf_ct_opts *, __u32) __ksym __weak;
struct nf_conn *bpf_skb_ct_lookup(struct __sk_buff *, struct bpf_sock_tuple *, __u32, struct bpf_ct_opts *, __u32) __ksym __weak;
void bpf_ct_release(struct nf_conn *) __ksym __weak;
int bpf_ct_change_timeout(struct nf_conn *, __u32) __ksym __weak;
int bpf_ct_change_status(struct nf_conn *, __u32) __ksym __weak;

/* Whether the kfuncs are there: nf_conntrack's BTF (built in, or its module loaded) has
 * struct nf_conn. A CO-RE relocation libbpf answers at load, so the calls are dead code
 * where it is absent. Not `!bpf_xdp_ct_lookup`: taking a kfunc's address is an ldimm64
 * the verifiers before 6.4 refuse ("invalid btf_id"), and the whole object with it. */
#define XSW_CT_KFUNCS bpf_core_type_exists(struct nf_conn)

/* The key's tuple for the kfuncs; its size, or 0 when the packet is not one tier 1 takes. */
static __always_inline __u32 xsw_ct_tuple(const struct xsw_flow_key *k, struct bpf_sock_tuple *t, struct bpf_ct_opts *o,
					  __u16 zone)
{
	if (k->ip_frag || (k->ip_proto != IPPROTO_TCP && k->ip_proto != IPPROTO_UDP))
		return 0;
	o->netns_id = -1;
	o->l4proto = k->ip_proto;
	o->ct_zone_id = zone;
	o->ct_zone_dir = XSW_CT_ZONE_DIR_BOTH;
	if (k->eth_type == bpf_htons(ETH_P_IP)) {
		t->ipv4.saddr = k->ipv4_src;
		t->ipv4.daddr = k->ipv4_dst;
		t->ipv4.sport = k->tp_src;
		t->ipv4.dport = k->tp_dst;
		return sizeof(t->ipv4);
	}
	if (k->eth_type == bpf_htons(ETH_P_IPV6)) {
		__builtin_memcpy(t->ipv6.saddr, k->ipv6_src, 16);
		__builtin_memcpy(t->ipv6.daddr, k->ipv6_dst, 16);
		t->ipv6.sport = k->tp_src;
		t->ipv6.dport = k->tp_dst;
		return sizeof(t->ipv6);
	}
	return 0;
}

/* ct_state for a connection found (and releases it), or XSW_CT_SLOW. */
static __always_inline int xsw_ct_answer(struct nf_conn *ct, const struct bpf_ct_opts *o, __u8 proto, __u32 *mark)
{
	__u32 status = ct->status;
	int state;

	if (status & XSW_CT_IPS_NAT_MASK) {
		bpf_ct_release(ct);
		return XSW_CT_SLOW;
	}
	if (o->dir == IP_CT_DIR_REPLY && !(status & IPS_SEEN_REPLY)) {
		bpf_ct_change_status(ct, status | IPS_SEEN_REPLY);
		status |= IPS_SEEN_REPLY;
	}
	if (status & IPS_SEEN_REPLY)
		bpf_ct_change_timeout(ct, proto == IPPROTO_TCP ? XSW_CT_TCP_EST_MS : XSW_CT_UDP_STREAM_MS);
	else
		bpf_ct_change_timeout(ct, proto == IPPROTO_TCP ? XSW_CT_TCP_NEW_MS : XSW_CT_UDP_MS);
	state = XSW_CS_TRACKED | (status & IPS_SEEN_REPLY ? XSW_CS_ESTABLISHED : XSW_CS_NEW);
	if (o->dir == IP_CT_DIR_REPLY)
		state |= XSW_CS_REPLY_DIR;
	*mark = ct->mark;
	bpf_ct_release(ct);
	return state;
}

/* ct(zone=…) at XDP: the packet's ct_state (and ct_mark in *mark), or XSW_CT_SLOW. */
static __always_inline int xsw_ct_lookup_xdp(struct xdp_md *ctx, const struct xsw_flow_key *k, __u16 zone, __u32 *mark)
{
	struct bpf_sock_tuple t = {};
	struct bpf_ct_opts o = {};
	__u32 tsz = xsw_ct_tuple(k, &t, &o, zone);
	struct nf_conn *ct;

	if (!tsz || !XSW_CT_KFUNCS)
		return XSW_CT_SLOW;
	ct = bpf_xdp_ct_lookup(ctx, &t, tsz, &o, sizeof(o));
	if (!ct)
		return XSW_CT_SLOW;
	return xsw_ct_answer(ct, &o, k->ip_proto, mark);
}

/* The same at TC. */
static __always_inline int xsw_ct_lookup_tc(struct __sk_buff *skb, const struct xsw_flow_key *k, __u16 zone, __u32 *mark)
{
	struct bpf_sock_tuple t = {};
	struct bpf_ct_opts o = {};
	__u32 tsz = xsw_ct_tuple(k, &t, &o, zone);
	struct nf_conn *ct;

	if (!tsz || !XSW_CT_KFUNCS)
		return XSW_CT_SLOW;
	ct = bpf_skb_ct_lookup(skb, &t, tsz, &o, sizeof(o));
	if (!ct)
		return XSW_CT_SLOW;
	return xsw_ct_answer(ct, &o, k->ip_proto, mark);
}

/* Tier 2 (src/kdp, src/vswitchd/kernel-tier.ts): while a kernel openvswitch datapath
 * holds the bridge's ports, what the fast path would hand up for one of the reasons in
 * xsw_t2_cfg[0] (a bit per XSW_UPCALL_*) goes to the kernel instead (XDP_PASS,
 * TC_ACT_OK): the port's rx_handler gives it to that datapath, which finishes it
 * (conntrack with fragments, ICMP, helpers, what XDP cannot express). Counted per
 * reason in xsw_t2_passed. Empty mask (the default, and hosts without the module):
 * nothing changes. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} xsw_t2_cfg SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 32);
	__type(key, __u32);
	__type(value, __u64);
} xsw_t2_passed SEC(".maps");

/* Whether the kernel datapath takes a packet the fast path leaves for `reason` (counted). */
static __always_inline bool xsw_tier2_take(__u32 reason)
{
	__u32 zero = 0, slot = reason & 31;
	__u32 *mask = bpf_map_lookup_elem(&xsw_t2_cfg, &zero);
	__u64 *n;

	if (!mask || reason >= 32 || !(*mask & (1U << reason)))
		return false;
	n = bpf_map_lookup_elem(&xsw_t2_passed, &slot);
	if (n)
		(*n)++;
	return true;
}
