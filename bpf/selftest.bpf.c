// SPDX-License-Identifier: GPL-2.0
/* The addon's test object (test/native/bpf*.test.ts, bench/maps.ts): one map or program
 * per facility the addon exposes. Not part of the switch's datapath. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#define ETH_P_IP 0x0800
#define TC_ACT_OK 0

struct st_counter {
	__u64 packets;
	__u64 bytes;
};

/* Packets and bytes per (ingress ifindex slot, IP protocol); slot from st_slots. */
#define ST_SLOTS 4
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, ST_SLOTS * 256);
	__type(key, __u32);
	__type(value, struct st_counter);
} st_counts SEC(".maps");

/* ifindex → slot (0..ST_SLOTS-1) in st_counts; unknown ifindexes count in slot 0. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 64);
	__type(key, __u32);
	__type(value, __u32);
} st_slots SEC(".maps");

/* ingress ifindex → egress ifindex, for XDP redirect. */
struct {
	__uint(type, BPF_MAP_TYPE_DEVMAP_HASH);
	__uint(max_entries, 64);
	__type(key, __u32);
	__type(value, __u32);
} st_devmap SEC(".maps");

/* ingress ifindex → egress ifindex, for TC redirect. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 64);
	__type(key, __u32);
	__type(value, __u32);
} st_tc_ports SEC(".maps");

/* Where the live-frames program sends every frame: [0] = ifindex. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} st_live_target SEC(".maps");

/* 100,000 entries for batch tests and the bench. */
struct st_big_key {
	__u32 id;
	__u32 tag;
};
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 100000);
	__type(key, struct st_big_key);
	__type(value, struct st_counter);
} st_big SEC(".maps");

/* Fills after 4 entries: the next insert fails with E2BIG. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u64);
} st_tiny SEC(".maps");

/* Events to user space. */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 64 * 1024);
} st_events SEC(".maps");

#define ST_EVENT_HEAD 64
struct st_event {
	__u32 ifindex; /* ingress ifindex */
	__u32 len;     /* frame length, bytes */
	__u8 head[ST_EVENT_HEAD]; /* first bytes of the frame, zero-padded */
};

static __always_inline void count(struct xdp_md *ctx, __u32 ifindex)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	__u32 proto = 0, slot = 0;

	if ((void *)(eth + 1) > data_end)
		return;
	if (eth->h_proto == bpf_htons(ETH_P_IP)) {
		struct iphdr *ip = (void *)(eth + 1);
		if ((void *)(ip + 1) > data_end)
			return;
		proto = ip->protocol;
	}
	__u32 *s = bpf_map_lookup_elem(&st_slots, &ifindex);
	if (s && *s < ST_SLOTS)
		slot = *s;
	__u32 key = slot * 256 + proto;
	struct st_counter *c = bpf_map_lookup_elem(&st_counts, &key);
	if (!c)
		return;
	c->packets++;
	c->bytes += data_end - data;
}

/* Counts, then passes to the stack. */
SEC("xdp")
int xsw_st_count(struct xdp_md *ctx)
{
	count(ctx, ctx->ingress_ifindex);
	return XDP_PASS;
}

/* Counts, then redirects to the port st_devmap names for the ingress port (or passes). */
SEC("xdp")
int xsw_st_redirect(struct xdp_md *ctx)
{
	/* Read once: clang would otherwise reload it through a modified ctx pointer. */
	__u32 ifindex = *(volatile __u32 *)&ctx->ingress_ifindex;

	count(ctx, ifindex);
	return bpf_redirect_map(&st_devmap, ifindex, XDP_PASS);
}

/* Sends every frame of a live-frames BPF_PROG_RUN out of st_live_target[0]. */
SEC("xdp")
int xsw_st_live(struct xdp_md *ctx)
{
	__u32 zero = 0;
	__u32 *ifindex = bpf_map_lookup_elem(&st_live_target, &zero);

	if (!ifindex || !*ifindex)
		return XDP_DROP;
	return bpf_redirect(*ifindex, 0);
}

/* Emits one st_event per frame to st_events, then passes. */
SEC("xdp")
int xsw_st_event(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	__u32 len = data_end - data;
	struct st_event *e = bpf_ringbuf_reserve(&st_events, sizeof(*e), 0);

	if (!e)
		return XDP_PASS;
	__builtin_memset(e->head, 0, sizeof(e->head));
	e->ifindex = ctx->ingress_ifindex;
	e->len = len;
	if (len >= ST_EVENT_HEAD)
		bpf_xdp_load_bytes(ctx, 0, e->head, ST_EVENT_HEAD);
	else if (len >= 14)
		bpf_xdp_load_bytes(ctx, 0, e->head, 14);
	bpf_ringbuf_submit(e, 0);
	return XDP_PASS;
}

/* Set before load (BpfObject setGlobal): the verdict of xsw_st_verdict. */
const volatile __u32 st_verdict = XDP_PASS;

SEC("xdp")
int xsw_st_verdict(struct xdp_md *ctx)
{
	return st_verdict;
}

/* Redirects to the egress of the port st_tc_ports names for the ingress port. */
SEC("tc")
int xsw_st_tc_redirect(struct __sk_buff *skb)
{
	__u32 ifindex = skb->ingress_ifindex;
	__u32 *out = bpf_map_lookup_elem(&st_tc_ports, &ifindex);

	if (!out)
		return TC_ACT_OK;
	return bpf_redirect(*out, 0);
}

/* Loaded only on request ("?"): reads the frame without a bounds check, so the verifier
 * refuses it and the test sees the verifier log in the error. */
SEC("?xdp")
int xsw_st_unsafe(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;

	return *(__u8 *)data;
}

char LICENSE[] SEC("license") = "GPL";
