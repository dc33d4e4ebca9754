// The compiled OpenFlow pipeline as BPF maps: per table the masks in use (tuple-space
// search), rules keyed by (table, mask, masked key), each rule's actions as a run of
// fixed-size ops, per-rule per-CPU counters. src/datapath/compiler.ts writes them;
// bpf/lib/pipeline.h reads them.
import { array, cenum, cstruct, type MapDecl, type ScalarType, u16, u32, u64, u8 } from '../lib/cstruct.js';
import { flowKey } from './key.js';

/** Masks per table: beyond this many distinct masks a table's rules go to the slow path. */
export const MAX_MASKS = 32;
/** Ops in one rule's action program. */
export const MAX_OPS = 32;
/** Tables one packet may visit (goto_table hops + 1). */
export const MAX_TABLE_HOPS = 16;
/** 8-byte words of the flow key an exact-match cache key holds. */
export const EMC_WORDS = 8;
/** Tables a cached walk may have visited; longer walks are not cached. */
export const EMC_HOPS = 4;
/** Cache entries per CPU: 2-way sets, so EMC_ENTRIES / 2 sets (a power of two). */
export const EMC_ENTRIES = 32768;
/** Bands per meter (ofp_meter_features.max_bands, src/ofproto/meter.ts). */
export const METER_BANDS = 8;
/** Token buckets count in millionths: per ns, a band gains `rate` of them (see xsw_meter). */
export const METER_SCALE = 1_000_000;

/** The kernel's struct bpf_spin_lock: 4 bytes userspace writes as zero (the kernel skips it). */
const spinLock: ScalarType = { kind: 'scalar', c: 'struct bpf_spin_lock', size: 4, signed: false, bigEndian: false };

export const table = cstruct('xsw_table', 8 + 8 * MAX_MASKS, [
  ['n_masks', u32, 'masks in use, sorted by max_prio, highest first'],
  ['flags', u32, 'XSW_TABLE_SLOW (1): more masks than the fast path walks; all its packets go slow'],
  ['masks', array(u32, 2 * MAX_MASKS), 'n_masks pairs (mask_id: index into xsw_masks, max_prio: highest rule priority under it)'],
]);

export const ruleKey = cstruct('xsw_rule_key', 8 + flowKey.size, [
  ['table_id', u32],
  ['mask_id', u32],
  ['key', flowKey, 'the rule match: flow key & mask'],
]);

export const rule = cstruct('xsw_rule', 16, [
  ['priority', u32],
  ['rule_id', u32, 'index of the rule counters; FlowEntry.id mod the map size'],
  ['op_start', u32, 'first op in xsw_ops'],
  ['n_ops', u32, 'ops in the program'],
]);

/** One action-program op. `arg` and `val` by op code (see xsw_op_code). */
export const op = cstruct('xsw_op', 24, [
  ['code', u8, 'enum xsw_op_code'],
  ['cond', u8, 'enum xsw_op_cond: the op applies only to frames that have the field'],
  ['len', u16, 'SET_FIELD: bytes of val to write into the key; CT: zone'],
  ['arg', u32, 'OUTPUT: OpenFlow port; SET_FIELD: key offset; GOTO, CT: table; PUSH_VLAN: TPID; UPCALL: reason'],
  ['val', array(u8, 16), 'SET_FIELD: the value (network order); WRITE_METADATA: value(8) then mask(8), host order'],
]);

export const opCode = cenum(
  'xsw_op_code',
  {
    XSW_OP_OUTPUT: 1, // to OpenFlow port arg (IN_PORT and CONTROLLER included)
    XSW_OP_SET_FIELD: 2, // key[arg .. arg+len) = val[0 .. len)
    XSW_OP_PUSH_VLAN: 3, // new outer tag with TPID arg, TCI copied as the spec says
    XSW_OP_POP_VLAN: 4,
    XSW_OP_DEC_NW_TTL: 5,
    XSW_OP_SET_NW_TTL: 6, // ttl = arg
    XSW_OP_WRITE_METADATA: 7,
    XSW_OP_GOTO_TABLE: 8,
    XSW_OP_UPCALL: 9, // leave the fast path: the slow path runs the packet, reason arg
    XSW_OP_SET_MASKED: 10, // key[arg .. arg+len) = key & ~val[8..] | val[0..len), len <= 8
    XSW_OP_METER: 11, // meter arg (xsw_meters): a drop band ends the packet, dscp_remark raises DSCP
    XSW_OP_NORMAL: 12, // OFPP_NORMAL (bpf/lib/normal.h): learn the source, output to a known destination
    XSW_OP_CT: 13, // ct(zone=len,table=arg), lookup only, the rule's last op: the hook looks the connection up (bpf/lib/ct.h) and recirculates
    XSW_OP_GROUP: 14, // group arg runs (its buckets follow, inlined): counted in xsw_group_stats when the fast path finishes
    XSW_OP_BUCKET: 15, // a bucket starts: it acts on a copy of the packet (the key is saved)
    XSW_OP_BUCKET_END: 16, // the bucket ends: the key is as before it
  },
  'action-program op codes',
);

export const opCond = cenum(
  'xsw_op_cond',
  {
    XSW_COND_ALWAYS: 0,
    XSW_COND_VLAN: 1, // the frame has a VLAN tag
    XSW_COND_IPV4: 2,
    XSW_COND_IPV6: 3,
    XSW_COND_IP: 4, // IPv4 or IPv6
    XSW_COND_TCP: 5, // TCP header present (not a later fragment)
    XSW_COND_UDP: 6,
    XSW_COND_ARP: 7,
  },
  'when an op applies (set_field on a field the frame lacks does nothing)',
);

export const ofport = cstruct('xsw_ofport', 8, [
  ['ifindex', u32, 'the device behind the OpenFlow port'],
  ['config', u32, 'OFPPC_* bits: NO_FWD and PORT_DOWN drop its output'],
]);

export const ruleStats = cstruct('xsw_rule_stats', 24, [
  ['packets', u64],
  ['bytes', u64],
  ['last_used', u64, 'bpf_ktime_get_ns() of the last hit'],
]);

export const tableStats = cstruct('xsw_table_stats', 16, [
  ['lookups', u64, 'packets the fast path looked up in the table'],
  ['matched', u64, 'of those, packets that hit a rule'],
]);

/**
 * What the exact-match cache keys on: the words of the flow key that any mask in use
 * covers (and in_port and the fields ops test: ethertype, VLAN presence, IP protocol
 * and fragment bits), each ANDed with the union of the masks. Two slots, chosen by the
 * generation's low bit, so the compiler fills the slot no packet reads, then bumps
 * the generation.
 */
export const emcConfig = cstruct('xsw_emc_config', 8 + 4 * EMC_WORDS + 8 * EMC_WORDS, [
  ['n_words', u32, 'words in use; 0: the cache is off (more words than EMC_WORDS)'],
  ['reserved', u32, 'written as zero'],
  ['words', array(u32, EMC_WORDS), 'index of the 8-byte key word'],
  ['masks', array(u64, EMC_WORDS), 'bits of that word the key keeps (unused words: 0)'],
]);

/** A cached walk: the rules the lookups found for one masked key. */
export const emcEntry = cstruct('xsw_emc_entry', 8 * EMC_WORDS + 16 * EMC_HOPS + 8, [
  ['key', array(u64, EMC_WORDS), 'the masked key words'],
  ['hops', array(u32, 4 * EMC_HOPS), 'per table visited: table id | XSW_TABLE_MATCHED (1 << 31), rule_id, op_start, n_ops (the ops run again on each hit: they read the frame)'],
  ['gen', u32, 'xsw_emc_gen when the walk ran; any other value is stale (0: empty)'],
  ['n_hops', u32],
]);

/**
 * A meter (OF1.3 §5.7) with its token buckets, as src/ofproto/meter.ts runs it: each
 * band's bucket fills at its rate up to its capacity; a packet takes its cost from every
 * bucket that can pay, and the exceeded band with the highest rate applies. Buckets and
 * costs are in METER_SCALE-ths of bits (kb/s meters) or of packets×1000 (packet/s), so
 * that a band gains exactly `rate` per nanosecond. The compiler writes config with full
 * buckets (last_ns 0); the datapath updates the state under the lock.
 */
export const meter = cstruct('xsw_meter', 48 + METER_BANDS * (3 * 4 + 4 * 8) + 8, [
  ['lock', spinLock, 'taken by the datapath around the buckets'],
  ['flags', u32, 'OFPMF_* (KBPS 1, PKTPS 2, BURST 4, STATS 8)'],
  ['n_bands', u32],
  ['reserved', u32, 'written as zero'],
  ['last_ns', u64, 'bpf_ktime_get_ns() of the last packet; 0: buckets untouched since written'],
  ['packets', u64, 'packets metered by the datapath (packet_in_count)'],
  ['bytes', u64],
  ['reserved2', u64, 'written as zero'],
  ['band_type', array(u32, METER_BANDS), 'OFPMBT_DROP (1) or OFPMBT_DSCP_REMARK (2)'],
  ['band_rate', array(u32, METER_BANDS), 'kb/s or packet/s, per flags'],
  ['band_prec_level', array(u32, METER_BANDS), 'DSCP_REMARK: raise DSCP by 2 × prec_level (at most 63)'],
  ['band_capacity', array(u64, METER_BANDS), 'bucket depth, scaled'],
  ['band_tokens', array(u64, METER_BANDS), 'bucket content, scaled'],
  ['band_packets', array(u64, METER_BANDS), 'packets that exceeded the band (packet_band_count)'],
  ['band_bytes', array(u64, METER_BANDS)],
  ['reserved3', u64, 'written as zero'],
]);

export const groupStats = cstruct('xsw_group_stats', 16, [
  ['packets', u64, 'packets the fast path ran through the group'],
  ['bytes', u64],
]);

/** Groups one packet may go through in the fast path (more: slow path). */
export const MAX_GROUPS = 4;

export const pipelineMaps = {
  xsw_tables: { type: 'ARRAY', maxEntries: 256, key: u32, value: table, comment: 'table_id → masks in use' },
  xsw_masks: { type: 'ARRAY', maxEntries: 4096, key: u32, value: flowKey, comment: 'mask_id → mask over the flow key' },
  xsw_rules: { type: 'HASH', maxEntries: 262144, key: ruleKey, value: rule, flags: 'NO_PREALLOC', comment: '(table, mask, masked key) → rule' },
  xsw_ops: { type: 'ARRAY', maxEntries: 524288, key: u32, value: op, comment: 'action programs, a run of ops per rule' },
  xsw_ofports: { type: 'HASH', maxEntries: 1024, key: u32, value: ofport, comment: 'OpenFlow port → device' },
  xsw_rule_stats: { type: 'PERCPU_ARRAY', maxEntries: 262144, key: u32, value: ruleStats, comment: 'rule_id → per-CPU counters' },
  xsw_table_stats: { type: 'PERCPU_ARRAY', maxEntries: 256, key: u32, value: tableStats, comment: 'table_id → per-CPU lookup counters' },
  xsw_emc_config: { type: 'ARRAY', maxEntries: 2, key: u32, value: emcConfig, comment: 'gen & 1 → what the cache keys on' },
  xsw_emc_gen: { type: 'ARRAY', maxEntries: 1, key: u32, value: u32, comment: '0 → generation of the flow tables, bumped last by every change' },
  xsw_meters: { type: 'HASH', maxEntries: 4096, key: u32, value: meter, comment: 'meter_id → bands and token buckets' },
  xsw_group_stats: { type: 'PERCPU_HASH', maxEntries: 4096, key: u32, value: groupStats, comment: 'group_id → per-CPU counters of the fast path (the compiler deletes them when it writes the group)' },
  xsw_emc: { type: 'PERCPU_ARRAY', maxEntries: EMC_ENTRIES, key: u32, value: emcEntry, comment: 'exact-match cache: hash of the masked key → cached walk' },
} as const satisfies Record<string, MapDecl>;

export const pipelineStructs = [table, ruleKey, rule, op, ofport, ruleStats, tableStats, emcConfig, emcEntry, meter, groupStats];
export const pipelineEnums = [opCode, opCond];
