/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* The OpenFlow pipeline compiled into maps (proto/datapath/pipeline.ts), run on a
 * parsed flow key. Two phases, as OVS's datapath commits actions:
 *   1. walk: tuple-space lookup per table, then the rule's ops, which change only the
 *      key (set_field, push/pop VLAN, TTL) and record the output;
 *   2. commit: write to the frame what differs between the key at the output and the
 *      key as parsed, fixing checksums, and redirect.
 * Anything the fast path cannot finish leaves in phase 1, before the frame changed, so
 * the slow path gets it as it arrived. `xdp` is a compile-time constant of each
 * caller, which keeps one source for both hooks. */
#pragma once

#include "vmlinux.h"
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "gen/maps.h"
#include "lib/csum.h"
#include "lib/parse.h"

#define OFPP_MAX 0xffffff00
#define OFPP_IN_PORT 0xfffffff8
#define OFPP_NORMAL 0xfffffffa
#define OFPP_FLOOD 0xfffffffb
#define OFPP_ALL 0xfffffffc
#define OFPP_CONTROLLER 0xfffffffd
#define OFPP_LOCAL 0xfffffffe
#define OFPPC_PORT_DOWN (1 << 0)
#define OFPPC_NO_FWD (1 << 5)
#define OFPPC_NO_PACKET_IN (1 << 6)

#define XSW_TABLE_SLOW 1
#define XSW_TABLE_MATCHED (1u << 31)

#define BPF_F_PSEUDO_HDR_ (1ULL << 4)
#define BPF_F_MARK_MANGLED_0_ (1ULL << 5)

/* Outputs one packet may make (FLOOD, ALL and NORMAL's flood count as one here). */
#define XSW_MAX_OUTS 8
/* Copies one packet may become once FLOOD/ALL/NORMAL expand to ports; more: slow path. */
#define XSW_MAX_COPIES 64
/* xsw_copy.want: the copy leaves with the tag the key has. */
#define XSW_WANT_ASIS 0xffff

/* An output the walk made: where, and the key at that point (OpenFlow: each output
 * sends the packet as the actions before it left it). */
struct xsw_out_rec {
	__u32 port; /* OpenFlow port; OFPP_FLOOD/ALL, OFPP_NORMAL (its flood), CONTROLLER */
	__u32 table_id; /* of the rule that output (CONTROLLER's packet-in) */
	__u32 rule_id;
	__u16 max_len;
	__u8 dirty; /* the key differed from the frame: okeys[i] (i > 0) or out (i == 0) */
	__u8 reserved;
	__u32 vlan; /* OFPP_NORMAL: the frame's VLAN */
};

/* One frame to send, after FLOOD/ALL/NORMAL expanded (bpf/xdpswitch.bpf.c sends them). */
struct xsw_copy {
	__u32 ofport;
	__u32 ifindex; /* 0: to the controller */
	__u16 rec; /* the output (index into outs) */
	__u16 want; /* NORMAL's flood: the VID it leaves with (0: untagged); XSW_WANT_ASIS */
};

/* Per-packet state, too big for the 512-byte stack: one per CPU (a program is not
 * preempted by another on the same CPU at these hooks). */
struct xsw_run {
	struct xsw_flow_key key; /* as the ops left it */
	struct xsw_flow_key out; /* at the output */
	struct xsw_flow_key orig; /* as parsed */
	struct xsw_rule_key rk; /* lookup scratch */
	__u32 hits[XSW_MAX_TABLE_HOPS]; /* rule ids, counted when the fast path finishes */
	__u32 hit_ops[XSW_MAX_TABLE_HOPS][2]; /* their op_start, n_ops (for the cache) */
	__u64 ck[XSW_EMC_WORDS]; /* the cache key: masked words of orig */
	__u32 n_hits;
	__u32 tables[XSW_MAX_TABLE_HOPS]; /* tables looked up: id | XSW_TABLE_MATCHED */
	__u32 n_tables;
	__u32 n_out;
	__u32 out_port;
	__u32 max_len;
	__u32 table_id; /* of the current rule */
	__u32 rule_id;
	__u32 upcall; /* enum xsw_upcall_reason + 1 when the packet must leave */
	__u32 upcall_arg;
	__u32 l3_off; /* from the parser: where L3 starts in the frame's bytes */
	__s32 l4_off; /* from the parser; -1 without an L4 header */
	__u32 len;
	__u32 cur_table; /* of the rule whose ops run */
	__u32 cur_rule;
	__s32 next; /* goto_table of the current rule: -1 none */
	__u8 dirty; /* an op changed a field of the frame in key */
	__u8 out_dirty; /* ... before the output: commit out to the frame */
	__u8 drop; /* a meter band dropped the packet: the walk ends, counted, no output */
	__u8 ct_pending; /* the rule's last op was ct(table=…): the hook looks it up (lib/ct.h) */
	__u16 ct_zone; /* of the pending ct */
	__u32 ct_table; /* where the pending ct recirculates */
	__u32 walk_from; /* table the walk starts at: 0, or a ct's table= */
	__u32 recircs; /* ct recirculations of this packet */
	__u32 n_meters; /* meter ops run on this packet: the slow path skips as many (upcall.meters) */
	__u32 normal_vlan; /* set by NORMAL when it floods */
	__u32 n_copies;
	__u8 multi; /* several outputs, or one that floods */
	__u8 uniform; /* every copy leaves the same, to every port but the ingress one */
	__u8 copies_overflow;
	__u8 reserved_;
	struct xsw_out_rec outs[XSW_MAX_OUTS];
	struct xsw_flow_key okeys[XSW_MAX_OUTS]; /* the key at output i > 0 when dirty */
	struct xsw_flow_key base; /* several outputs: the frame as parsed */
	struct xsw_copy copies[XSW_MAX_COPIES];
	struct xsw_flow_key gsave; /* the key before the current group bucket */
	__u8 gsave_dirty;
	__u8 in_bucket;
	__u16 reserved2_;
	__u32 n_groups;
	__u32 groups[XSW_MAX_GROUPS]; /* group ids run, counted when the fast path finishes */
};

/* Recirculations one packet may make, as the model (MAX_RECIRCULATIONS, trace.ts). */
#define XSW_MAX_RECIRCS 6

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct xsw_run);
} xsw_run_scratch SEC(".maps");

#define XSW_KEY_WORDS (sizeof(struct xsw_flow_key) / 8)

static __always_inline void xsw_leave(struct xsw_run *r, __u32 reason, __u32 arg)
{
	if (!r->upcall) {
		r->upcall = reason + 1;
		r->upcall_arg = arg;
	}
}

/* The loops below run through bpf_loop (Linux 5.17): the verifier checks a callback
 * once, where bounded loops nested this deep (hops × masks × ops) exceed its 1M
 * instruction budget. Callbacks return 0 to go on, 1 to stop. */
struct xsw_lookup_ctx {
	struct xsw_run *r;
	struct xsw_table *t;
	struct xsw_rule *best;
	__u32 best_prio;
};

static long xsw_mask_cb(__u32 i, void *data)
{
	struct xsw_lookup_ctx *lc = data;
	struct xsw_run *r = lc->r;
	struct xsw_table *t = lc->t;
	__u32 slot = i & (XSW_MAX_MASKS - 1);

	if (!r || !t || i >= t->n_masks)
		return 1;
	__u32 mask_id = t->masks[2 * slot];
	__u32 max_prio = t->masks[2 * slot + 1];

	/* Masks are sorted by their highest priority: stop at the first that cannot beat
	 * the best rule found. */
	if (lc->best && max_prio <= lc->best_prio)
		return 1;
	__u64 *m = bpf_map_lookup_elem(&xsw_masks, &mask_id);
	if (!m)
		return 0;
	__u64 *k = (__u64 *)&r->key;
	__u64 *d = (__u64 *)&r->rk.key;

	for (int w = 0; w < XSW_KEY_WORDS; w++)
		d[w] = k[w] & m[w];
	r->rk.mask_id = mask_id;
	struct xsw_rule *rule = bpf_map_lookup_elem(&xsw_rules, &r->rk);

	if (rule && (!lc->best || rule->priority > lc->best_prio)) {
		lc->best = rule;
		lc->best_prio = rule->priority;
	}
	return 0;
}

/* Highest-priority rule of `table_id` matching r->key, or NULL. */
static __always_inline struct xsw_rule *xsw_lookup(struct xsw_run *r, __u32 table_id)
{
	struct xsw_lookup_ctx lc = { .r = r };

	lc.t = bpf_map_lookup_elem(&xsw_tables, &table_id);
	if (!lc.t)
		return NULL;
	if (lc.t->flags & XSW_TABLE_SLOW) {
		xsw_leave(r, XSW_UPCALL_MASKS, table_id);
		return NULL;
	}
	r->rk.table_id = table_id;
	bpf_loop(XSW_MAX_MASKS, xsw_mask_cb, &lc, 0);
	return lc.best;
}

/* BPF has no memcmp; `n` is a constant, so this unrolls. */
static __always_inline bool xsw_differ(const void *a, const void *b, int n)
{
	const __u8 *x = a, *y = b;
	__u8 d = 0;

	for (int i = 0; i < n; i++)
		d |= x[i] ^ y[i];
	return d;
}

static __always_inline bool xsw_vlan(__be16 tci)
{
	return tci & bpf_htons(XSW_VLAN_PRESENT);
}

static __always_inline bool xsw_cond(const struct xsw_flow_key *k, __u8 cond)
{
	bool v4 = k->eth_type == bpf_htons(ETH_P_IP), v6 = k->eth_type == bpf_htons(ETH_P_IPV6);
	bool l4 = (v4 || v6) && !(k->ip_frag & XSW_FRAG_LATER);

	switch (cond) {
	case XSW_COND_VLAN:
		return xsw_vlan(k->vlan_tci);
	case XSW_COND_IPV4:
		return v4;
	case XSW_COND_IPV6:
		return v6;
	case XSW_COND_IP:
		return v4 || v6;
	case XSW_COND_TCP:
		return l4 && k->ip_proto == IPPROTO_TCP;
	case XSW_COND_UDP:
		return l4 && k->ip_proto == IPPROTO_UDP;
	case XSW_COND_ARP:
		return k->eth_type == bpf_htons(ETH_P_ARP);
	}
	return true;
}

#define OFPMF_PKTPS (1 << 1)
#define OFPMBT_DROP 1
#define OFPMBT_DSCP_REMARK 2

/* A packet of `len` bytes through meter `m` (src/ofproto/meter.ts meterPacket, in
 * nanoseconds): every band's bucket refills, pays the cost if it can, and the exceeded
 * band with the highest rate is returned (its index), or -1. Buckets are scaled so that
 * a band gains `rate` per ns; after a second idle they are full (a burst deeper than a
 * second of rate refills more slowly in the model). */
static __always_inline int xsw_meter_packet(struct xsw_meter *m, __u32 len, __u32 *type, __u32 *prec)
{
	__u64 now = bpf_ktime_get_ns();
	int hit = -1;
	__u32 hit_rate = 0;

	bpf_spin_lock(&m->lock);
	__u64 dt = m->last_ns && now > m->last_ns ? now - m->last_ns : 0;
	__u64 cost = (m->flags & OFPMF_PKTPS) ? 1000ULL * XSW_METER_SCALE : (__u64)len * 8 * XSW_METER_SCALE;
	__u32 n = m->n_bands;

	m->last_ns = now;
	m->packets++;
	m->bytes += len;
	for (int i = 0; i < XSW_METER_BANDS; i++) {
		if (i >= n)
			break;
		__u64 cap = m->band_capacity[i];
		__u64 t = m->band_tokens[i];
		__u32 rate = m->band_rate[i];

		t = dt >= 1000000000ULL ? cap : t + (__u64)rate * dt;
		if (t > cap)
			t = cap;
		if (t >= cost) {
			t -= cost;
		} else if (hit < 0 || rate > hit_rate) {
			hit = i;
			hit_rate = rate;
		}
		m->band_tokens[i] = t;
	}
	if (hit >= 0 && hit < XSW_METER_BANDS) {
		m->band_packets[hit]++;
		m->band_bytes[hit] += len;
		*type = m->band_type[hit];
		*prec = m->band_prec_level[hit];
	}
	bpf_spin_unlock(&m->lock);
	return hit;
}

#include "lib/normal.h"

/* A second or later output (the first is recorded inline, the common case). */
__noinline int xsw_output_more(struct xsw_run *r, __u32 port, __u32 max_len)
{
	if (!r)
		return 0;
	__u32 i = r->n_out;

	if (i >= XSW_MAX_OUTS) {
		xsw_leave(r, XSW_UPCALL_MULTI_OUTPUT, i);
		return 0;
	}
	r->n_out = i + 1;
	r->multi = 1;
	struct xsw_out_rec *rec = &r->outs[i & (XSW_MAX_OUTS - 1)];

	rec->port = port;
	rec->table_id = r->cur_table;
	rec->rule_id = r->cur_rule;
	rec->max_len = max_len;
	rec->dirty = r->dirty;
	rec->vlan = r->normal_vlan;
	if (r->dirty)
		__builtin_memcpy(&r->okeys[i & (XSW_MAX_OUTS - 1)], &r->key, sizeof(r->key));
	return 0;
}

/* A group bucket starts (end 0) or ends: each bucket acts on its own copy of the packet,
 * so what it changes only its outputs see. A global function: the op loop stays small. */
__noinline int xsw_bucket(struct xsw_run *r, int end)
{
	if (!r)
		return 0;
	if (end) {
		__builtin_memcpy(&r->key, &r->gsave, sizeof(r->key));
		r->dirty = r->gsave_dirty;
		r->in_bucket = 0;
	} else {
		__builtin_memcpy(&r->gsave, &r->key, sizeof(r->key));
		r->gsave_dirty = r->dirty;
		r->in_bucket = 1;
	}
	return 0;
}

/* One op of the current rule (r->cur_table, r->cur_rule) on r->key. */
static __always_inline void xsw_exec_op(struct xsw_run *r, struct xsw_op *op)
{
	__u32 normal_port = 0;

	if (op->cond && !xsw_cond(&r->key, op->cond))
		return;
	switch (op->code) {
	case XSW_OP_NORMAL:
		/* A known destination is an output like any other; flooding is an output to
		 * OFPP_NORMAL that the hook expands (r->normal_vlan); the rest left or dropped. */
		if (!xsw_normal(r, &normal_port))
			break;
		/* fallthrough */
	case XSW_OP_OUTPUT: {
		__u32 port = op->code == XSW_OP_NORMAL ? normal_port : op->arg;
		__u32 i = r->n_out;

		/* Output to the ingress port needs OFPP_IN_PORT (OF1.3 §7.2.5): nothing. */
		if (port == r->key.in_port)
			break;
		if (port == OFPP_IN_PORT)
			port = r->key.in_port;
		if (i) {
			xsw_output_more(r, port, op->len);
			break;
		}
		r->n_out = 1;
		struct xsw_out_rec *rec = &r->outs[0];

		rec->port = port;
		rec->table_id = r->cur_table;
		rec->rule_id = r->cur_rule;
		rec->max_len = op->len;
		rec->dirty = r->dirty;
		rec->vlan = r->normal_vlan;
		if (port == OFPP_FLOOD || port == OFPP_ALL || port == OFPP_NORMAL)
			r->multi = 1;
		r->out_port = port;
		r->max_len = op->len;
		r->table_id = r->cur_table;
		r->rule_id = r->cur_rule;
		/* The frame changes only when an op changed the key: otherwise out is orig. */
		r->out_dirty = r->dirty;
		if (r->dirty)
			__builtin_memcpy(&r->out, &r->key, sizeof(r->key));
		break;
	}
	case XSW_OP_SET_FIELD: {
		__u32 off = op->arg;
		__u8 *k = (__u8 *)&r->key;

		if (off > sizeof(r->key) - 16)
			break;
		for (int j = 0; j < 16; j++)
			if (j < op->len)
				k[off + j] = op->val[j];
		r->dirty = 1;
		break;
	}
	case XSW_OP_SET_MASKED: {
		__u32 off = op->arg;
		__u8 *k = (__u8 *)&r->key;

		if (off > sizeof(r->key) - 8)
			break;
		for (int j = 0; j < 8; j++)
			if (j < op->len)
				k[off + j] = (k[off + j] & ~op->val[8 + j]) | op->val[j];
		r->dirty = 1;
		break;
	}
	case XSW_OP_PUSH_VLAN:
		/* A third tag, or an inner tag whose TPID the key cannot keep: slow path. */
		if (xsw_vlan(r->key.vlan2_tci) ||
		    (xsw_vlan(r->key.vlan_tci) && r->key.vlan_tpid != bpf_htons(ETH_P_8021Q))) {
			xsw_leave(r, XSW_UPCALL_UNSUPPORTED, XSW_OP_PUSH_VLAN);
			break;
		}
		/* The new tag copies VID and PCP from the old outer tag, if any (§7.2.5). */
		r->key.vlan2_tci = r->key.vlan_tci;
		r->key.vlan_tci |= bpf_htons(XSW_VLAN_PRESENT);
		r->key.vlan_tpid = bpf_htons((__u16)op->arg);
		r->dirty = 1;
		break;
	case XSW_OP_POP_VLAN:
		if (!xsw_vlan(r->key.vlan_tci))
			break;
		r->key.vlan_tci = r->key.vlan2_tci;
		r->key.vlan_tpid = xsw_vlan(r->key.vlan2_tci) ? bpf_htons(ETH_P_8021Q) : 0;
		r->key.vlan2_tci = 0;
		r->dirty = 1;
		break;
	case XSW_OP_DEC_NW_TTL:
		if (!xsw_cond(&r->key, XSW_COND_IP))
			break;
		/* A TTL that would reach zero stops the packet and makes a packet-in with
		 * reason OFPR_INVALID_TTL: the slow path builds it. */
		if (r->key.ip_ttl <= 1) {
			xsw_leave(r, XSW_UPCALL_INVALID_TTL, 0);
			break;
		}
		r->key.ip_ttl--;
		r->dirty = 1;
		break;
	case XSW_OP_SET_NW_TTL:
		if (xsw_cond(&r->key, XSW_COND_IP)) {
			r->key.ip_ttl = op->arg;
			r->dirty = 1;
		}
		break;
	case XSW_OP_WRITE_METADATA: {
		__u64 v = *(__u64 *)op->val, m = *(__u64 *)(op->val + 8);

		r->key.metadata = (r->key.metadata & ~m) | (v & m);
		break;
	}
	case XSW_OP_GOTO_TABLE:
		r->next = op->arg;
		break;
	case XSW_OP_METER: {
		__u32 id = op->arg, type = 0, prec = 0;
		struct xsw_meter *m = bpf_map_lookup_elem(&xsw_meters, &id);

		r->n_meters++;
		/* A meter the datapath does not have meters nothing, as in the model. */
		if (!m || xsw_meter_packet(m, r->len, &type, &prec) < 0)
			break;
		if (type == OFPMBT_DROP) {
			r->drop = 1;
		} else if (type == OFPMBT_DSCP_REMARK && xsw_cond(&r->key, XSW_COND_IP)) {
			/* Raise the drop precedence by prec_level (AF classes step by 2), at most 63. */
			__u32 dscp = (r->key.ip_tos >> 2) + 2 * prec;

			if (dscp > 63)
				dscp = 63;
			r->key.ip_tos = (dscp << 2) | (r->key.ip_tos & 3);
			r->dirty = 1;
		}
		break;
	}
	case XSW_OP_CT:
		/* Only the kfuncs at the hook can look the connection up: the walk ends here
		 * (the compiler makes CT the last op, with no goto_table) and the hook carries
		 * on at table arg with the ct fields set. */
		r->ct_pending = 1;
		r->ct_zone = op->len;
		r->ct_table = op->arg;
		break;
	case XSW_OP_GROUP: {
		__u32 i = r->n_groups;

		/* A group inside a bucket (chaining), or more groups than counted: slow path. */
		if (r->in_bucket || i >= XSW_MAX_GROUPS) {
			xsw_leave(r, XSW_UPCALL_UNSUPPORTED, XSW_OP_GROUP);
			break;
		}
		r->groups[i & (XSW_MAX_GROUPS - 1)] = op->arg;
		r->n_groups = i + 1;
		break;
	}
	case XSW_OP_BUCKET:
	case XSW_OP_BUCKET_END:
		xsw_bucket(r, op->code == XSW_OP_BUCKET_END);
		break;
	case XSW_OP_UPCALL:
		xsw_leave(r, op->arg, 0);
		break;
	default:
		xsw_leave(r, XSW_UPCALL_UNSUPPORTED, op->code);
	}
}

/* A rule's ops, `n` from xsw_ops[start], until one hands the packet up. A global
 * function: the walk and the cache's replay run the very same code, verified once; one
 * call per rule, not per op (each call costs a return thunk on this CPU). */
__noinline int xsw_run_ops(struct xsw_run *r, __u32 start, __u32 n)
{
	if (!r)
		return 0;
	for (int i = 0; i < XSW_MAX_OPS; i++) {
		if (i >= n || r->upcall || r->drop)
			break;
		__u32 idx = start + i;
		struct xsw_op *op = bpf_map_lookup_elem(&xsw_ops, &idx);

		if (!op)
			break;
		xsw_exec_op(r, op);
	}
	return 0;
}

struct xsw_walk_ctx {
	struct xsw_run *r;
	__u32 table_id;
	int result; /* 0, or -2 when the packet is dropped on purpose */
	bool done;
};

/* One table: lookup, then the rule's ops. */
static long xsw_hop_cb(__u32 hop, void *data)
{
	struct xsw_walk_ctx *wc = data;
	struct xsw_run *r = wc->r;

	if (!r)
		return 1;
	struct xsw_rule *rule = xsw_lookup(r, wc->table_id);
	__u32 i = r->n_tables;

	if (i < XSW_MAX_TABLE_HOPS) {
		r->tables[i & (XSW_MAX_TABLE_HOPS - 1)] = wc->table_id | (rule ? XSW_TABLE_MATCHED : 0);
		r->n_tables = i + 1;
	}
	if (!rule) {
		wc->done = true; /* table miss without a table-miss entry: drop (OF1.3 §5.4) */
		return 1;
	}
	/* Every table but a missed last one matched, so hit i is table i. */
	i = r->n_hits;
	if (i < XSW_MAX_TABLE_HOPS) {
		r->hits[i & (XSW_MAX_TABLE_HOPS - 1)] = rule->rule_id;
		r->hit_ops[i & (XSW_MAX_TABLE_HOPS - 1)][0] = rule->op_start;
		r->hit_ops[i & (XSW_MAX_TABLE_HOPS - 1)][1] = rule->n_ops;
		r->n_hits = i + 1;
	}
	r->next = -1;
	r->cur_table = wc->table_id;
	r->cur_rule = rule->rule_id;
	/* The compiler sends programs longer than XSW_MAX_OPS to the slow path. */
	if (rule->n_ops > XSW_MAX_OPS)
		xsw_leave(r, XSW_UPCALL_OPS, rule->n_ops);
	else
		xsw_run_ops(r, rule->op_start, rule->n_ops);
	if (r->drop || r->next == -2) {
		wc->result = -2;
		wc->done = true;
		return 1;
	}
	/* goto_table only goes forward; anything else ends the walk. */
	if (r->upcall || r->next <= (int)wc->table_id) {
		wc->done = true;
		return 1;
	}
	wc->table_id = r->next;
	return 0;
}

/* Phase 1: the walk from table r->walk_from (0, or after a ct the table it recirculates
 * to). Returns -2 when the packet is dropped on purpose.
 * A global function, so the verifier checks it once, apart from its callers' paths. */
__noinline int xsw_walk(struct xsw_run *r)
{
	struct xsw_walk_ctx wc = { .r = r };

	if (!r)
		return 0;
	wc.table_id = r->walk_from;
	bpf_loop(XSW_MAX_TABLE_HOPS, xsw_hop_cb, &wc, 0);
	if (!wc.done)
		xsw_leave(r, XSW_UPCALL_TABLE_HOPS, 0);
	return wc.result;
}

/* ---- the exact-match cache ------------------------------------------------------------
 * In front of the walk: the words of the parsed key that decide the walk (what some
 * mask in use covers, in_port, and what ops test) pick a 2-way set of a per-CPU array;
 * an entry holds the tables and rules the walk found. A hit runs the same rules' ops
 * again on this frame (they read it: TTL, VLAN tags), so it ends exactly as the walk
 * would; it only skips the lookups. Entries carry the generation of the flow tables,
 * which every change bumps last: a stale entry is a miss. */

static __always_inline __u64 xsw_mix(__u64 h, __u64 w)
{
	h = (h ^ w) * 0x9e3779b97f4a7c15ULL;
	return h ^ (h >> 29);
}

/* Fills r->ck with the masked words and returns the first entry of their set, or
 * XSW_EMC_ENTRIES when the cache is off. */
static __always_inline __u32 xsw_emc_key(struct xsw_run *r, __u32 gen)
{
	__u32 ci = gen & 1;
	struct xsw_emc_config *cfg = bpf_map_lookup_elem(&xsw_emc_config, &ci);
	__u64 *k = (__u64 *)&r->orig;
	__u64 h = 0;

	if (!gen || !cfg || !cfg->n_words)
		return XSW_EMC_ENTRIES;
	for (int i = 0; i < XSW_EMC_WORDS; i++) {
		__u32 idx = cfg->words[i];

		if (idx >= XSW_KEY_WORDS)
			idx = 0;
		r->ck[i] = k[idx] & cfg->masks[i];
		h = xsw_mix(h, r->ck[i]);
	}
	return (__u32)(h ^ (h >> 32)) & (XSW_EMC_ENTRIES - 2);
}

static __always_inline bool xsw_emc_same(const struct xsw_emc_entry *e, const struct xsw_run *r)
{
	__u64 d = 0;

	for (int i = 0; i < XSW_EMC_WORDS; i++)
		d |= e->key[i] ^ r->ck[i];
	return !d;
}

/* Replays a cached walk: the tables and rules it found, and each rule's ops. */
static __always_inline void xsw_emc_replay(struct xsw_run *r, struct xsw_emc_entry *e)
{
	__u32 n = e->n_hops;

	for (int i = 0; i < XSW_EMC_HOPS; i++) {
		if (i >= n || r->upcall || r->drop)
			break;
		__u32 t = e->hops[4 * i];

		r->tables[i] = t;
		r->n_tables = i + 1;
		if (!(t & XSW_TABLE_MATCHED))
			break;
		r->hits[i] = e->hops[4 * i + 1];
		r->n_hits = i + 1;
		r->cur_table = t & 0xff;
		r->cur_rule = e->hops[4 * i + 1];
		xsw_run_ops(r, e->hops[4 * i + 2], e->hops[4 * i + 3]);
	}
}

/* After a walk the fast path finishes: remember it, unless it was too long. */
static __always_inline void xsw_emc_store(struct xsw_run *r, __u32 set, __u32 gen)
{
	__u32 n = r->n_tables;
	__u32 way = set;
	struct xsw_emc_entry *e = bpf_map_lookup_elem(&xsw_emc, &way);

	if (n > XSW_EMC_HOPS || !e)
		return;
	if (e->gen == gen) {
		/* Both ways live: replace the second (the first keeps the older flow). */
		way = set + 1;
		e = bpf_map_lookup_elem(&xsw_emc, &way);
		if (!e)
			return;
	}
	e->gen = 0;
	for (int i = 0; i < XSW_EMC_WORDS; i++)
		e->key[i] = r->ck[i];
	for (int i = 0; i < XSW_EMC_HOPS; i++) {
		if (i >= n)
			break;
		e->hops[4 * i] = r->tables[i];
		e->hops[4 * i + 1] = r->hits[i];
		e->hops[4 * i + 2] = r->hit_ops[i][0];
		e->hops[4 * i + 3] = r->hit_ops[i][1];
	}
	e->n_hops = n;
	e->gen = gen;
}

/* Counts the rules hit and the tables looked up once the fast path finished the
 * packet (a packet handed to the slow path is counted there, once). */
static __always_inline void xsw_count_rules(struct xsw_run *r)
{
	for (int i = 0; i < XSW_MAX_TABLE_HOPS; i++) {
		if (i >= r->n_tables)
			break;
		__u32 t = r->tables[i] & 0xff;
		struct xsw_table_stats *ts = bpf_map_lookup_elem(&xsw_table_stats, &t);

		if (ts) {
			ts->lookups++;
			if (r->tables[i] & XSW_TABLE_MATCHED)
				ts->matched++;
		}
	}
	for (int i = 0; i < XSW_MAX_GROUPS; i++) {
		if (i >= r->n_groups)
			break;
		__u32 id = r->groups[i];
		struct xsw_group_stats *g = bpf_map_lookup_elem(&xsw_group_stats, &id);

		if (!g) {
			struct xsw_group_stats zero = {};

			bpf_map_update_elem(&xsw_group_stats, &id, &zero, BPF_NOEXIST);
			g = bpf_map_lookup_elem(&xsw_group_stats, &id);
		}
		if (g) {
			g->packets++;
			g->bytes += r->len;
		}
	}
	/* Coarse (jiffy) time is enough for idle timeouts and much cheaper per packet. */
	__u64 now = bpf_ktime_get_coarse_ns();

	for (int i = 0; i < XSW_MAX_TABLE_HOPS; i++) {
		if (i >= r->n_hits)
			break;
		__u32 id = r->hits[i];
		struct xsw_rule_stats *s = bpf_map_lookup_elem(&xsw_rule_stats, &id);

		if (s) {
			s->packets++;
			s->bytes += r->len;
			s->last_used = now;
		}
	}
}

/* ---- phase 2: commit the key at the output to the frame ---------------------------- */

static __always_inline long xsw_load(void *ctx, bool xdp, __u32 off, void *to, __u32 len)
{
	return xdp ? bpf_xdp_load_bytes(ctx, off, to, len) : bpf_skb_load_bytes(ctx, off, to, len);
}

static __always_inline long xsw_store(void *ctx, bool xdp, __u32 off, void *from, __u32 len)
{
	return xdp ? bpf_xdp_store_bytes(ctx, off, from, len) : bpf_skb_store_bytes(ctx, off, from, len, 0);
}

/* IPv4 header checksum after a 16- or 32-bit word changed. */
static __always_inline void xsw_fix_l3(void *ctx, bool xdp, __u32 l3, __u32 from, __u32 to, int size)
{
	if (!xdp) {
		bpf_l3_csum_replace(ctx, l3 + 10, from, to, size);
		return;
	}
	__u16 sum;

	if (xsw_load(ctx, xdp, l3 + 10, &sum, 2))
		return;
	sum = size == 4 ? xsw_csum_replace4(sum, from, to) : xsw_csum_replace2(sum, from, to);
	xsw_store(ctx, xdp, l3 + 10, &sum, 2);
}

/* TCP/UDP/ICMPv6 checksum after a 16- or 32-bit word changed; `pseudo` when the word is
 * in the pseudo-header (addresses). UDP's "no checksum" (0) is left alone. */
static __always_inline void xsw_fix_l4(void *ctx, bool xdp, __u32 csum_off, bool udp, __u32 from,
				       __u32 to, int size, bool pseudo)
{
	if (!xdp) {
		__u64 flags = size | (pseudo ? BPF_F_PSEUDO_HDR_ : 0) | (udp ? BPF_F_MARK_MANGLED_0_ : 0);

		bpf_l4_csum_replace(ctx, csum_off, from, to, flags);
		return;
	}
	__u16 sum;

	if (xsw_load(ctx, xdp, csum_off, &sum, 2))
		return;
	if (udp && !sum)
		return;
	sum = size == 4 ? xsw_csum_replace4(sum, from, to) : xsw_csum_replace2(sum, from, to);
	if (udp && !sum)
		sum = 0xffff;
	xsw_store(ctx, xdp, csum_off, &sum, 2);
}

/* Offset of the L4 checksum for the key's protocol, or 0 when it has none we keep. */
static __always_inline __u32 xsw_l4_csum_off(const struct xsw_flow_key *k, __s32 l4)
{
	if (l4 < 0 || (k->ip_frag & XSW_FRAG_LATER))
		return 0;
	switch (k->ip_proto) {
	case IPPROTO_TCP:
		return l4 + 16;
	case IPPROTO_UDP:
		return l4 + 6;
	case IPPROTO_ICMPV6:
		return l4 + 2;
	}
	return 0;
}

static __always_inline int xsw_tags(const struct xsw_flow_key *k)
{
	return xsw_vlan(k->vlan_tci) + xsw_vlan(k->vlan2_tci);
}

#define XSW_COMMIT_ERR (-100)

/* L2: MACs and VLAN tags. In XDP the tags are bytes of the frame; at TC the outer tag
 * may be skb metadata, and the vlan helpers deal with both. Returns the shift of the
 * L3 header in bytes (-8..8: positive when tags were added), or XSW_COMMIT_ERR. */
static __always_inline int xsw_commit_l2(void *ctx, bool xdp, struct xsw_run *r)
{
	struct xsw_flow_key *o = &r->orig, *n = &r->out;
	int before = xsw_tags(o), after = xsw_tags(n);

	if (xsw_differ(o->eth_dst, n->eth_dst, 12))
		xsw_store(ctx, xdp, 0, n->eth_dst, 12);
	if (o->vlan_tci == n->vlan_tci && o->vlan_tpid == n->vlan_tpid && o->vlan2_tci == n->vlan2_tci)
		return 0;
	if (xdp) {
		struct {
			__be16 tpid, tci, tpid2, tci2;
		} tags = { n->vlan_tpid, n->vlan_tci & ~bpf_htons(XSW_VLAN_PRESENT), bpf_htons(ETH_P_8021Q),
			   n->vlan2_tci & ~bpf_htons(XSW_VLAN_PRESENT) };
		__u8 macs[12];

		if (before != after) {
			if (xsw_load(ctx, xdp, 0, macs, 12))
				return XSW_COMMIT_ERR;
			if (bpf_xdp_adjust_head(ctx, (before - after) * 4))
				return XSW_COMMIT_ERR;
			if (xsw_store(ctx, xdp, 0, macs, 12))
				return XSW_COMMIT_ERR;
		}
		if (after == 1)
			xsw_store(ctx, xdp, 12, &tags, 4);
		else if (after == 2)
			xsw_store(ctx, xdp, 12, &tags, 8);
		return (after - before) * 4;
	}
	/* TC: pop what was there, push what must be; the helpers keep the tag of an skb in
	 * metadata or in the frame as the device wants it. */
	for (int i = 0; i < 2; i++)
		if (i < before && bpf_skb_vlan_pop(ctx))
			return XSW_COMMIT_ERR;
	if (after == 2 && bpf_skb_vlan_push(ctx, bpf_htons(ETH_P_8021Q),
					    bpf_ntohs(n->vlan2_tci & ~bpf_htons(XSW_VLAN_PRESENT))))
		return XSW_COMMIT_ERR;
	if (after >= 1 && bpf_skb_vlan_push(ctx, n->vlan_tpid,
					    bpf_ntohs(n->vlan_tci & ~bpf_htons(XSW_VLAN_PRESENT))))
		return XSW_COMMIT_ERR;
	return 0;
}

/* L3/L4: addresses, TOS, TTL and ports, with their checksums. */
static __always_inline void xsw_commit_l3(void *ctx, bool xdp, struct xsw_run *r, __u32 l3, __s32 l4)
{
	struct xsw_flow_key *o = &r->orig, *n = &r->out;
	__u32 csum = xsw_l4_csum_off(n, l4);
	bool udp = n->ip_proto == IPPROTO_UDP;

	if (n->eth_type == bpf_htons(ETH_P_IP)) {
		if (o->ipv4_src != n->ipv4_src) {
			xsw_store(ctx, xdp, l3 + 12, &n->ipv4_src, 4);
			xsw_fix_l3(ctx, xdp, l3, o->ipv4_src, n->ipv4_src, 4);
			if (csum && n->ip_proto != IPPROTO_ICMPV6)
				xsw_fix_l4(ctx, xdp, csum, udp, o->ipv4_src, n->ipv4_src, 4, true);
		}
		if (o->ipv4_dst != n->ipv4_dst) {
			xsw_store(ctx, xdp, l3 + 16, &n->ipv4_dst, 4);
			xsw_fix_l3(ctx, xdp, l3, o->ipv4_dst, n->ipv4_dst, 4);
			if (csum && n->ip_proto != IPPROTO_ICMPV6)
				xsw_fix_l4(ctx, xdp, csum, udp, o->ipv4_dst, n->ipv4_dst, 4, true);
		}
		if (o->ip_tos != n->ip_tos || o->ip_ttl != n->ip_ttl) {
			/* TOS is byte 1 of the word at 0; TTL byte 0 of the word at 8. */
			__be16 w0o = bpf_htons(0x4500 | o->ip_tos), w0n = bpf_htons(0x4500 | n->ip_tos);
			__be16 w8o = bpf_htons((__u16)o->ip_ttl << 8), w8n = bpf_htons((__u16)n->ip_ttl << 8);
			__u8 ttl = n->ip_ttl, tos = n->ip_tos;

			if (o->ip_tos != n->ip_tos) {
				xsw_store(ctx, xdp, l3 + 1, &tos, 1);
				xsw_fix_l3(ctx, xdp, l3, w0o, w0n, 2);
			}
			if (o->ip_ttl != n->ip_ttl) {
				/* The protocol shares the word with the TTL: both sides carry it. */
				w8o |= bpf_htons(n->ip_proto);
				w8n |= bpf_htons(n->ip_proto);
				xsw_store(ctx, xdp, l3 + 8, &ttl, 1);
				xsw_fix_l3(ctx, xdp, l3, w8o, w8n, 2);
			}
		}
	} else if (n->eth_type == bpf_htons(ETH_P_IPV6)) {
		if (xsw_differ(o->ipv6_src, n->ipv6_src, 16)) {
			xsw_store(ctx, xdp, l3 + 8, n->ipv6_src, 16);
			if (csum)
				for (int i = 0; i < 16; i += 4)
					xsw_fix_l4(ctx, xdp, csum, udp, *(__u32 *)(o->ipv6_src + i),
						   *(__u32 *)(n->ipv6_src + i), 4, true);
		}
		if (xsw_differ(o->ipv6_dst, n->ipv6_dst, 16)) {
			xsw_store(ctx, xdp, l3 + 24, n->ipv6_dst, 16);
			if (csum)
				for (int i = 0; i < 16; i += 4)
					xsw_fix_l4(ctx, xdp, csum, udp, *(__u32 *)(o->ipv6_dst + i),
						   *(__u32 *)(n->ipv6_dst + i), 4, true);
		}
		if (o->ip_ttl != n->ip_ttl)
			xsw_store(ctx, xdp, l3 + 7, &n->ip_ttl, 1);
		if (o->ip_tos != n->ip_tos) {
			/* Traffic class straddles the first two bytes: version(4) | TC(8) | label(20). */
			__u8 b[2];

			if (!xsw_load(ctx, xdp, l3, b, 2)) {
				b[0] = 0x60 | (n->ip_tos >> 4);
				b[1] = (b[1] & 0x0f) | (n->ip_tos << 4);
				xsw_store(ctx, xdp, l3, b, 2);
			}
		}
	} else if (n->eth_type == bpf_htons(ETH_P_ARP)) {
		if (o->arp_op != n->arp_op)
			xsw_store(ctx, xdp, l3 + 6, &n->arp_op, 2);
		if (xsw_differ(o->arp_sha, n->arp_sha, 6))
			xsw_store(ctx, xdp, l3 + 8, n->arp_sha, 6);
		if (o->ipv4_src != n->ipv4_src)
			xsw_store(ctx, xdp, l3 + 14, &n->ipv4_src, 4);
		if (xsw_differ(o->arp_tha, n->arp_tha, 6))
			xsw_store(ctx, xdp, l3 + 18, n->arp_tha, 6);
		if (o->ipv4_dst != n->ipv4_dst)
			xsw_store(ctx, xdp, l3 + 24, &n->ipv4_dst, 4);
		return;
	}
	if (l4 < 0 || (n->ip_frag & XSW_FRAG_LATER) || (n->ip_proto != IPPROTO_TCP && n->ip_proto != IPPROTO_UDP))
		return;
	if (o->tp_src != n->tp_src) {
		xsw_store(ctx, xdp, l4, &n->tp_src, 2);
		xsw_fix_l4(ctx, xdp, csum, udp, o->tp_src, n->tp_src, 2, false);
	}
	if (o->tp_dst != n->tp_dst) {
		xsw_store(ctx, xdp, l4 + 2, &n->tp_dst, 2);
		xsw_fix_l4(ctx, xdp, csum, udp, o->tp_dst, n->tp_dst, 2, false);
	}
}

/* Phase 2. Returns 0 when the frame now looks as the key at the output says. */
static __always_inline int xsw_commit(void *ctx, bool xdp, struct xsw_run *r)
{
	int shift = xsw_commit_l2(ctx, xdp, r);
	__u32 l3;
	__s32 l4;

	if (shift == XSW_COMMIT_ERR)
		return -1;
	if (!xdp) {
		/* At TC the tags may have moved between metadata and frame: find L3 again. */
		__be16 proto;
		int off = 12;

		for (int i = 0; i < 3; i++) {
			if (xsw_load(ctx, xdp, off, &proto, 2))
				return -1;
			if (proto != bpf_htons(ETH_P_8021Q) && proto != bpf_htons(ETH_P_8021AD))
				break;
			off += 4;
		}
		l3 = off + 2;
		/* Not from the key's tag count: a tag in skb metadata is not in the bytes. */
		shift = l3 - r->l3_off;
	} else {
		l3 = 14 + 4 * xsw_tags(&r->out);
	}
	l4 = r->l4_off < 0 ? -1 : r->l4_off + shift;
	xsw_commit_l3(ctx, xdp, r, l3, l4);
	/* The frame now is r->out: a next copy commits from here (several outputs). */
	r->l3_off = l3;
	r->l4_off = l4;
	return 0;
}

/* ---- several outputs: the copies a packet becomes --------------------------------------
 * After a walk with r->multi: each output becomes copies (FLOOD/ALL: every port but the
 * ingress one — the datapath knows no OFPPS_BLOCKED port, so FLOOD is ALL; NORMAL's flood:
 * the ports that carry the VLAN, each with the tag it wants), in the order of the outputs.
 * Ports that do not forward (NO_FWD, PORT_DOWN) get none, as in the model. r->uniform
 * says whether one frame to every port but the ingress one does it (XDP's broadcast). */

struct xsw_flood_ctx {
	struct xsw_run *r;
	__u32 rec;
	__u32 vlan;
	__u8 normal;
};

static __always_inline void xsw_add_copy(struct xsw_run *r, __u32 ofport, __u32 ifindex, __u32 rec, __u32 want)
{
	__u32 n = r->n_copies;

	if (n >= XSW_MAX_COPIES) {
		r->copies_overflow = 1;
		return;
	}
	struct xsw_copy *c = &r->copies[n & (XSW_MAX_COPIES - 1)];

	c->ofport = ofport;
	c->ifindex = ifindex;
	c->rec = rec;
	c->want = want;
	r->n_copies = n + 1;
}

static long xsw_flood_cb(struct bpf_map *map, __u32 *key, struct xsw_ofport *val, struct xsw_flood_ctx *fc)
{
	struct xsw_run *r = fc->r;
	__u32 port = *key, want = XSW_WANT_ASIS;

	if (!r)
		return 1;
	if (port == r->orig.in_port || (port > OFPP_MAX && port != OFPP_LOCAL))
		return 0;
	if (val->config & (OFPPC_NO_FWD | OFPPC_PORT_DOWN)) {
		r->uniform = 0;
		return 0;
	}
	if (fc->normal) {
		struct xsw_normal_port *np = bpf_map_lookup_elem(&xsw_normal_ports, &port);
		__u32 ri = fc->rec & (XSW_MAX_OUTS - 1);
		struct xsw_flow_key *k = ri && r->outs[ri].dirty ? &r->okeys[ri] : !ri && r->outs[0].dirty ? &r->out : &r->orig;

		if (!xsw_port_carries(np, fc->vlan)) {
			r->uniform = 0;
			return 0;
		}
		want = xsw_normal_want(np, fc->vlan);
		if (xsw_normal_retags(k, want))
			r->uniform = 0;
	}
	xsw_add_copy(r, port, val->ifindex, fc->rec, want);
	return r->copies_overflow ? 1 : 0;
}

/* The copies of one flooding output. A global function: the callback is checked once. */
__noinline int xsw_flood_into(struct xsw_run *r, __u32 rec, __u32 vlan, __u32 normal)
{
	struct xsw_flood_ctx fc = { .r = r, .rec = rec, .vlan = vlan, .normal = normal };

	if (!r)
		return 0;
	bpf_for_each_map_elem(&xsw_ofports, xsw_flood_cb, &fc, 0);
	return 0;
}

struct xsw_count_ctx {
	struct xsw_run *r;
	__u32 n;
};

/* Counts the ports a broadcast reaches (all but the ingress one); one that must not get
 * frames (NO_FWD, PORT_DOWN) makes the broadcast wrong. */
static long xsw_count_cb(struct bpf_map *map, __u32 *key, struct xsw_ofport *val, struct xsw_count_ctx *cc)
{
	struct xsw_run *r = cc->r;
	__u32 port = *key;

	if (!r)
		return 1;
	if (port == r->orig.in_port || (port > OFPP_MAX && port != OFPP_LOCAL))
		return 0;
	if (val->config & (OFPPC_NO_FWD | OFPPC_PORT_DOWN))
		r->uniform = 0;
	cc->n++;
	return 0;
}

/* Several outputs whose copies are one frame to each port but the ingress one, once
 * each (output:2,output:3..., a group ALL of them): a broadcast does it too. */
__noinline int xsw_check_uniform(struct xsw_run *r)
{
	__u64 seen = 0;

	if (!r)
		return 0;
	__u32 n = r->n_copies;

	for (int i = 0; i < XSW_MAX_OUTS; i++) {
		if (i >= r->n_out)
			break;
		if (r->outs[i].dirty || r->outs[i].port == OFPP_NORMAL)
			r->uniform = 0;
	}
	for (int i = 0; i < XSW_MAX_COPIES && r->uniform; i++) {
		if (i >= n)
			break;
		__u32 p = r->copies[i].ofport;
		__u64 bit;

		if (p == OFPP_LOCAL)
			p = 0;
		if (p >= 64 || !r->copies[i].ifindex) {
			r->uniform = 0;
			break;
		}
		bit = 1ULL << p;
		if (seen & bit)
			r->uniform = 0;
		seen |= bit;
	}
	if (!r->uniform)
		return 0;
	struct xsw_count_ctx cc = { .r = r };

	bpf_for_each_map_elem(&xsw_ofports, xsw_count_cb, &cc, 0);
	if (cc.n != n)
		r->uniform = 0;
	return 0;
}

/* Fills r->copies from r->outs; sets r->uniform. Returns -1 when there are too many. */
__noinline int xsw_collect_copies(struct xsw_run *r)
{
	if (!r)
		return -1;
	__u32 n = r->n_out;

	r->n_copies = 0;
	r->copies_overflow = 0;
	/* One flood with one rewrite for all: XDP broadcasts it through the devmap. */
	r->uniform = n == 1;
	/* Several outputs: maybe (xsw_check_uniform). */
	bool maybe = n > 1;

	for (int i = 0; i < XSW_MAX_OUTS; i++) {
		if (i >= n)
			break;
		__u32 port = r->outs[i].port;

		if (port == OFPP_FLOOD || port == OFPP_ALL || port == OFPP_NORMAL) {
			xsw_flood_into(r, i, r->outs[i].vlan, port == OFPP_NORMAL);
		} else if (port == OFPP_CONTROLLER) {
			r->uniform = 0;
			maybe = false;
			xsw_add_copy(r, port, 0, i, XSW_WANT_ASIS);
		} else {
			struct xsw_ofport *op = bpf_map_lookup_elem(&xsw_ofports, &port);

			r->uniform = 0;
			if (op && !(op->config & (OFPPC_NO_FWD | OFPPC_PORT_DOWN)))
				xsw_add_copy(r, port, op->ifindex, i, XSW_WANT_ASIS);
			else
				maybe = false;
		}
		if (r->copies_overflow)
			return -1;
	}
	if (maybe) {
		r->uniform = 1;
		xsw_check_uniform(r);
	}
	return 0;
}
