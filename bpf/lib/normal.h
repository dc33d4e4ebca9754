/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* OFPP_NORMAL's common case in the fast path, as OVS's xlate_normal does it: learn the
 * source MAC on the ingress port (per VLAN), send a frame for a known unicast MAC out of
 * the port it was seen on, drop it when that is the ingress port. Everything else leaves
 * the fast path before the frame changed, and the slow path (src/ofproto/normal.ts) runs
 * NORMAL on it: unknown, multicast and broadcast destinations (it floods; these are the
 * small frames: ARP, a connection's first packet), priority-tagged frames, and every
 * frame of a bridge whose ports have VLAN config (xsw_normal_config.enabled is 0 then).
 * The slow path reads xsw_macs for the destination, so both agree where a MAC is. */
#pragma once

#include "vmlinux.h"
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "gen/maps.h"

/* A source seen again on the same port is written back at most this often. */
#define XSW_MAC_REFRESH_NS 1000000000ULL

static __always_inline bool xsw_mac_multicast(const __u8 *mac)
{
	return mac[0] & 1;
}

static __always_inline void xsw_mac_key_of(struct xsw_mac_key *k, const __u8 *mac, __u16 vlan)
{
	__builtin_memcpy(k->mac, mac, 6);
	k->vlan = vlan;
}

/* Decides NORMAL for r->key: the port to output to (returns 1), or 0 when the packet
 * was dropped (r->drop) or handed up (r->upcall). */
static __always_inline int xsw_normal(struct xsw_run *r, __u32 *port)
{
	__u32 zero = 0;
	struct xsw_normal_config *cfg = bpf_map_lookup_elem(&xsw_normal_config, &zero);
	struct xsw_flow_key *k = &r->key;
	struct xsw_mac_key mk = {};
	__u16 vlan = 0;

	if (!cfg || !cfg->enabled) {
		xsw_leave(r, XSW_UPCALL_NORMAL_SLOW, 0);
		return 0;
	}
	if (k->vlan_tci & bpf_htons(XSW_VLAN_PRESENT)) {
		vlan = bpf_ntohs(k->vlan_tci) & 0xfff;
		/* A priority tag (VID 0) leaves untagged: the slow path pops it. */
		if (!vlan) {
			xsw_leave(r, XSW_UPCALL_NORMAL_SLOW, 1);
			return 0;
		}
	}
	__u64 now = bpf_ktime_get_coarse_ns();
	__u64 aging = (__u64)cfg->aging_sec * 1000000000ULL;

	if (!xsw_mac_multicast(k->eth_src)) {
		xsw_mac_key_of(&mk, k->eth_src, vlan);
		struct xsw_mac_entry *src = bpf_map_lookup_elem(&xsw_macs, &mk);

		/* Written only when it moved or is a second old: a hit costs one lookup. */
		if (!src || src->ofport != k->in_port || now > src->seen_ns + XSW_MAC_REFRESH_NS) {
			struct xsw_ofport *in = bpf_map_lookup_elem(&xsw_ofports, &k->in_port);
			struct xsw_mac_entry e = { .ofport = k->in_port, .ifindex = in ? in->ifindex : 0, .seen_ns = now };

			bpf_map_update_elem(&xsw_macs, &mk, &e, BPF_ANY);
		}
	}
	if (xsw_mac_multicast(k->eth_dst)) {
		xsw_leave(r, XSW_UPCALL_NORMAL_FLOOD, 0);
		return 0;
	}
	xsw_mac_key_of(&mk, k->eth_dst, vlan);
	struct xsw_mac_entry *dst = bpf_map_lookup_elem(&xsw_macs, &mk);

	if (!dst || (now > dst->seen_ns && now - dst->seen_ns > aging)) {
		xsw_leave(r, XSW_UPCALL_NORMAL_FLOOD, 0);
		return 0;
	}
	if (dst->ofport == k->in_port) {
		r->drop = 1; /* OVS: the destination is on the ingress port */
		return 0;
	}
	/* A port number that now names another device (or none): not known any more. */
	struct xsw_ofport *out = bpf_map_lookup_elem(&xsw_ofports, &dst->ofport);

	if (!out || out->ifindex != dst->ifindex) {
		xsw_leave(r, XSW_UPCALL_NORMAL_FLOOD, 0);
		return 0;
	}
	*port = dst->ofport;
	return 1;
}
