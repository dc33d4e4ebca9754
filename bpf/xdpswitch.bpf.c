// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* xdpswitch datapath: one source for two hooks, XDP for frames from NICs and TC ingress
 * for ports fed by a local stack, sharing every map. A port either runs the compiled
 * OpenFlow pipeline (lib/pipeline.h) or has a fixed verdict (pass, drop, redirect,
 * upcall) — the latter for ports not yet under a bridge's pipeline. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

#define XSW_DEFINE_MAPS
#include "gen/maps.h"
#include "lib/ct.h"
#include "lib/parse.h"
#include "lib/pipeline.h"

#define TC_ACT_OK 0
#define TC_ACT_SHOT 2

char LICENSE[] SEC("license") = "Dual BSD/GPL";

static __always_inline struct xsw_port_stats *port_stats(__u32 ifindex)
{
	struct xsw_port_stats *st = bpf_map_lookup_elem(&xsw_port_stats, &ifindex);

	if (st)
		return st;
	struct xsw_port_stats zero = {};
	/* BPF_NOEXIST: another CPU may have created it meanwhile; either way look again. */
	bpf_map_update_elem(&xsw_port_stats, &ifindex, &zero, BPF_NOEXIST);
	return bpf_map_lookup_elem(&xsw_port_stats, &ifindex);
}

/* The counters of a port: its slot (an inlined array lookup) when its OpenFlow number
 * has one, else the hash by ifindex. A CPU whose copy of the slot counted another device
 * (the number was reused) starts it over; the reader sums only copies of this device. */
static __always_inline struct xsw_port_stats *port_counters(__u32 ofport, __u32 ifindex)
{
	if (ofport && ofport < XSW_PORT_SLOTS) {
		struct xsw_port_slot *s = bpf_map_lookup_elem(&xsw_port_slots, &ofport);

		if (s) {
			if (s->ifindex != ifindex) {
				__builtin_memset(&s->stats, 0, sizeof(s->stats));
				s->ifindex = ifindex;
			}
			return &s->stats;
		}
	}
	return port_stats(ifindex);
}

/* Copies the key and the frame (up to XSW_UPCALL_CAP bytes) into the upcall ring. */
static __always_inline void upcall(void *ctx, bool is_xdp, __u32 ifindex, __u32 reason, __u32 len,
				   const struct xsw_flow_key *key, __u32 table_id, __u32 rule_id, __u32 arg,
				   __u32 meters)
{
	struct xsw_upcall *u = bpf_ringbuf_reserve(&xsw_upcalls, sizeof(*u), 0);
	__u32 cap = len < XSW_UPCALL_CAP ? len : XSW_UPCALL_CAP;

	if (!u)
		return;
	u->ifindex = ifindex;
	u->reason = reason;
	u->frame_len = len;
	u->cap_len = 0;
	u->table_id = table_id;
	u->rule_id = rule_id;
	u->arg = arg;
	u->vlan_meta = 0;
	u->meters = meters;
	u->reserved = 0;
	if (!is_xdp && ((struct __sk_buff *)ctx)->vlan_present)
		u->vlan_meta = ((__u32)bpf_ntohs(((struct __sk_buff *)ctx)->vlan_proto) << 16) |
			       ((struct __sk_buff *)ctx)->vlan_tci;
	__builtin_memcpy(&u->key, key, sizeof(*key));
	/* The load helpers want a length the verifier knows is in [1, XSW_UPCALL_CAP];
	 * the mask makes that explicit (XSW_UPCALL_CAP is a power of two). A zero-length
	 * frame becomes a full-size read that fails, leaving cap_len 0. */
	cap = ((cap - 1) & (XSW_UPCALL_CAP - 1)) + 1;
	if (!(is_xdp ? bpf_xdp_load_bytes(ctx, 0, u->data, cap) : bpf_skb_load_bytes(ctx, 0, u->data, cap)))
		u->cap_len = cap;
	bpf_ringbuf_submit(u, 0);
}

/* The parser runs as global functions, one per hook: the verifier checks a global
 * function once, on its own, instead of once per path of its caller, which keeps the
 * programs' load time below the parser's (many) packet-offset states. Each returns
 * the L3 offset in the high 16 bits and the L4 offset (0xffff: none) in the low. */
__noinline int xsw_parse_xdp(struct xdp_md *ctx, struct xsw_flow_key *key)
{
	struct xsw_cursor c = { (void *)(long)ctx->data, (void *)(long)ctx->data_end, 0, 0, -1 };

	if (!key)
		return -1;
	xsw_parse(&c, key);
	return (c.l3 << 16) | (c.l4 & 0xffff);
}

__noinline int xsw_parse_tc(struct __sk_buff *skb, struct xsw_flow_key *key)
{
	struct xsw_cursor c = { (void *)(long)skb->data, (void *)(long)skb->data_end, 0, 0, -1 };

	if (!key)
		return -1;
	xsw_parse(&c, key);
	/* A tag the device took off into skb metadata is the outermost one. */
	if (skb->vlan_present) {
		key->vlan2_tci = key->vlan_tci;
		key->vlan_tci = bpf_htons(skb->vlan_tci) | bpf_htons(XSW_VLAN_PRESENT);
		key->vlan_tpid = skb->vlan_proto;
		if (!key->eth_type)
			key->eth_type = bpf_htons(0x05ff);
	}
	return (c.l3 << 16) | (c.l4 & 0xffff);
}

/* Phase 2 per hook, global for the same reason as the parser. 0 on success. */
__noinline int xsw_commit_xdp(struct xdp_md *ctx, struct xsw_run *r)
{
	if (!r)
		return -1;
	return xsw_commit(ctx, true, r);
}

__noinline int xsw_commit_tc(struct __sk_buff *skb, struct xsw_run *r)
{
	if (!r)
		return -1;
	return xsw_commit(skb, false, r);
}

/* Tier 1 conntrack: a walk that ended in ct(zone=Z,table=N) looks the connection up in
 * the kernel's table, sets ct_state/ct_zone/ct_mark in the key and walks again from
 * table N, up to XSW_MAX_RECIRCS times. What lib/ct.h cannot answer (no entry yet,
 * NAT, not TCP/UDP, a fragment) leaves for the slow path, which commits: the next
 * packets of the connection stay here. Returns -2 when a walk dropped the packet. */
static __always_inline int xsw_ct_recirc(void *ctx, bool xdp, struct xsw_run *r)
{
	int res = 0;

	for (int i = 0; i < XSW_MAX_RECIRCS + 1; i++) {
		__u32 mark = 0;
		int state;

		if (!r->ct_pending || r->upcall || r->drop || res == -2)
			break;
		if (i == XSW_MAX_RECIRCS) {
			xsw_leave(r, XSW_UPCALL_TABLE_HOPS, r->ct_table);
			break;
		}
		r->ct_pending = 0;
		state = xdp ? xsw_ct_lookup_xdp(ctx, &r->key, r->ct_zone, &mark)
			    : xsw_ct_lookup_tc(ctx, &r->key, r->ct_zone, &mark);
		if (state == XSW_CT_SLOW) {
			xsw_leave(r, XSW_UPCALL_CONNTRACK, r->ct_zone);
			break;
		}
		r->key.ct_state = state;
		r->key.ct_zone = r->ct_zone;
		r->key.ct_mark = mark;
		r->walk_from = r->ct_table;
		r->recircs++;
		res = xsw_walk(r);
	}
	return res;
}

__noinline int xsw_ct_xdp(struct xdp_md *ctx, struct xsw_run *r)
{
	if (!r)
		return 0;
	return xsw_ct_recirc(ctx, true, r);
}

__noinline int xsw_ct_tc(struct __sk_buff *skb, struct xsw_run *r)
{
	if (!r)
		return 0;
	return xsw_ct_recirc(skb, false, r);
}

enum verdict { V_PASS, V_DROP, V_REDIRECT, V_MULTI };

/* Counts a copy's transmit on its port. */
__noinline int xsw_count_copies(struct xsw_run *r, __u32 len)
{
	if (!r)
		return 0;
	for (int i = 0; i < XSW_MAX_COPIES; i++) {
		if (i >= r->n_copies)
			break;
		struct xsw_copy *c = &r->copies[i & (XSW_MAX_COPIES - 1)];

		if (!c->ifindex)
			continue;
		struct xsw_port_stats *st = port_counters(c->ofport, c->ifindex);

		if (st) {
			st->tx_packets++;
			st->tx_bytes += len;
		}
	}
	return 0;
}

/* TC, several outputs: copy i of r->copies. The frame is r->orig (the copy before left
 * it so); it becomes the copy's key and is cloned to its port, or, for the last copy,
 * redirected (the return value, for the program to return). A copy for the controller
 * is a packet-in of the frame as it is then. */
__noinline int xsw_tc_copy(struct __sk_buff *skb, struct xsw_run *r, __u32 i, __u32 last)
{
	if (!r)
		return TC_ACT_SHOT;
	struct xsw_copy *c = &r->copies[i & (XSW_MAX_COPIES - 1)];
	__u32 ri = c->rec & (XSW_MAX_OUTS - 1);
	__u32 ifindex = c->ifindex, want = c->want;
	struct xsw_out_rec *rec = &r->outs[ri];

	__builtin_memcpy(&r->out, rec->dirty ? &r->okeys[ri] : &r->base, sizeof(r->out));
	if (want != XSW_WANT_ASIS)
		xsw_normal_retag(&r->out, want);
	if (xsw_commit_tc(skb, r))
		return TC_ACT_SHOT;
	__builtin_memcpy(&r->orig, &r->out, sizeof(r->orig));
	if (!ifindex) {
		struct xsw_ofport *in = bpf_map_lookup_elem(&xsw_ofports, &r->base.in_port);

		if (!(in && (in->config & OFPPC_NO_PACKET_IN)))
			upcall(skb, false, skb->ifindex, XSW_UPCALL_ACTION, skb->len, &r->orig, rec->table_id,
			       rec->rule_id, rec->max_len, 0);
		return TC_ACT_SHOT;
	}
	struct xsw_port_stats *st = port_counters(c->ofport, ifindex);

	if (st) {
		st->tx_packets++;
		st->tx_bytes += skb->len;
	}
	if (last)
		return bpf_redirect(ifindex, 0);
	bpf_clone_redirect(skb, ifindex, 0);
	return TC_ACT_SHOT;
}

/* The OpenFlow pipeline for a frame whose key `r->orig` was parsed: the cached walk
 * when the exact-match cache has this key, else the walk (remembered when it ends in
 * the fast path). */
static __always_inline enum verdict run_pipeline(void *ctx, bool is_xdp, __u32 ifindex, struct xsw_run *r,
						  __u32 *out_ifindex, __u32 *out_ofport)
{
	__u32 zero = 0;
	__u32 *genp = bpf_map_lookup_elem(&xsw_emc_gen, &zero);
	/* Read once, before any lookup: an entry stored under it goes stale with the
	 * next change even if this walk saw part of that change. */
	__u32 gen = genp ? *(volatile __u32 *)genp : 0;
	__u32 set = xsw_emc_key(r, gen);
	struct xsw_emc_entry *e = NULL;

	__builtin_memcpy(&r->key, &r->orig, sizeof(r->key));
	r->n_hits = 0;
	r->n_tables = 0;
	r->n_out = 0;
	r->upcall = 0;
	r->dirty = 0;
	r->out_dirty = 0;
	r->multi = 0;
	r->n_groups = 0;
	r->in_bucket = 0;
	if (set < XSW_EMC_ENTRIES) {
		__u32 way = set;

		e = bpf_map_lookup_elem(&xsw_emc, &way);
		if (e && !(e->gen == gen && xsw_emc_same(e, r))) {
			way = set + 1;
			e = bpf_map_lookup_elem(&xsw_emc, &way);
			if (e && !(e->gen == gen && xsw_emc_same(e, r)))
				e = NULL;
		}
	}
	r->drop = 0;
	r->ct_pending = 0;
	r->walk_from = 0;
	r->recircs = 0;
	r->n_meters = 0;
	if (e) {
		xsw_emc_replay(r, e);
	} else {
		int res = xsw_walk(r);

		/* A walk a meter cut short saw fewer tables than the flow goes through; one
		 * that ends in ct depends on the connection's state: neither is cached. */
		if (!r->upcall && !r->drop && !r->ct_pending && set < XSW_EMC_ENTRIES)
			xsw_emc_store(r, set, gen);
		if (res == -2)
			r->drop = 1;
	}
	/* A cached walk never holds a ct (see above); a walk that ends in one goes on. */
	if (r->ct_pending && !r->upcall && !r->drop &&
	    (is_xdp ? xsw_ct_xdp(ctx, r) : xsw_ct_tc(ctx, r)) == -2)
		r->drop = 1;
	/* Several outputs (or a flood): the copies they make. XDP sends one frame to many
	 * ports only when it is the same frame to every port but the ingress one (a devmap
	 * broadcast); the rest leaves, before the frame changed. */
	if (r->multi && !r->upcall && !r->drop) {
		if (xsw_collect_copies(r) < 0)
			xsw_leave(r, XSW_UPCALL_MULTI_OUTPUT, r->n_out);
		else if (is_xdp && !r->uniform)
			xsw_leave(r, r->n_out == 1 && r->out_port == OFPP_NORMAL ? XSW_UPCALL_NORMAL_FLOOD : XSW_UPCALL_MULTI_OUTPUT, r->n_out);
	}
	if (r->drop && !r->upcall) {
		/* Dropped on purpose (a meter band): the rules it went through count it. */
		xsw_count_rules(r);
		return V_DROP;
	}
	if (r->upcall) {
		/* Tier 2 (lib/ct.h): the kernel's openvswitch datapath finishes it. */
		if (xsw_tier2_take(r->upcall - 1))
			return V_PASS;
		/* The slow path runs the whole packet again and counts it there. */
		upcall(ctx, is_xdp, ifindex, r->upcall - 1, r->len, &r->orig, r->rk.table_id, 0, r->upcall_arg, r->n_meters);
		return V_DROP;
	}
	xsw_count_rules(r);
	if (!r->n_out)
		return V_DROP;
	if (r->multi) {
		if (!r->n_copies)
			return V_DROP;
		if (!is_xdp)
			return V_MULTI; /* the hook sends the copies (xsw_tc_copies) */
		if (r->out_dirty && xsw_commit_xdp(ctx, r))
			return V_DROP;
		xsw_count_copies(r, r->len);
		return V_MULTI;
	}
	if (r->out_dirty && (is_xdp ? xsw_commit_xdp(ctx, r) : xsw_commit_tc(ctx, r)))
		return V_DROP;
	if (r->out_port == OFPP_CONTROLLER) {
		struct xsw_ofport *in = bpf_map_lookup_elem(&xsw_ofports, &r->orig.in_port);

		if (in && (in->config & OFPPC_NO_PACKET_IN))
			return V_DROP;
		/* The commit may have added or removed VLAN tags. */
		__u32 len = is_xdp ? bpf_xdp_get_buff_len(ctx) : ((struct __sk_buff *)ctx)->len;

		upcall(ctx, is_xdp, ifindex, XSW_UPCALL_ACTION, len, r->out_dirty ? &r->out : &r->orig, r->table_id,
		       r->rule_id, r->max_len, 0);
		return V_DROP;
	}
	struct xsw_ofport *op = bpf_map_lookup_elem(&xsw_ofports, &r->out_port);

	if (!op || (op->config & (OFPPC_NO_FWD | OFPPC_PORT_DOWN)))
		return V_DROP;
	*out_ifindex = op->ifindex;
	*out_ofport = r->out_port; /* the ops resolved OFPP_IN_PORT */
	return V_REDIRECT;
}

static __always_inline enum verdict pipeline(void *ctx, bool is_xdp, __u32 ifindex, __u32 len,
					      __u32 *out_ifindex)
{
	struct xsw_port *port = bpf_map_lookup_elem(&xsw_ports, &ifindex);
	struct xsw_port_stats *st = port_counters(port ? port->ofport : 0, ifindex);
	__u32 zero = 0, out_ofport = 0;
	struct xsw_run *r = bpf_map_lookup_elem(&xsw_run_scratch, &zero);
	enum verdict v = V_PASS;
	int offs;

	if (!r)
		return V_PASS;
	__builtin_memset(&r->orig, 0, sizeof(r->orig));
	offs = is_xdp ? xsw_parse_xdp(ctx, &r->orig) : xsw_parse_tc(ctx, &r->orig);
	r->l3_off = (offs >> 16) & 0xffff;
	r->l4_off = (offs & 0xffff) == 0xffff ? -1 : (offs & 0xffff);
	r->len = len;
	if (port)
		r->orig.in_port = port->ofport;
	if (st) {
		st->rx_packets++;
		st->rx_bytes += len;
	}
	if (!port) {
		upcall(ctx, is_xdp, ifindex, XSW_UPCALL_NO_PORT, len, &r->orig, 0, 0, 0, 0);
		return V_PASS;
	}
	switch (port->action) {
	case XSW_PORT_PIPELINE:
		v = run_pipeline(ctx, is_xdp, ifindex, r, out_ifindex, &out_ofport);
		break;
	case XSW_PORT_DROP:
		v = V_DROP;
		break;
	case XSW_PORT_REDIRECT:
		*out_ifindex = port->out_ifindex;
		v = V_REDIRECT;
		break;
	case XSW_PORT_UPCALL:
		if (st)
			st->upcalls++;
		upcall(ctx, is_xdp, ifindex, XSW_UPCALL_PORT, len, &r->orig, 0, 0, 0, 0);
		break;
	}
	if (v == V_DROP && st)
		st->drops++;
	if (v == V_REDIRECT) {
		struct xsw_port_stats *out = port_counters(out_ofport, *out_ifindex);

		if (out) {
			out->tx_packets++;
			out->tx_bytes += len;
		}
	}
	return v;
}

/* TC, several outputs: every copy but the last cloned, the last redirected. */
static __always_inline int xsw_tc_copies(struct __sk_buff *skb)
{
	__u32 zero = 0;
	struct xsw_run *r = bpf_map_lookup_elem(&xsw_run_scratch, &zero);
	int ret = TC_ACT_SHOT;

	if (!r)
		return TC_ACT_SHOT;
	__u32 n = r->n_copies;

	__builtin_memcpy(&r->base, &r->orig, sizeof(r->base));
	if (r->outs[0].dirty)
		__builtin_memcpy(&r->okeys[0], &r->out, sizeof(r->out));
	for (int i = 0; i < XSW_MAX_COPIES; i++) {
		if (i >= n)
			break;
		ret = xsw_tc_copy(skb, r, i, i + 1 == n);
	}
	return ret;
}

SEC("xdp")
int xsw_xdp(struct xdp_md *ctx)
{
	/* The whole frame, fragments of a multi-buffer frame included. */
	__u32 len = bpf_xdp_get_buff_len(ctx);
	__u32 out = 0;

	switch (pipeline(ctx, true, ctx->ingress_ifindex, len, &out)) {
	case V_DROP:
		return XDP_DROP;
	case V_REDIRECT:
		/* Through a devmap so the kernel batches the transmit (bulk flush). */
		return bpf_redirect_map(&xsw_tx_ports, out, XDP_DROP);
	case V_MULTI:
		/* The same frame to every port of the bridge but this one. */
		return bpf_redirect_map(&xsw_tx_ports, 0, BPF_F_BROADCAST | BPF_F_EXCLUDE_INGRESS);
	default:
		return XDP_PASS;
	}
}

SEC("tc")
int xsw_tc(struct __sk_buff *skb)
{
	__u32 out = 0;

	switch (pipeline(skb, false, skb->ifindex, skb->len, &out)) {
	case V_DROP:
		return TC_ACT_SHOT;
	case V_REDIRECT:
		/* Egress of the target keeps CHECKSUM_PARTIAL and GSO, which XDP would lose. */
		return bpf_redirect(out, 0);
	case V_MULTI:
		return xsw_tc_copies(skb);
	default:
		return TC_ACT_OK;
	}
}

