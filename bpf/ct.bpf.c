// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* The kernel's conntrack table for xdpswitch's slow path, through the XDP conntrack
 * kfuncs (Linux 6.1+; zones 6.8+). Userspace writes one request into xsw_ct_io, runs
 * xsw_ct with BPF_PROG_RUN (the frame is not read: the request carries the tuple) and
 * reads the answer back: the connection found or created, its direction, status, mark
 * and both tuples. Entries live in the caller's network namespace, so `conntrack -L`
 * lists them. Layout mirrored by src/ct/kernel.ts. xsw_ct_t1_xdp/_tc run lib/ct.h, the
 * fast path's lookup, on a frame, for its tests. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

#include "lib/ct.h"

char LICENSE[] SEC("license") = "GPL";

#define XSW_CT_COMMIT 1
#define XSW_CT_SET_MARK 4
#define XSW_EEXIST 17

struct xsw_ct_io {
	/* request */
	__u8 v6;
	__u8 proto; /* IPPROTO_TCP or IPPROTO_UDP: what the kfuncs take */
	__u8 flags; /* XSW_CT_* */
	__u8 nat_kind; /* new connections: 0 none, 1 SNAT, 2 DNAT */
	__u16 zone;
	__be16 sport;
	__be16 dport;
	__u16 nat_port; /* host order, 0: keep the port */
	__be32 src[4];
	__be32 dst[4];
	__be32 nat_addr[4];
	__u32 mark;
	__u32 mark_mask;
	__u32 timeout_ms; /* idle timeout set on creation, refreshed by hits before a reply; 0: kernel default */
	__u32 est_timeout_ms; /* refreshed by hits once a reply was seen */
	/* answer */
	__s32 err; /* negative errno of the lookup (-ENOENT: none) or of the creation */
	__u32 found; /* 0 none, 1 existing, 2 created */
	__u32 dir; /* IP_CT_DIR_ORIGINAL or IP_CT_DIR_REPLY */
	__u32 status; /* IPS_* */
	__u32 ct_mark;
	__be32 orig_src[4];
	__be32 orig_dst[4];
	__be16 orig_sport;
	__be16 orig_dport;
	__be32 reply_src[4];
	__be32 reply_dst[4];
	__be16 reply_sport;
	__be16 reply_dport;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct xsw_ct_io);
} xsw_ct_io SEC(".maps");

struct nf_conn___init *bpf_xdp_ct_alloc(struct xdp_md *, struct bpf_sock_tuple *, __u32, struct bpf_ct_opts *,
					__u32) __ksym;
struct nf_conn *bpf_ct_insert_entry(struct nf_conn___init *) __ksym;
void bpf_ct_set_timeout(struct nf_conn___init *, __u32) __ksym;
int bpf_ct_set_nat_info(struct nf_conn___init *, union nf_inet_addr *, int, enum nf_nat_manip_type) __ksym;

static __always_inline void copy_tuple(__be32 *src, __be32 *dst, __be16 *sport, __be16 *dport,
				       const struct nf_conntrack_tuple *t)
{
	for (int i = 0; i < 4; i++) {
		src[i] = t->src.u3.all[i];
		dst[i] = t->dst.u3.all[i];
	}
	*sport = t->src.u.all;
	*dport = t->dst.u.all;
}

static __always_inline void answer(struct xsw_ct_io *io, struct nf_conn *ct)
{
	io->status = ct->status;
	io->ct_mark = ct->mark;
	copy_tuple(io->orig_src, io->orig_dst, &io->orig_sport, &io->orig_dport,
		   &ct->tuplehash[IP_CT_DIR_ORIGINAL].tuple);
	copy_tuple(io->reply_src, io->reply_dst, &io->reply_sport, &io->reply_dport,
		   &ct->tuplehash[IP_CT_DIR_REPLY].tuple);
}

SEC("xdp")
int xsw_ct(struct xdp_md *ctx)
{
	__u32 k = 0;
	struct xsw_ct_io *io = bpf_map_lookup_elem(&xsw_ct_io, &k);
	struct bpf_sock_tuple t = {};
	struct bpf_ct_opts opts = {};
	struct nf_conn___init *nct;
	struct nf_conn *ct;
	__u32 tsz;

	if (!io)
		return XDP_ABORTED;
	if (io->v6) {
		__builtin_memcpy(t.ipv6.saddr, io->src, 16);
		__builtin_memcpy(t.ipv6.daddr, io->dst, 16);
		t.ipv6.sport = io->sport;
		t.ipv6.dport = io->dport;
		tsz = sizeof(t.ipv6);
	} else {
		t.ipv4.saddr = io->src[0];
		t.ipv4.daddr = io->dst[0];
		t.ipv4.sport = io->sport;
		t.ipv4.dport = io->dport;
		tsz = sizeof(t.ipv4);
	}
	opts.netns_id = -1; /* BPF_F_CURRENT_NETNS: the namespace of the caller */
	opts.l4proto = io->proto;
	opts.ct_zone_id = io->zone;
	opts.ct_zone_dir = XSW_CT_ZONE_DIR_BOTH;
	io->found = 0;
	io->err = 0;

	ct = bpf_xdp_ct_lookup(ctx, &t, tsz, &opts, sizeof(opts));
	if (ct) {
		io->found = 1;
		io->dir = opts.dir;
		/* Packets the slow path carries never pass netfilter: a reply is marked here. */
		if (opts.dir == IP_CT_DIR_REPLY && !(ct->status & IPS_SEEN_REPLY))
			bpf_ct_change_status(ct, ct->status | IPS_SEEN_REPLY);
		if (io->flags & XSW_CT_SET_MARK)
			ct->mark = (ct->mark & ~io->mark_mask) | (io->mark & io->mark_mask);
		if (ct->status & IPS_SEEN_REPLY ? io->est_timeout_ms : io->timeout_ms)
			bpf_ct_change_timeout(ct, ct->status & IPS_SEEN_REPLY ? io->est_timeout_ms : io->timeout_ms);
		answer(io, ct);
		bpf_ct_release(ct);
		return XDP_PASS;
	}
	io->err = opts.error;
	if (!(io->flags & XSW_CT_COMMIT))
		return XDP_PASS;

	opts.error = 0;
	opts.dir = 0;
	nct = bpf_xdp_ct_alloc(ctx, &t, tsz, &opts, sizeof(opts));
	if (!nct) {
		io->err = opts.error;
		return XDP_PASS;
	}
	if (io->nat_kind) {
		union nf_inet_addr a = {};

		__builtin_memcpy(&a, io->nat_addr, 16);
		bpf_ct_set_nat_info(nct, &a, io->nat_port ? io->nat_port : -1,
				    io->nat_kind == 1 ? NF_NAT_MANIP_SRC : NF_NAT_MANIP_DST);
	}
	if (io->flags & XSW_CT_SET_MARK)
		nct->ct.mark = io->mark & io->mark_mask;
	if (io->timeout_ms)
		bpf_ct_set_timeout(nct, io->timeout_ms);
	ct = bpf_ct_insert_entry(nct);
	if (!ct) {
		io->err = -XSW_EEXIST;
		return XDP_PASS;
	}
	io->found = 2;
	io->dir = IP_CT_DIR_ORIGINAL;
	io->err = 0;
	answer(io, ct);
	bpf_ct_release(ct);
	return XDP_PASS;
}

/* Tier 1's answer for the last frame run through xsw_ct_t1_*: ct_state or XSW_CT_SLOW, and ct_mark. */
struct xsw_ct_t1 {
	__s32 state;
	__u32 mark;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct xsw_ct_t1);
} xsw_ct_t1 SEC(".maps");

/* The parser as a global function, checked once on its own (as in xdpswitch.bpf.c). */
__noinline int xsw_ct_parse_xdp(struct xdp_md *ctx, struct xsw_flow_key *key)
{
	struct xsw_cursor c = { (void *)(long)ctx->data, (void *)(long)ctx->data_end, 0, 0, -1 };

	if (!key)
		return -1;
	xsw_parse(&c, key);
	return 0;
}

__noinline int xsw_ct_parse_tc(struct __sk_buff *skb, struct xsw_flow_key *key)
{
	struct xsw_cursor c = { (void *)(long)skb->data, (void *)(long)skb->data_end, 0, 0, -1 };

	if (!key)
		return -1;
	xsw_parse(&c, key);
	return 0;
}

/* The zone comes from xsw_ct_io's request (its zone field). */
SEC("xdp")
int xsw_ct_t1_xdp(struct xdp_md *ctx)
{
	struct xsw_flow_key key = {};
	__u32 k = 0;
	struct xsw_ct_io *io = bpf_map_lookup_elem(&xsw_ct_io, &k);
	struct xsw_ct_t1 *out = bpf_map_lookup_elem(&xsw_ct_t1, &k);

	if (!io || !out)
		return XDP_ABORTED;
	xsw_ct_parse_xdp(ctx, &key);
	out->mark = 0;
	out->state = xsw_ct_lookup_xdp(ctx, &key, io->zone, &out->mark);
	return XDP_PASS;
}

SEC("tc")
int xsw_ct_t1_tc(struct __sk_buff *skb)
{
	struct xsw_flow_key key = {};
	__u32 k = 0;
	struct xsw_ct_io *io = bpf_map_lookup_elem(&xsw_ct_io, &k);
	struct xsw_ct_t1 *out = bpf_map_lookup_elem(&xsw_ct_t1, &k);

	if (!io || !out)
		return 0;
	xsw_ct_parse_tc(skb, &key);
	out->mark = 0;
	out->state = xsw_ct_lookup_tc(skb, &key, io->zone, &out->mark);
	return 0;
}
