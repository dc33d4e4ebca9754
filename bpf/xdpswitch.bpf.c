// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* xdpswitch datapath, first form: a per-port verdict (pass, drop, redirect, upcall)
 * run at XDP for frames from NICs and at TC ingress for ports fed by a local stack,
 * one source and one set of maps for both hooks. The OpenFlow pipeline (issue 6)
 * replaces the verdict lookup; the counters, upcall ring and redirect stay. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

#define XSW_DEFINE_MAPS
#include "gen/maps.h"
#include "lib/parse.h"

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

/* Copies the parsed key and the frame head into the upcall ring. `is_xdp` selects
 * the load helper. */
static __always_inline void upcall(void *ctx, bool is_xdp, __u32 ifindex, __u32 reason, __u32 len,
				   const struct xsw_flow_key *key)
{
	struct xsw_upcall *u = bpf_ringbuf_reserve(&xsw_upcalls, sizeof(*u), 0);
	__u32 cap = len < XSW_UPCALL_CAP ? len : XSW_UPCALL_CAP;

	if (!u)
		return;
	u->ifindex = ifindex;
	u->reason = reason;
	u->frame_len = len;
	u->cap_len = 0;
	__builtin_memcpy(&u->key, key, sizeof(*key));
	/* The load helpers want a length the verifier knows is in [1, XSW_UPCALL_CAP];
	 * the mask makes that explicit (XSW_UPCALL_CAP is a power of two). A zero-length
	 * frame becomes a 128-byte read that fails, leaving cap_len 0. */
	cap = ((cap - 1) & (XSW_UPCALL_CAP - 1)) + 1;
	if (!(is_xdp ? bpf_xdp_load_bytes(ctx, 0, u->data, cap) : bpf_skb_load_bytes(ctx, 0, u->data, cap)))
		u->cap_len = cap;
	bpf_ringbuf_submit(u, 0);
}

/* The parser runs as global functions, one per hook: the verifier checks a global
 * function once, on its own, instead of once per path of its caller, which keeps the
 * load time of the programs below the parser's (many) packet-offset states. */
__noinline int xsw_parse_xdp(struct xdp_md *ctx, struct xsw_flow_key *key)
{
	struct xsw_cursor c = { (void *)(long)ctx->data, (void *)(long)ctx->data_end, 0 };

	if (!key)
		return -1;
	xsw_parse(&c, key);
	return 0;
}

__noinline int xsw_parse_tc(struct __sk_buff *skb, struct xsw_flow_key *key)
{
	struct xsw_cursor c = { (void *)(long)skb->data, (void *)(long)skb->data_end, 0 };

	if (!key)
		return -1;
	xsw_parse(&c, key);
	return 0;
}

enum verdict { V_PASS, V_DROP, V_REDIRECT };

static __always_inline enum verdict pipeline(void *ctx, bool is_xdp, __u32 ifindex, __u32 len,
					      __u32 *out_ifindex)
{
	struct xsw_port *port = bpf_map_lookup_elem(&xsw_ports, &ifindex);
	struct xsw_port_stats *st = port_stats(ifindex);
	struct xsw_flow_key key = {};

	if (is_xdp)
		xsw_parse_xdp(ctx, &key);
	else
		xsw_parse_tc(ctx, &key);
	if (port)
		key.in_port = port->ofport;

	if (st) {
		st->rx_packets++;
		st->rx_bytes += len;
	}
	if (!port) {
		upcall(ctx, is_xdp, ifindex, XSW_UPCALL_NO_PORT, len, &key);
		return V_PASS;
	}
	switch (port->action) {
	case XSW_PORT_DROP:
		if (st)
			st->drops++;
		return V_DROP;
	case XSW_PORT_REDIRECT: {
		struct xsw_port_stats *out = port_stats(port->out_ifindex);

		if (out) {
			out->tx_packets++;
			out->tx_bytes += len;
		}
		*out_ifindex = port->out_ifindex;
		return V_REDIRECT;
	}
	case XSW_PORT_UPCALL:
		if (st)
			st->upcalls++;
		upcall(ctx, is_xdp, ifindex, XSW_UPCALL_PORT, len, &key);
		return V_PASS;
	default:
		return V_PASS;
	}
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
		return bpf_redirect_map(&xsw_tx_ports, out, XDP_PASS);
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
	default:
		return TC_ACT_OK;
	}
}
