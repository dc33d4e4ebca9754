/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Generated from proto/datapath/maps.ts by npm run gen; edit the source. */
#pragma once

#define XSW_LAYOUT_VERSION 1
#define XSW_UPCALL_CAP 128

/* per-port verdict of the first-form pipeline */
enum xsw_port_action {
	XSW_PORT_PASS = 0,
	XSW_PORT_DROP = 1,
	XSW_PORT_REDIRECT = 2,
	XSW_PORT_UPCALL = 3,
};

enum xsw_upcall_reason {
	XSW_UPCALL_PORT = 0,
	XSW_UPCALL_NO_PORT = 1,
};

struct xsw_port {
	__u32 action; /* enum xsw_port_action */
	__u32 out_ifindex; /* egress device for XSW_PORT_REDIRECT */
	__u32 ofport; /* OpenFlow port number, for upcalls and counters */
	__u32 flags; /* reserved for port flags, written as zero */
};
_Static_assert(sizeof(struct xsw_port) == 16, "struct xsw_port size");
_Static_assert(__builtin_offsetof(struct xsw_port, action) == 0, "xsw_port.action offset");
_Static_assert(__builtin_offsetof(struct xsw_port, out_ifindex) == 4, "xsw_port.out_ifindex offset");
_Static_assert(__builtin_offsetof(struct xsw_port, ofport) == 8, "xsw_port.ofport offset");
_Static_assert(__builtin_offsetof(struct xsw_port, flags) == 12, "xsw_port.flags offset");

struct xsw_port_stats {
	__u64 rx_packets; /* frames received on the port */
	__u64 rx_bytes; /* bytes received, Ethernet header included */
	__u64 tx_packets; /* frames redirected out of the port */
	__u64 tx_bytes;
	__u64 drops; /* frames dropped by the pipeline */
	__u64 upcalls; /* frames copied to userspace */
};
_Static_assert(sizeof(struct xsw_port_stats) == 48, "struct xsw_port_stats size");
_Static_assert(__builtin_offsetof(struct xsw_port_stats, rx_packets) == 0, "xsw_port_stats.rx_packets offset");
_Static_assert(__builtin_offsetof(struct xsw_port_stats, rx_bytes) == 8, "xsw_port_stats.rx_bytes offset");
_Static_assert(__builtin_offsetof(struct xsw_port_stats, tx_packets) == 16, "xsw_port_stats.tx_packets offset");
_Static_assert(__builtin_offsetof(struct xsw_port_stats, tx_bytes) == 24, "xsw_port_stats.tx_bytes offset");
_Static_assert(__builtin_offsetof(struct xsw_port_stats, drops) == 32, "xsw_port_stats.drops offset");
_Static_assert(__builtin_offsetof(struct xsw_port_stats, upcalls) == 40, "xsw_port_stats.upcalls offset");

struct xsw_upcall {
	__u32 ifindex; /* ingress device */
	__u32 reason; /* enum xsw_upcall_reason */
	__u32 frame_len; /* length of the whole frame in bytes */
	__u32 cap_len; /* bytes of it in data[] */
	__u8 data[128]; /* the frame head, cap_len bytes valid */
};
_Static_assert(sizeof(struct xsw_upcall) == 144, "struct xsw_upcall size");
_Static_assert(__builtin_offsetof(struct xsw_upcall, ifindex) == 0, "xsw_upcall.ifindex offset");
_Static_assert(__builtin_offsetof(struct xsw_upcall, reason) == 4, "xsw_upcall.reason offset");
_Static_assert(__builtin_offsetof(struct xsw_upcall, frame_len) == 8, "xsw_upcall.frame_len offset");
_Static_assert(__builtin_offsetof(struct xsw_upcall, cap_len) == 12, "xsw_upcall.cap_len offset");
_Static_assert(__builtin_offsetof(struct xsw_upcall, data) == 16, "xsw_upcall.data offset");

#ifdef XSW_DEFINE_MAPS
/* Map definitions, included once by the object that owns the maps. */
/* ingress ifindex → port config */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, __u32);
	__type(value, struct xsw_port);
} xsw_ports SEC(".maps");

/* ifindex → ifindex, XDP redirect targets */
struct {
	__uint(type, BPF_MAP_TYPE_DEVMAP_HASH);
	__uint(max_entries, 1024);
	__type(key, __u32);
	__type(value, __u32);
} xsw_tx_ports SEC(".maps");

/* ifindex → per-CPU counters */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, 1024);
	__type(key, __u32);
	__type(value, struct xsw_port_stats);
} xsw_port_stats SEC(".maps");

/* struct xsw_upcall records for userspace */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 262144);
} xsw_upcalls SEC(".maps");

__attribute__((used)) static const struct xsw_upcall xsw_upcalls_record_btf;

#endif /* XSW_DEFINE_MAPS */
