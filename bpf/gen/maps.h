/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Generated from proto/datapath/maps.ts by npm run gen; edit the source. */
#pragma once

#define XSW_LAYOUT_VERSION 5
#define XSW_UPCALL_CAP 2048
#define XSW_MAC_ENTRIES 8192
#define XSW_PORT_SLOTS 1024
#define XSW_MAX_GROUPS 4
#define XSW_MAX_MASKS 32
#define XSW_MAX_OPS 32
#define XSW_MAX_TABLE_HOPS 16
#define XSW_EMC_WORDS 8
#define XSW_EMC_HOPS 4
#define XSW_EMC_ENTRIES 32768
#define XSW_METER_BANDS 8
#define XSW_METER_SCALE 1000000

/* flow_key.ip_frag bits */
enum xsw_ip_frag {
	XSW_FRAG_ANY = 1,
	XSW_FRAG_LATER = 2,
};

/* per-port verdict of the first-form pipeline */
enum xsw_port_action {
	XSW_PORT_PASS = 0,
	XSW_PORT_DROP = 1,
	XSW_PORT_REDIRECT = 2,
	XSW_PORT_UPCALL = 3,
	XSW_PORT_PIPELINE = 4,
};

enum xsw_upcall_reason {
	XSW_UPCALL_PORT = 0,
	XSW_UPCALL_NO_PORT = 1,
	XSW_UPCALL_ACTION = 2,
	XSW_UPCALL_INVALID_TTL = 3,
	XSW_UPCALL_UNSUPPORTED = 4,
	XSW_UPCALL_MULTI_OUTPUT = 5,
	XSW_UPCALL_TABLE_HOPS = 6,
	XSW_UPCALL_OPS = 7,
	XSW_UPCALL_NO_OUTPUT_PORT = 8,
	XSW_UPCALL_MASKS = 9,
	XSW_UPCALL_NORMAL_FLOOD = 10,
	XSW_UPCALL_NORMAL_SLOW = 11,
	XSW_UPCALL_CONNTRACK = 12,
};

/* action-program op codes */
enum xsw_op_code {
	XSW_OP_OUTPUT = 1,
	XSW_OP_SET_FIELD = 2,
	XSW_OP_PUSH_VLAN = 3,
	XSW_OP_POP_VLAN = 4,
	XSW_OP_DEC_NW_TTL = 5,
	XSW_OP_SET_NW_TTL = 6,
	XSW_OP_WRITE_METADATA = 7,
	XSW_OP_GOTO_TABLE = 8,
	XSW_OP_UPCALL = 9,
	XSW_OP_SET_MASKED = 10,
	XSW_OP_METER = 11,
	XSW_OP_NORMAL = 12,
	XSW_OP_CT = 13,
	XSW_OP_GROUP = 14,
	XSW_OP_BUCKET = 15,
	XSW_OP_BUCKET_END = 16,
};

/* when an op applies (set_field on a field the frame lacks does nothing) */
enum xsw_op_cond {
	XSW_COND_ALWAYS = 0,
	XSW_COND_VLAN = 1,
	XSW_COND_IPV4 = 2,
	XSW_COND_IPV6 = 3,
	XSW_COND_IP = 4,
	XSW_COND_TCP = 5,
	XSW_COND_UDP = 6,
	XSW_COND_ARP = 7,
};

/* Port vlan_mode (a port without an xsw_normal_ports entry is a trunk of every VLAN) */
enum xsw_vlan_mode {
	XSW_VLAN_TRUNK = 0,
	XSW_VLAN_ACCESS = 1,
	XSW_VLAN_NATIVE_TAGGED = 2,
	XSW_VLAN_NATIVE_UNTAGGED = 3,
};

struct xsw_flow_key {
	__u32 in_port; /* OpenFlow ingress port number, host order */
	__u32 recirc_id; /* 0 on the first pass, host order */
	__u64 metadata; /* OpenFlow metadata, host order */
	__u64 tunnel_id; /* host order */
	__u8 eth_dst[6];
	__u8 eth_src[6];
	__be16 eth_type; /* innermost ethertype, after the VLAN tags */
	__be16 vlan_tci; /* outer tag: PCP(3) | present(1, in CFI position) | VID(12); 0 when untagged */
	__be16 vlan_tpid; /* outer tag TPID (0x8100 or 0x88a8) */
	__be16 vlan2_tci; /* inner tag, same form as vlan_tci */
	__u8 ip_proto; /* IPv4 protocol / IPv6 next header of the L4 header */
	__u8 ip_tos; /* DSCP(6) | ECN(2); IPv6 traffic class */
	__u8 ip_ttl; /* TTL / hop limit */
	__u8 ip_frag; /* enum xsw_ip_frag bits */
	__be32 ipv4_src; /* also ARP SPA */
	__be32 ipv4_dst; /* also ARP TPA */
	__be16 tp_src; /* TCP/UDP/SCTP source port; ICMP/ICMPv6 type in the low byte */
	__be16 tp_dst; /* TCP/UDP/SCTP destination port; ICMP/ICMPv6 code in the low byte */
	__be16 tcp_flags; /* low 12 bits of the TCP header flags word */
	__be16 arp_op;
	__u8 arp_sha[6]; /* also ND source link-layer address */
	__u8 arp_tha[6]; /* also ND target link-layer address */
	__be32 ipv6_label; /* low 20 bits */
	__u8 ipv6_src[16];
	__u8 ipv6_dst[16];
	__u8 nd_target[16];
	__be32 mpls_lse; /* top label stack entry: label(20) | TC(3) | BOS(1) | TTL(8) */
	__u16 ipv6_exthdr; /* OFPIEH_* bits, host order */
	__u16 ct_zone; /* host order */
	__u32 ct_state; /* OVS CS_* bits, host order */
	__u32 ct_mark; /* host order */
	__u8 ct_label[16];
};
_Static_assert(sizeof(struct xsw_flow_key) == 160, "struct xsw_flow_key size");
_Static_assert(__builtin_offsetof(struct xsw_flow_key, in_port) == 0, "xsw_flow_key.in_port offset");
_Static_assert(__builtin_offsetof(struct xsw_flow_key, recirc_id) == 4, "xsw_flow_key.recirc_id offset");
_Static_assert(__builtin_offsetof(struct xsw_flow_key, metadata) == 8, "xsw_flow_key.metadata offset");
_Static_assert(__builtin_offsetof(struct xsw_flow_key, tunnel_id) == 16, "xsw_flow_key.tunnel_id offset");
_Static_assert(__builtin_offsetof(struct xsw_flow_key, eth_dst) == 24, "xsw_flow_key.eth_dst offset");
_Static_assert(__builtin_offsetof(struct xsw_flow_key, eth_src) == 30, "xsw_flow_key.eth_src offset");
_Static_assert(__builtin_offsetof(struct xsw_flow_key, eth_type) == 36, "xsw_flow_key.eth_type offset");
_Static_assert(__builtin_offsetof(struct xsw_flow_key, vlan_tci) == 38, "xsw_flow_key.vlan_tci offset");
_Static_assert(__builtin_offsetof(struct xsw_flow_key, vlan_tpid) == 40, "xsw_flow_key.vlan_tpid offset");
_Static_assert(__builtin_offsetof(struct xsw_flow_key, vlan2_tci) == 42, "xsw_flow_key.vlan2_tci offset");
_Static_assert(__builtin_offsetof(struct xsw_flow_key, ip_proto) == 44, "xsw_flow_key.ip_proto offset");
_Static_assert(__builtin_offsetof(struct xsw_flow_key, ip_tos) == 45, "xsw_flow_key.ip_tos offset");
_Static_assert(__builtin_offsetof(struct xsw_flow_key, ip_ttl) == 46, "xsw_flow_key.ip_ttl offset");
_Static_assert(__builtin_offsetof(struct xsw_flow_key, ip_frag) == 47, "xsw_flow_key.ip_frag offset");
_Static_assert(__builtin_offsetof(struct xsw_flow_key, ipv4_src) == 48, "xsw_flow_key.ipv4_src offset");
_Static_assert(__builtin_offsetof(struct xsw_flow_key, ipv4_dst) == 52, "xsw_flow_key.ipv4_dst offset");
_Static_assert(__builtin_offsetof(struct xsw_flow_key, tp_src) == 56, "xsw_flow_key.tp_src offset");
_Static_assert(__builtin_offsetof(struct xsw_flow_key, tp_dst) == 58, "xsw_flow_key.tp_dst offset");
_Static_assert(__builtin_offsetof(struct xsw_flow_key, tcp_flags) == 60, "xsw_flow_key.tcp_flags offset");
_Static_assert(__builtin_offsetof(struct xsw_flow_key, arp_op) == 62, "xsw_flow_key.arp_op offset");
_Static_assert(__builtin_offsetof(struct xsw_flow_key, arp_sha) == 64, "xsw_flow_key.arp_sha offset");
_Static_assert(__builtin_offsetof(struct xsw_flow_key, arp_tha) == 70, "xsw_flow_key.arp_tha offset");
_Static_assert(__builtin_offsetof(struct xsw_flow_key, ipv6_label) == 76, "xsw_flow_key.ipv6_label offset");
_Static_assert(__builtin_offsetof(struct xsw_flow_key, ipv6_src) == 80, "xsw_flow_key.ipv6_src offset");
_Static_assert(__builtin_offsetof(struct xsw_flow_key, ipv6_dst) == 96, "xsw_flow_key.ipv6_dst offset");
_Static_assert(__builtin_offsetof(struct xsw_flow_key, nd_target) == 112, "xsw_flow_key.nd_target offset");
_Static_assert(__builtin_offsetof(struct xsw_flow_key, mpls_lse) == 128, "xsw_flow_key.mpls_lse offset");
_Static_assert(__builtin_offsetof(struct xsw_flow_key, ipv6_exthdr) == 132, "xsw_flow_key.ipv6_exthdr offset");
_Static_assert(__builtin_offsetof(struct xsw_flow_key, ct_zone) == 134, "xsw_flow_key.ct_zone offset");
_Static_assert(__builtin_offsetof(struct xsw_flow_key, ct_state) == 136, "xsw_flow_key.ct_state offset");
_Static_assert(__builtin_offsetof(struct xsw_flow_key, ct_mark) == 140, "xsw_flow_key.ct_mark offset");
_Static_assert(__builtin_offsetof(struct xsw_flow_key, ct_label) == 144, "xsw_flow_key.ct_label offset");

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

struct xsw_port_slot {
	__u32 ifindex; /* the device these counts are for: a CPU finding another resets its copy */
	__u32 reserved; /* written as zero */
	struct xsw_port_stats stats; /* as in xsw_port_stats */
};
_Static_assert(sizeof(struct xsw_port_slot) == 56, "struct xsw_port_slot size");
_Static_assert(__builtin_offsetof(struct xsw_port_slot, ifindex) == 0, "xsw_port_slot.ifindex offset");
_Static_assert(__builtin_offsetof(struct xsw_port_slot, reserved) == 4, "xsw_port_slot.reserved offset");
_Static_assert(__builtin_offsetof(struct xsw_port_slot, stats) == 8, "xsw_port_slot.stats offset");

struct xsw_upcall {
	__u32 ifindex; /* ingress device */
	__u32 reason; /* enum xsw_upcall_reason */
	__u32 frame_len; /* length of the whole frame in bytes */
	__u32 cap_len; /* bytes of it in data[] */
	__u32 table_id; /* table of the rule that sent it */
	__u32 rule_id; /* that rule (0: none) */
	__u32 arg; /* by reason: max_len for XSW_UPCALL_ACTION */
	__u32 vlan_meta; /* TC: the outer tag kept in skb metadata, not in data[] (TPID << 16 | TCI); 0 when none */
	__u32 meters; /* meter ops the fast path ran on this packet before it left: the slow path's re-run skips as many */
	__u32 reserved; /* written as zero */
	struct xsw_flow_key key; /* the frame as the parser saw it */
	__u8 data[2048]; /* the frame head, cap_len bytes valid */
};
_Static_assert(sizeof(struct xsw_upcall) == 2248, "struct xsw_upcall size");
_Static_assert(__builtin_offsetof(struct xsw_upcall, ifindex) == 0, "xsw_upcall.ifindex offset");
_Static_assert(__builtin_offsetof(struct xsw_upcall, reason) == 4, "xsw_upcall.reason offset");
_Static_assert(__builtin_offsetof(struct xsw_upcall, frame_len) == 8, "xsw_upcall.frame_len offset");
_Static_assert(__builtin_offsetof(struct xsw_upcall, cap_len) == 12, "xsw_upcall.cap_len offset");
_Static_assert(__builtin_offsetof(struct xsw_upcall, table_id) == 16, "xsw_upcall.table_id offset");
_Static_assert(__builtin_offsetof(struct xsw_upcall, rule_id) == 20, "xsw_upcall.rule_id offset");
_Static_assert(__builtin_offsetof(struct xsw_upcall, arg) == 24, "xsw_upcall.arg offset");
_Static_assert(__builtin_offsetof(struct xsw_upcall, vlan_meta) == 28, "xsw_upcall.vlan_meta offset");
_Static_assert(__builtin_offsetof(struct xsw_upcall, meters) == 32, "xsw_upcall.meters offset");
_Static_assert(__builtin_offsetof(struct xsw_upcall, reserved) == 36, "xsw_upcall.reserved offset");
_Static_assert(__builtin_offsetof(struct xsw_upcall, key) == 40, "xsw_upcall.key offset");
_Static_assert(__builtin_offsetof(struct xsw_upcall, data) == 200, "xsw_upcall.data offset");

struct xsw_table {
	__u32 n_masks; /* masks in use, sorted by max_prio, highest first */
	__u32 flags; /* XSW_TABLE_SLOW (1): more masks than the fast path walks; all its packets go slow */
	__u32 masks[64]; /* n_masks pairs (mask_id: index into xsw_masks, max_prio: highest rule priority under it) */
};
_Static_assert(sizeof(struct xsw_table) == 264, "struct xsw_table size");
_Static_assert(__builtin_offsetof(struct xsw_table, n_masks) == 0, "xsw_table.n_masks offset");
_Static_assert(__builtin_offsetof(struct xsw_table, flags) == 4, "xsw_table.flags offset");
_Static_assert(__builtin_offsetof(struct xsw_table, masks) == 8, "xsw_table.masks offset");

struct xsw_rule_key {
	__u32 table_id;
	__u32 mask_id;
	struct xsw_flow_key key; /* the rule match: flow key & mask */
};
_Static_assert(sizeof(struct xsw_rule_key) == 168, "struct xsw_rule_key size");
_Static_assert(__builtin_offsetof(struct xsw_rule_key, table_id) == 0, "xsw_rule_key.table_id offset");
_Static_assert(__builtin_offsetof(struct xsw_rule_key, mask_id) == 4, "xsw_rule_key.mask_id offset");
_Static_assert(__builtin_offsetof(struct xsw_rule_key, key) == 8, "xsw_rule_key.key offset");

struct xsw_rule {
	__u32 priority;
	__u32 rule_id; /* index of the rule counters; FlowEntry.id mod the map size */
	__u32 op_start; /* first op in xsw_ops */
	__u32 n_ops; /* ops in the program */
};
_Static_assert(sizeof(struct xsw_rule) == 16, "struct xsw_rule size");
_Static_assert(__builtin_offsetof(struct xsw_rule, priority) == 0, "xsw_rule.priority offset");
_Static_assert(__builtin_offsetof(struct xsw_rule, rule_id) == 4, "xsw_rule.rule_id offset");
_Static_assert(__builtin_offsetof(struct xsw_rule, op_start) == 8, "xsw_rule.op_start offset");
_Static_assert(__builtin_offsetof(struct xsw_rule, n_ops) == 12, "xsw_rule.n_ops offset");

struct xsw_op {
	__u8 code; /* enum xsw_op_code */
	__u8 cond; /* enum xsw_op_cond: the op applies only to frames that have the field */
	__u16 len; /* SET_FIELD: bytes of val to write into the key; CT: zone */
	__u32 arg; /* OUTPUT: OpenFlow port; SET_FIELD: key offset; GOTO, CT: table; PUSH_VLAN: TPID; UPCALL: reason */
	__u8 val[16]; /* SET_FIELD: the value (network order); WRITE_METADATA: value(8) then mask(8), host order */
};
_Static_assert(sizeof(struct xsw_op) == 24, "struct xsw_op size");
_Static_assert(__builtin_offsetof(struct xsw_op, code) == 0, "xsw_op.code offset");
_Static_assert(__builtin_offsetof(struct xsw_op, cond) == 1, "xsw_op.cond offset");
_Static_assert(__builtin_offsetof(struct xsw_op, len) == 2, "xsw_op.len offset");
_Static_assert(__builtin_offsetof(struct xsw_op, arg) == 4, "xsw_op.arg offset");
_Static_assert(__builtin_offsetof(struct xsw_op, val) == 8, "xsw_op.val offset");

struct xsw_ofport {
	__u32 ifindex; /* the device behind the OpenFlow port */
	__u32 config; /* OFPPC_* bits: NO_FWD and PORT_DOWN drop its output */
};
_Static_assert(sizeof(struct xsw_ofport) == 8, "struct xsw_ofport size");
_Static_assert(__builtin_offsetof(struct xsw_ofport, ifindex) == 0, "xsw_ofport.ifindex offset");
_Static_assert(__builtin_offsetof(struct xsw_ofport, config) == 4, "xsw_ofport.config offset");

struct xsw_rule_stats {
	__u64 packets;
	__u64 bytes;
	__u64 last_used; /* bpf_ktime_get_ns() of the last hit */
};
_Static_assert(sizeof(struct xsw_rule_stats) == 24, "struct xsw_rule_stats size");
_Static_assert(__builtin_offsetof(struct xsw_rule_stats, packets) == 0, "xsw_rule_stats.packets offset");
_Static_assert(__builtin_offsetof(struct xsw_rule_stats, bytes) == 8, "xsw_rule_stats.bytes offset");
_Static_assert(__builtin_offsetof(struct xsw_rule_stats, last_used) == 16, "xsw_rule_stats.last_used offset");

struct xsw_table_stats {
	__u64 lookups; /* packets the fast path looked up in the table */
	__u64 matched; /* of those, packets that hit a rule */
};
_Static_assert(sizeof(struct xsw_table_stats) == 16, "struct xsw_table_stats size");
_Static_assert(__builtin_offsetof(struct xsw_table_stats, lookups) == 0, "xsw_table_stats.lookups offset");
_Static_assert(__builtin_offsetof(struct xsw_table_stats, matched) == 8, "xsw_table_stats.matched offset");

struct xsw_emc_config {
	__u32 n_words; /* words in use; 0: the cache is off (more words than EMC_WORDS) */
	__u32 reserved; /* written as zero */
	__u32 words[8]; /* index of the 8-byte key word */
	__u64 masks[8]; /* bits of that word the key keeps (unused words: 0) */
};
_Static_assert(sizeof(struct xsw_emc_config) == 104, "struct xsw_emc_config size");
_Static_assert(__builtin_offsetof(struct xsw_emc_config, n_words) == 0, "xsw_emc_config.n_words offset");
_Static_assert(__builtin_offsetof(struct xsw_emc_config, reserved) == 4, "xsw_emc_config.reserved offset");
_Static_assert(__builtin_offsetof(struct xsw_emc_config, words) == 8, "xsw_emc_config.words offset");
_Static_assert(__builtin_offsetof(struct xsw_emc_config, masks) == 40, "xsw_emc_config.masks offset");

struct xsw_emc_entry {
	__u64 key[8]; /* the masked key words */
	__u32 hops[16]; /* per table visited: table id | XSW_TABLE_MATCHED (1 << 31), rule_id, op_start, n_ops (the ops run again on each hit: they read the frame) */
	__u32 gen; /* xsw_emc_gen when the walk ran; any other value is stale (0: empty) */
	__u32 n_hops;
};
_Static_assert(sizeof(struct xsw_emc_entry) == 136, "struct xsw_emc_entry size");
_Static_assert(__builtin_offsetof(struct xsw_emc_entry, key) == 0, "xsw_emc_entry.key offset");
_Static_assert(__builtin_offsetof(struct xsw_emc_entry, hops) == 64, "xsw_emc_entry.hops offset");
_Static_assert(__builtin_offsetof(struct xsw_emc_entry, gen) == 128, "xsw_emc_entry.gen offset");
_Static_assert(__builtin_offsetof(struct xsw_emc_entry, n_hops) == 132, "xsw_emc_entry.n_hops offset");

struct xsw_meter {
	struct bpf_spin_lock lock; /* taken by the datapath around the buckets */
	__u32 flags; /* OFPMF_* (KBPS 1, PKTPS 2, BURST 4, STATS 8) */
	__u32 n_bands;
	__u32 reserved; /* written as zero */
	__u64 last_ns; /* bpf_ktime_get_ns() of the last packet; 0: buckets untouched since written */
	__u64 packets; /* packets metered by the datapath (packet_in_count) */
	__u64 bytes;
	__u64 reserved2; /* written as zero */
	__u32 band_type[8]; /* OFPMBT_DROP (1) or OFPMBT_DSCP_REMARK (2) */
	__u32 band_rate[8]; /* kb/s or packet/s, per flags */
	__u32 band_prec_level[8]; /* DSCP_REMARK: raise DSCP by 2 × prec_level (at most 63) */
	__u64 band_capacity[8]; /* bucket depth, scaled */
	__u64 band_tokens[8]; /* bucket content, scaled */
	__u64 band_packets[8]; /* packets that exceeded the band (packet_band_count) */
	__u64 band_bytes[8];
	__u64 reserved3; /* written as zero */
};
_Static_assert(sizeof(struct xsw_meter) == 408, "struct xsw_meter size");
_Static_assert(__builtin_offsetof(struct xsw_meter, lock) == 0, "xsw_meter.lock offset");
_Static_assert(__builtin_offsetof(struct xsw_meter, flags) == 4, "xsw_meter.flags offset");
_Static_assert(__builtin_offsetof(struct xsw_meter, n_bands) == 8, "xsw_meter.n_bands offset");
_Static_assert(__builtin_offsetof(struct xsw_meter, reserved) == 12, "xsw_meter.reserved offset");
_Static_assert(__builtin_offsetof(struct xsw_meter, last_ns) == 16, "xsw_meter.last_ns offset");
_Static_assert(__builtin_offsetof(struct xsw_meter, packets) == 24, "xsw_meter.packets offset");
_Static_assert(__builtin_offsetof(struct xsw_meter, bytes) == 32, "xsw_meter.bytes offset");
_Static_assert(__builtin_offsetof(struct xsw_meter, reserved2) == 40, "xsw_meter.reserved2 offset");
_Static_assert(__builtin_offsetof(struct xsw_meter, band_type) == 48, "xsw_meter.band_type offset");
_Static_assert(__builtin_offsetof(struct xsw_meter, band_rate) == 80, "xsw_meter.band_rate offset");
_Static_assert(__builtin_offsetof(struct xsw_meter, band_prec_level) == 112, "xsw_meter.band_prec_level offset");
_Static_assert(__builtin_offsetof(struct xsw_meter, band_capacity) == 144, "xsw_meter.band_capacity offset");
_Static_assert(__builtin_offsetof(struct xsw_meter, band_tokens) == 208, "xsw_meter.band_tokens offset");
_Static_assert(__builtin_offsetof(struct xsw_meter, band_packets) == 272, "xsw_meter.band_packets offset");
_Static_assert(__builtin_offsetof(struct xsw_meter, band_bytes) == 336, "xsw_meter.band_bytes offset");
_Static_assert(__builtin_offsetof(struct xsw_meter, reserved3) == 400, "xsw_meter.reserved3 offset");

struct xsw_group_stats {
	__u64 packets; /* packets the fast path ran through the group */
	__u64 bytes;
};
_Static_assert(sizeof(struct xsw_group_stats) == 16, "struct xsw_group_stats size");
_Static_assert(__builtin_offsetof(struct xsw_group_stats, packets) == 0, "xsw_group_stats.packets offset");
_Static_assert(__builtin_offsetof(struct xsw_group_stats, bytes) == 8, "xsw_group_stats.bytes offset");

struct xsw_mac_key {
	__u8 mac[6]; /* Ethernet address */
	__u16 vlan; /* VLAN the address was seen in (0: untagged), host order */
};
_Static_assert(sizeof(struct xsw_mac_key) == 8, "struct xsw_mac_key size");
_Static_assert(__builtin_offsetof(struct xsw_mac_key, mac) == 0, "xsw_mac_key.mac offset");
_Static_assert(__builtin_offsetof(struct xsw_mac_key, vlan) == 6, "xsw_mac_key.vlan offset");

struct xsw_mac_entry {
	__u32 ofport; /* OpenFlow port the address was last seen on */
	__u32 ifindex; /* its device then: an entry whose port number now names another device is unknown */
	__u64 seen_ns; /* bpf_ktime_get_coarse_ns() when last seen (refreshed at most once a second) */
};
_Static_assert(sizeof(struct xsw_mac_entry) == 16, "struct xsw_mac_entry size");
_Static_assert(__builtin_offsetof(struct xsw_mac_entry, ofport) == 0, "xsw_mac_entry.ofport offset");
_Static_assert(__builtin_offsetof(struct xsw_mac_entry, ifindex) == 4, "xsw_mac_entry.ifindex offset");
_Static_assert(__builtin_offsetof(struct xsw_mac_entry, seen_ns) == 8, "xsw_mac_entry.seen_ns offset");

struct xsw_normal_config {
	__u32 enabled; /* 1: NORMAL runs in the fast path; 0: every NORMAL frame goes to the slow path */
	__u32 aging_sec; /* an entry older than this is unknown (OVS mac-aging-time, default 300) */
};
_Static_assert(sizeof(struct xsw_normal_config) == 8, "struct xsw_normal_config size");
_Static_assert(__builtin_offsetof(struct xsw_normal_config, enabled) == 0, "xsw_normal_config.enabled offset");
_Static_assert(__builtin_offsetof(struct xsw_normal_config, aging_sec) == 4, "xsw_normal_config.aging_sec offset");

struct xsw_normal_port {
	__u32 mode; /* enum xsw_vlan_mode */
	__u32 tag; /* Port tag (0: none) */
	__u64 trunks[64]; /* bit v of word v / 64: the port carries VLAN v as a trunk */
};
_Static_assert(sizeof(struct xsw_normal_port) == 520, "struct xsw_normal_port size");
_Static_assert(__builtin_offsetof(struct xsw_normal_port, mode) == 0, "xsw_normal_port.mode offset");
_Static_assert(__builtin_offsetof(struct xsw_normal_port, tag) == 4, "xsw_normal_port.tag offset");
_Static_assert(__builtin_offsetof(struct xsw_normal_port, trunks) == 8, "xsw_normal_port.trunks offset");

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

/* ifindex → per-CPU counters (ports without a slot) */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, 1024);
	__type(key, __u32);
	__type(value, struct xsw_port_stats);
} xsw_port_stats SEC(".maps");

/* OpenFlow port → per-CPU counters of the pipeline ports numbered below PORT_SLOTS */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1024);
	__type(key, __u32);
	__type(value, struct xsw_port_slot);
} xsw_port_slots SEC(".maps");

/* struct xsw_upcall records for userspace */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4194304);
} xsw_upcalls SEC(".maps");

__attribute__((used)) static const struct xsw_upcall xsw_upcalls_record_btf;

/* table_id → masks in use */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 256);
	__type(key, __u32);
	__type(value, struct xsw_table);
} xsw_tables SEC(".maps");

/* mask_id → mask over the flow key */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 4096);
	__type(key, __u32);
	__type(value, struct xsw_flow_key);
} xsw_masks SEC(".maps");

/* (table, mask, masked key) → rule */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 262144);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct xsw_rule_key);
	__type(value, struct xsw_rule);
} xsw_rules SEC(".maps");

/* action programs, a run of ops per rule */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 524288);
	__type(key, __u32);
	__type(value, struct xsw_op);
} xsw_ops SEC(".maps");

/* OpenFlow port → device */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, __u32);
	__type(value, struct xsw_ofport);
} xsw_ofports SEC(".maps");

/* rule_id → per-CPU counters */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 262144);
	__type(key, __u32);
	__type(value, struct xsw_rule_stats);
} xsw_rule_stats SEC(".maps");

/* table_id → per-CPU lookup counters */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 256);
	__type(key, __u32);
	__type(value, struct xsw_table_stats);
} xsw_table_stats SEC(".maps");

/* gen & 1 → what the cache keys on */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, struct xsw_emc_config);
} xsw_emc_config SEC(".maps");

/* 0 → generation of the flow tables, bumped last by every change */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} xsw_emc_gen SEC(".maps");

/* meter_id → bands and token buckets */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, __u32);
	__type(value, struct xsw_meter);
} xsw_meters SEC(".maps");

/* group_id → per-CPU counters of the fast path (the compiler deletes them when it writes the group) */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, 4096);
	__type(key, __u32);
	__type(value, struct xsw_group_stats);
} xsw_group_stats SEC(".maps");

/* exact-match cache: hash of the masked key → cached walk */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 32768);
	__type(key, __u32);
	__type(value, struct xsw_emc_entry);
} xsw_emc SEC(".maps");

/* (MAC, VLAN) → port the address was seen on */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 8192);
	__type(key, struct xsw_mac_key);
	__type(value, struct xsw_mac_entry);
} xsw_macs SEC(".maps");

/* OpenFlow port → its VLAN config, for the ports that have one */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, __u32);
	__type(value, struct xsw_normal_port);
} xsw_normal_ports SEC(".maps");

/* 0 → whether and how NORMAL runs in the fast path */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct xsw_normal_config);
} xsw_normal_config SEC(".maps");

#endif /* XSW_DEFINE_MAPS */
