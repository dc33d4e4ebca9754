/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* OFPP_NORMAL's common case in the fast path, as OVS's xlate_normal does it: the frame's
 * VLAN from the ingress port's config (Port tag, trunks, vlan_mode: xsw_normal_ports),
 * learn the source MAC in that VLAN, send a frame for a known unicast MAC out of the port
 * it was seen on with the tag that port wants, drop it when that is the ingress port or
 * a port that does not carry the VLAN, and flood unknown, multicast and broadcast
 * destinations to the ports that carry the VLAN, each copy with the tag its port wants
 * (an output to OFPP_NORMAL the hook expands). Priority-tagged and 802.1ad frames, and
 * every frame while xsw_normal_config.enabled is 0, leave the fast path before the
 * frame changed, and the slow path (src/ofproto/normal.ts) runs NORMAL on them. The slow path reads xsw_macs for the destination, so
 * both agree where a MAC is. */
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

static __always_inline bool xsw_trunk_has(const struct xsw_normal_port *p, __u32 vlan)
{
	return (p->trunks[(vlan >> 6) & 63] >> (vlan & 63)) & 1;
}

/* Does the port carry `vlan` (OVS bundle_includes_vlan; src/ofproto/normal.ts portCarries)? */
static __always_inline bool xsw_port_carries(const struct xsw_normal_port *p, __u32 vlan)
{
	if (!p)
		return true;
	switch (p->mode) {
	case XSW_VLAN_ACCESS:
		return vlan == p->tag;
	case XSW_VLAN_TRUNK:
		return xsw_trunk_has(p, vlan);
	}
	return vlan == p->tag || xsw_trunk_has(p, vlan);
}

static __always_inline void xsw_mac_key_of(struct xsw_mac_key *k, const __u8 *mac, __u16 vlan)
{
	__builtin_memcpy(k->mac, mac, 6);
	k->vlan = vlan;
}

/* The VID a frame of `vlan` leaves port `p` with (egressVid): none (0) on access ports
 * and for a native-untagged port's own VLAN, else the VLAN's. */
static __always_inline __u32 xsw_normal_want(const struct xsw_normal_port *p, __u32 vlan)
{
	if (p && (p->mode == XSW_VLAN_ACCESS || (p->mode == XSW_VLAN_NATIVE_UNTAGGED && vlan == p->tag)))
		return 0;
	return vlan;
}

/* Gives the key the outer tag `want` (0: none). True when the key changed. */
static __always_inline bool xsw_normal_retag(struct xsw_flow_key *k, __u32 want)
{
	bool tagged = k->vlan_tci & bpf_htons(XSW_VLAN_PRESENT);
	__u32 vid = bpf_ntohs(k->vlan_tci) & 0xfff;

	if (!want) {
		if (!tagged)
			return false;
		k->vlan_tci = k->vlan2_tci;
		k->vlan_tpid = (k->vlan2_tci & bpf_htons(XSW_VLAN_PRESENT)) ? bpf_htons(ETH_P_8021Q) : 0;
		k->vlan2_tci = 0;
		return true;
	}
	if (!tagged) {
		k->vlan_tci = bpf_htons(XSW_VLAN_PRESENT | want);
		k->vlan_tpid = bpf_htons(ETH_P_8021Q);
		return true;
	}
	if (want == vid)
		return false;
	k->vlan_tci = (k->vlan_tci & bpf_htons(0xf000)) | bpf_htons(want);
	return true;
}

/* Would the key's tag change for `want`? (xsw_normal_retag without the change.) */
static __always_inline bool xsw_normal_retags(const struct xsw_flow_key *k, __u32 want)
{
	bool tagged = k->vlan_tci & bpf_htons(XSW_VLAN_PRESENT);

	return want ? !tagged || (bpf_ntohs(k->vlan_tci) & 0xfff) != want : tagged;
}

/* Decides NORMAL for r->key: the port to output to (returns 1; OFPP_NORMAL: flood in
 * r->normal_vlan), or 0 when the packet was dropped (r->drop) or handed up (r->upcall). */
static __always_inline int xsw_normal(struct xsw_run *r, __u32 *port)
{
	__u32 zero = 0;
	struct xsw_normal_config *cfg = bpf_map_lookup_elem(&xsw_normal_config, &zero);
	struct xsw_flow_key *k = &r->key;
	struct xsw_mac_key mk = {};
	__u32 vid = 0, vlan;
	bool tagged = k->vlan_tci & bpf_htons(XSW_VLAN_PRESENT);

	if (!cfg || !cfg->enabled) {
		xsw_leave(r, XSW_UPCALL_NORMAL_SLOW, 0);
		return 0;
	}
	if (tagged) {
		vid = bpf_ntohs(k->vlan_tci) & 0xfff;
		/* A priority tag (VID 0), or an 802.1ad outer tag: the slow path. */
		if (!vid || k->vlan_tpid != bpf_htons(ETH_P_8021Q)) {
			xsw_leave(r, XSW_UPCALL_NORMAL_SLOW, 1);
			return 0;
		}
	}
	/* The VLAN the frame is in (src/ofproto/normal.ts ingressVlan), or drop it. */
	struct xsw_normal_port *inp = bpf_map_lookup_elem(&xsw_normal_ports, &k->in_port);

	vlan = vid;
	if (inp) {
		bool ok;

		if (inp->mode == XSW_VLAN_ACCESS) {
			ok = !vid;
			vlan = inp->tag;
		} else if (inp->mode == XSW_VLAN_TRUNK) {
			ok = xsw_trunk_has(inp, vid);
		} else {
			ok = !vid || xsw_trunk_has(inp, vid);
			if (!vid)
				vlan = inp->tag;
		}
		if (!ok) {
			r->drop = 1;
			return 0;
		}
	}
	vlan &= 0xfff;
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
	/* Unknown, multicast and broadcast destinations flood the VLAN: an output to
	 * OFPP_NORMAL that the hook expands to the ports carrying it (xsw_collect_copies). */
	r->normal_vlan = vlan;
	*port = OFPP_NORMAL;
	if (xsw_mac_multicast(k->eth_dst))
		return 1;
	xsw_mac_key_of(&mk, k->eth_dst, vlan);
	struct xsw_mac_entry *dst = bpf_map_lookup_elem(&xsw_macs, &mk);

	if (!dst || (now > dst->seen_ns && now - dst->seen_ns > aging))
		return 1;
	if (dst->ofport == k->in_port) {
		r->drop = 1; /* OVS: the destination is on the ingress port */
		return 0;
	}
	/* A port number that now names another device (or none): not known any more. */
	struct xsw_ofport *out = bpf_map_lookup_elem(&xsw_ofports, &dst->ofport);

	if (!out || out->ifindex != dst->ifindex)
		return 1;
	struct xsw_normal_port *outp = bpf_map_lookup_elem(&xsw_normal_ports, &dst->ofport);

	if (!xsw_port_carries(outp, vlan)) {
		r->drop = 1;
		return 0;
	}
	if (xsw_normal_retag(k, xsw_normal_want(outp, vlan)))
		r->dirty = 1;
	*port = dst->ofport;
	return 1;
}
