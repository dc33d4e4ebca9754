// The pipeline compiler: turns the OpenFlow model's flow entries into the maps of
// bpf/lib/pipeline.h — per table the masks in use sorted by their highest priority,
// rules keyed by (table, mask, masked key), each rule's instructions as a run of ops.
// Pure: it keeps a mirror of what the maps hold and returns the map writes to make,
// in an order that never shows a packet a rule without its ops or a mask without rules.
// What the fast path cannot run compiles to an UPCALL op, so the slow path (the
// reference interpreter) finishes those packets: nothing is silently mis-forwarded.
import { randomInt } from 'node:crypto';
import { type Action, NX_CT_RECIRC_NONE } from '../../proto/openflow/actions.js';
import { OFPP } from '../../proto/openflow/constants.js';
import type { Instruction } from '../../proto/openflow/instructions.js';
import type { OxmName } from '../../proto/openflow/oxm.js';
import { flowKey } from '../../proto/datapath/key.js';
import type { FlowEntry } from '../ofproto/classifier.js';
import type { Group } from '../ofproto/group.js';
import { oxmToBigint } from '../ofproto/match.js';
import type { Delta } from '../ofproto/pipeline.js';
import type { Meter } from '../ofproto/meter.js';
import {
  EMC_WORDS,
  encodeXswEmcConfig,
  encodeXswMeter,
  METER_BANDS,
  METER_SCALE,
  encodeXswRule,
  MAX_MASKS,
  MAX_OPS,
  XSW_FLOW_KEY_SIZE,
  XswOpCode,
  XswOpCond,
  XswUpcallReason,
  type XswOp,
} from './gen/maps.js';

const KEY = XSW_FLOW_KEY_SIZE;
const off = (name: string): number => {
  const f = flowKey.fields.find((x) => x.name === name);
  if (!f) throw new Error(`flow key has no field ${name}`);
  return f.offset;
};

/**
 * Where an OXM field lives in the flow key: byte offset, width, byte order, and the
 * bit position inside a shared key field (VLAN PCP in the TCI, DSCP in the TOS...).
 */
interface KeySlot {
  offset: number;
  width: number;
  /** Host-order (little-endian) key field; packet fields are network order. */
  le?: boolean;
  shift?: number;
  /** Bits of the key field the OXM value covers (before shift). */
  bits?: bigint;
  cond?: number;
}

const ones = (n: number): bigint => (1n << BigInt(n)) - 1n;

const slots: Partial<Record<OxmName, KeySlot>> = {
  IN_PORT: { offset: off('in_port'), width: 4, le: true },
  METADATA: { offset: off('metadata'), width: 8, le: true },
  TUNNEL_ID: { offset: off('tunnel_id'), width: 8, le: true },
  ETH_DST: { offset: off('eth_dst'), width: 6 },
  ETH_SRC: { offset: off('eth_src'), width: 6 },
  ETH_TYPE: { offset: off('eth_type'), width: 2 },
  VLAN_VID: { offset: off('vlan_tci'), width: 2, bits: ones(13), cond: XswOpCond.XSW_COND_VLAN },
  VLAN_PCP: { offset: off('vlan_tci'), width: 2, shift: 13, bits: ones(3), cond: XswOpCond.XSW_COND_VLAN },
  IP_DSCP: { offset: off('ip_tos'), width: 1, shift: 2, bits: ones(6), cond: XswOpCond.XSW_COND_IP },
  IP_ECN: { offset: off('ip_tos'), width: 1, bits: ones(2), cond: XswOpCond.XSW_COND_IP },
  IP_PROTO: { offset: off('ip_proto'), width: 1 },
  IPV4_SRC: { offset: off('ipv4_src'), width: 4, cond: XswOpCond.XSW_COND_IPV4 },
  IPV4_DST: { offset: off('ipv4_dst'), width: 4, cond: XswOpCond.XSW_COND_IPV4 },
  TCP_SRC: { offset: off('tp_src'), width: 2, cond: XswOpCond.XSW_COND_TCP },
  TCP_DST: { offset: off('tp_dst'), width: 2, cond: XswOpCond.XSW_COND_TCP },
  UDP_SRC: { offset: off('tp_src'), width: 2, cond: XswOpCond.XSW_COND_UDP },
  UDP_DST: { offset: off('tp_dst'), width: 2, cond: XswOpCond.XSW_COND_UDP },
  SCTP_SRC: { offset: off('tp_src'), width: 2 },
  SCTP_DST: { offset: off('tp_dst'), width: 2 },
  ICMPV4_TYPE: { offset: off('tp_src'), width: 2, bits: ones(8) },
  ICMPV4_CODE: { offset: off('tp_dst'), width: 2, bits: ones(8) },
  ARP_OP: { offset: off('arp_op'), width: 2, cond: XswOpCond.XSW_COND_ARP },
  ARP_SPA: { offset: off('ipv4_src'), width: 4, cond: XswOpCond.XSW_COND_ARP },
  ARP_TPA: { offset: off('ipv4_dst'), width: 4, cond: XswOpCond.XSW_COND_ARP },
  ARP_SHA: { offset: off('arp_sha'), width: 6, cond: XswOpCond.XSW_COND_ARP },
  ARP_THA: { offset: off('arp_tha'), width: 6, cond: XswOpCond.XSW_COND_ARP },
  IPV6_SRC: { offset: off('ipv6_src'), width: 16, cond: XswOpCond.XSW_COND_IPV6 },
  IPV6_DST: { offset: off('ipv6_dst'), width: 16, cond: XswOpCond.XSW_COND_IPV6 },
  IPV6_FLABEL: { offset: off('ipv6_label'), width: 4, bits: ones(20) },
  ICMPV6_TYPE: { offset: off('tp_src'), width: 2, bits: ones(8) },
  ICMPV6_CODE: { offset: off('tp_dst'), width: 2, bits: ones(8) },
  IPV6_ND_TARGET: { offset: off('nd_target'), width: 16 },
  IPV6_ND_SLL: { offset: off('arp_sha'), width: 6 },
  IPV6_ND_TLL: { offset: off('arp_tha'), width: 6 },
  MPLS_LABEL: { offset: off('mpls_lse'), width: 4, shift: 12, bits: ones(20) },
  MPLS_TC: { offset: off('mpls_lse'), width: 4, shift: 9, bits: ones(3) },
  MPLS_BOS: { offset: off('mpls_lse'), width: 4, shift: 8, bits: ones(1) },
  IPV6_EXTHDR: { offset: off('ipv6_exthdr'), width: 2, le: true, bits: ones(9) },
  NXM_NX_IP_FRAG: { offset: off('ip_frag'), width: 1, bits: ones(2) },
  // Set by a ct op (bpf/xdpswitch.bpf.c xsw_ct_recirc); 0 before any ct, as in OVS.
  // ct_label is not in here: BPF cannot read it, so a rule matching it stays slow.
  NXM_NX_CT_STATE: { offset: off('ct_state'), width: 4, le: true },
  NXM_NX_CT_ZONE: { offset: off('ct_zone'), width: 2, le: true },
  NXM_NX_CT_MARK: { offset: off('ct_mark'), width: 4, le: true },
};

/** set_field targets the commit phase writes back to the frame (bpf/lib/pipeline.h). */
const settable = new Set<OxmName>([
  'ETH_DST', 'ETH_SRC', 'VLAN_VID', 'VLAN_PCP', 'IP_DSCP', 'IP_ECN', 'IPV4_SRC', 'IPV4_DST',
  'TCP_SRC', 'TCP_DST', 'UDP_SRC', 'UDP_DST', 'ARP_OP', 'ARP_SPA', 'ARP_TPA', 'ARP_SHA', 'ARP_THA',
  'IPV6_SRC', 'IPV6_DST', 'METADATA',
]);

/** `n` (at most 48 bits) over `width` bytes. */
function putNumber(buf: Buffer, at: number, width: number, n: number, le: boolean | undefined): void {
  for (let i = 0; i < width; i++) {
    const byte = n % 256;
    n = (n - byte) / 256;
    buf[at + (le ? i : width - 1 - i)] = byte;
  }
}

function put(buf: Buffer, at: number, width: number, v: bigint, le: boolean | undefined): void {
  // Up to 48 bits fit a double exactly: no bigint per byte.
  if (width <= 6) return putNumber(buf, at, width, Number(v), le);
  for (let i = 0; i < width; i++) {
    const byte = Number((v >> BigInt(8 * (le ? i : width - 1 - i))) & 0xffn);
    buf[at + i] = byte;
  }
}

/**
 * Per field: its slot with the shift and bits as bigints, computed once; for a field of
 * up to 48 bits also as numbers (`mul` = 2^shift), so that compiling a rule's key needs
 * no bigint arithmetic.
 */
const slotBits = new Map<OxmName, { slot: KeySlot; shift: bigint; bits: bigint; small: boolean; bitsN: number; mul: number }>(
  (Object.entries(slots) as [OxmName, KeySlot][]).map(([f, slot]) => {
    const bits = slot.bits ?? ones(slot.width * 8);
    // Up to 4 bytes: value & bits in 32-bit arithmetic; 6 bytes (MACs): whole, never shifted.
    const small = slot.width <= 4 || (slot.width === 6 && slot.bits === undefined && slot.shift === undefined);
    return [f, { slot, shift: BigInt(slot.shift ?? 0), bits, small, bitsN: slot.width <= 4 ? Number(bits) : 0, mul: 2 ** (slot.shift ?? 0) }];
  }),
);

/** A match value or mask of a small field as its key bits (see slotBits). */
function smallBits(sb: { slot: KeySlot; bitsN: number; mul: number }, v: bigint): number {
  return sb.slot.width <= 4 ? ((Number(v) & sb.bitsN) >>> 0) * sb.mul : Number(v);
}

/** Key bits and mask bits of one match field, or undefined when the key lacks it. */
function fieldBits(field: OxmName, value: bigint, mask: bigint): { slot: KeySlot; v: bigint; m: bigint } | undefined {
  const sb = slotBits.get(field);
  if (!sb) return undefined;
  return { slot: sb.slot, v: (value & sb.bits) << sb.shift, m: (mask & sb.bits) << sb.shift };
}

export interface CompiledMatch {
  key: Buffer;
  mask: Buffer;
  /** Match fields the key cannot express: the rule matches more than it should. */
  inexact: OxmName[];
}

/** One field's key and mask bytes while compileMatch merges them (put writes all `width`). */
const scratchValue = Buffer.alloc(16);
const scratchMask = Buffer.alloc(16);

export function compileMatch(entry: Pick<FlowEntry, 'match'>): CompiledMatch {
  const key = Buffer.alloc(KEY);
  const mask = Buffer.alloc(KEY);
  const inexact: OxmName[] = [];
  compileInto(entry.match, key, mask, inexact);
  return { key, mask, inexact };
}

/** compileMatch into zeroed `key` and `mask`, the fields the key lacks pushed on `inexact`. */
function compileInto(match: FlowEntry['match'], key: Buffer, mask: Buffer, inexact: OxmName[] | undefined): void {
  for (const f of match) {
    const sb = slotBits.get(f.field);
    if (!sb) {
      inexact?.push(f.field);
      continue;
    }
    const { offset, width, le } = sb.slot;
    const kv = scratchValue;
    const km = scratchMask;
    if (sb.small) {
      putNumber(kv, 0, width, smallBits(sb, f.value), le);
      putNumber(km, 0, width, smallBits(sb, f.mask), le);
    } else {
      put(kv, 0, width, (f.value & sb.bits) << sb.shift, le);
      put(km, 0, width, (f.mask & sb.bits) << sb.shift, le);
    }
    for (let i = 0; i < width; i++) {
      mask[offset + i] = mask[offset + i]! | km[i]!;
      key[offset + i] = (key[offset + i]! & ~km[i]!) | (kv[i]! & km[i]!);
    }
  }
}

const op = (code: number, more: Partial<XswOp> = {}): XswOp => ({
  code,
  cond: 0,
  len: 0,
  arg: 0,
  val: new Uint8Array(16),
  ...more,
});

const upcallOp = (reason: number, why: string, notes: string[]): XswOp => {
  notes.push(why);
  return op(XswOpCode.XSW_OP_UPCALL, { arg: reason });
};

function setFieldOp(field: OxmName, value: bigint, notes: string[]): XswOp {
  const slot = slots[field];
  if (!slot || !settable.has(field)) return upcallOp(XswUpcallReason.XSW_UPCALL_UNSUPPORTED, `set_field ${field}`, notes);
  const b = fieldBits(field, value, ones(128))!;
  const val = new Uint8Array(16);
  const whole = slot.bits === undefined && slot.shift === undefined;
  if (whole) {
    const v = Buffer.alloc(slot.width);
    put(v, 0, slot.width, b.v, slot.le);
    val.set(v);
    return op(XswOpCode.XSW_OP_SET_FIELD, { arg: slot.offset, len: slot.width, val, cond: slot.cond ?? 0 });
  }
  const v = Buffer.alloc(slot.width);
  const m = Buffer.alloc(slot.width);
  put(v, 0, slot.width, b.v, slot.le);
  put(m, 0, slot.width, b.m, slot.le);
  val.set(v, 0);
  val.set(m, 8);
  return op(XswOpCode.XSW_OP_SET_MASKED, { arg: slot.offset, len: slot.width, val, cond: slot.cond ?? 0 });
}

/**
 * ct(zone=Z,table=N) as a lookup the datapath answers (XSW_OP_CT), or why not: the
 * kfuncs only look up, so commit, nat, exec and alg go to the slow path (which commits
 * into the same kernel table); the op ends the walk, so it must be the last thing the
 * rule does (ct forks in OVS: actions after it see the packet untracked).
 */
function ctSlow(a: Extract<Action, { type: 'NX_CT' }>, last: boolean): string | undefined {
  if (a.flags) return 'ct(commit)';
  if (a.recirc_table === NX_CT_RECIRC_NONE) return 'ct without table=';
  if (a.zone_src) return 'ct zone from a field';
  if (a.alg || a.actions.length) return 'ct(alg/nat/exec)';
  if (!last) return 'actions after ct';
  return undefined;
}

/** The groups a flow's actions may name, as the compiler knows them. */
export type GroupLookup = (id: number) => Group | undefined;

/**
 * group:N inlined: XSW_OP_GROUP (counted), then each bucket that runs as
 * BUCKET, its actions, BUCKET_END (a bucket acts on its own copy of the packet). ALL runs
 * every bucket, INDIRECT its one; SELECT and FAST_FAILOVER choose at run time: slow path
 * for now, as are chained groups (a group in a bucket).
 */
function groupOps(id: number, groups: GroupLookup | undefined, notes: string[]): XswOp[] {
  const g = groups?.(id);
  if (!g) return [upcallOp(XswUpcallReason.XSW_UPCALL_UNSUPPORTED, `group ${id} unknown to the datapath`, notes)];
  if (g.group_type !== 'ALL' && g.group_type !== 'INDIRECT') return [upcallOp(XswUpcallReason.XSW_UPCALL_UNSUPPORTED, `group type ${g.group_type}`, notes)];
  const buckets = g.group_type === 'INDIRECT' ? g.buckets.slice(0, 1) : g.buckets;
  if (buckets.some((b) => b.actions.some((a) => a.type === 'GROUP'))) return [upcallOp(XswUpcallReason.XSW_UPCALL_UNSUPPORTED, `group ${id} chains groups`, notes)];
  const ops = [op(XswOpCode.XSW_OP_GROUP, { arg: id })];
  for (const b of buckets) ops.push(op(XswOpCode.XSW_OP_BUCKET), ...actionOps(b.actions, notes), op(XswOpCode.XSW_OP_BUCKET_END));
  return ops;
}

/** `ctLast`: a ct that is the last action may compile to XSW_OP_CT (nothing follows it). */
function actionOps(actions: readonly Action[], notes: string[], ctLast = false, groups?: GroupLookup): XswOp[] {
  const ops: XswOp[] = [];
  for (const [i, a] of actions.entries()) {
    switch (a.type) {
      case 'GROUP':
        ops.push(...groupOps(a.group_id, groups, notes));
        break;
      case 'NX_CT': {
        const why = ctSlow(a, ctLast && i === actions.length - 1);
        ops.push(why ? upcallOp(XswUpcallReason.XSW_UPCALL_CONNTRACK, why, notes) : op(XswOpCode.XSW_OP_CT, { arg: a.recirc_table, len: a.zone }));
        break;
      }
      case 'OUTPUT':
        // LOCAL is a port with a device like any other (the bridge's internal one).
        // FLOOD and ALL expand to the ports in the datapath (bpf/lib/pipeline.h xsw_collect_copies).
        if (a.port <= OFPP.MAX || a.port === OFPP.IN_PORT || a.port === OFPP.LOCAL || a.port === OFPP.FLOOD || a.port === OFPP.ALL) ops.push(op(XswOpCode.XSW_OP_OUTPUT, { arg: a.port }));
        else if (a.port === OFPP.CONTROLLER) ops.push(op(XswOpCode.XSW_OP_OUTPUT, { arg: a.port, len: Math.min(a.max_len, 0xffff) }));
        // NORMAL in the datapath (bpf/lib/normal.h): known unicast and flooding.
        else if (a.port === OFPP.NORMAL) ops.push(op(XswOpCode.XSW_OP_NORMAL));
        else ops.push(upcallOp(XswUpcallReason.XSW_UPCALL_UNSUPPORTED, `output to port 0x${a.port.toString(16)}`, notes));
        break;
      case 'SET_FIELD':
        ops.push(setFieldOp(a.field.field, oxmToBigint(a.field.field, a.field.value), notes));
        break;
      case 'PUSH_VLAN':
        ops.push(op(XswOpCode.XSW_OP_PUSH_VLAN, { arg: a.ethertype }));
        break;
      case 'POP_VLAN':
        ops.push(op(XswOpCode.XSW_OP_POP_VLAN));
        break;
      case 'DEC_NW_TTL':
        ops.push(op(XswOpCode.XSW_OP_DEC_NW_TTL));
        break;
      case 'SET_NW_TTL':
        ops.push(op(XswOpCode.XSW_OP_SET_NW_TTL, { arg: a.nw_ttl }));
        break;
      case 'SET_QUEUE':
        break; // no queues on these ports: the frame leaves the same
      case 'NX_CT_CLEAR':
        // ct_zone, ct_state and ct_mark are adjacent in the key; ct_label is always 0 there.
        ops.push(op(XswOpCode.XSW_OP_SET_FIELD, { arg: off('ct_zone'), len: off('ct_label') - off('ct_zone') }));
        break;
      default:
        ops.push(upcallOp(XswUpcallReason.XSW_UPCALL_UNSUPPORTED, `action ${a.type}`, notes));
    }
  }
  return ops;
}

export interface CompiledProgram {
  ops: XswOp[];
  /** Why (parts of) this rule run in the slow path; empty when all of it is fast. */
  slow: string[];
}

/** A flow entry's instructions as ops, in the spec's instruction order (§5.9). */
export function compileInstructions(instructions: readonly Instruction[], groups?: GroupLookup): CompiledProgram {
  const slow: string[] = [];
  const ops: XswOp[] = [];
  const by = new Map(instructions.map((i) => [i.type, i]));
  const meter = by.get('METER');
  if (meter?.type === 'METER') ops.push(op(XswOpCode.XSW_OP_METER, { arg: meter.meter_id }));
  const apply = by.get('APPLY_ACTIONS');
  const write = by.get('WRITE_ACTIONS');
  // A ct op ends the walk: only with no instruction after the actions.
  const ctLast = !by.has('GOTO_TABLE') && !by.has('WRITE_METADATA') && !(write?.type === 'WRITE_ACTIONS' && write.actions.length);
  if (apply?.type === 'APPLY_ACTIONS') ops.push(...actionOps(apply.actions, slow, ctLast, groups));
  if (write?.type === 'WRITE_ACTIONS' && write.actions.length) ops.push(upcallOp(XswUpcallReason.XSW_UPCALL_UNSUPPORTED, 'write_actions', slow));
  const wm = by.get('WRITE_METADATA');
  if (wm?.type === 'WRITE_METADATA') {
    const val = new Uint8Array(16);
    const dv = new DataView(val.buffer);
    dv.setBigUint64(0, wm.metadata, true);
    dv.setBigUint64(8, wm.metadata_mask, true);
    ops.push(op(XswOpCode.XSW_OP_WRITE_METADATA, { val }));
  }
  const gt = by.get('GOTO_TABLE');
  if (gt?.type === 'GOTO_TABLE') ops.push(op(XswOpCode.XSW_OP_GOTO_TABLE, { arg: gt.table_id }));
  if (ops.length > MAX_OPS) return { ops: [upcallOp(XswUpcallReason.XSW_UPCALL_OPS, `${ops.length} ops`, slow)], slow };
  return { ops, slow };
}

/** One map write the datapath must make, in order. */
export type MapWrite =
  | { map: 'xsw_ops'; index: number; ops: XswOp[] }
  | { map: 'xsw_masks'; index: number; mask: Buffer }
  | { map: 'xsw_rules'; table_id: number; mask_id: number; key: Buffer; rule: Buffer | null }
  | { map: 'xsw_tables'; table_id: number; masks: { mask_id: number; max_prio: number }[]; slow: boolean }
  | { map: 'xsw_rule_stats'; slot: number; reset: true }
  /** Any other (non per-CPU) map of the object: value at key, or delete the key when null. */
  | { map: 'raw'; name: string; key: Buffer; value: Buffer | null };

const u32le = (n: number): Buffer => {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(n >>> 0);
  return b;
};

/**
 * Bytes of the flow key the exact-match cache always keys on, besides what the masks
 * cover: what the ops read to decide what they do (bpf/lib/pipeline.h xsw_exec_op) —
 * in_port (output to the ingress port), the ethertype and VLAN tags (conditions,
 * push/pop VLAN), the IP protocol and fragment bits (conditions).
 */
const emcAlways: [string, number][] = [
  ['in_port', 4],
  ['eth_type', 2],
  ['vlan_tci', 2],
  ['vlan_tpid', 2],
  ['vlan2_tci', 2],
  ['ip_proto', 1],
  ['ip_frag', 1],
];

const bandTypes: Record<string, number> = { DROP: 1, DSCP_REMARK: 2 };
const zeros = <T>(v: T): T[] => new Array<T>(METER_BANDS).fill(v);

/**
 * A meter as the datapath runs it (xsw_meter), buckets full; undefined when the
 * datapath cannot (more bands than it walks, or a band type it lacks).
 */
export function compileMeter(m: Meter): Buffer | undefined {
  if (m.bands.length > METER_BANDS || m.bands.some((b) => !(b.band.type in bandTypes))) return undefined;
  const v = {
    lock: 0, flags: m.flags, n_bands: m.bands.length, reserved: 0, last_ns: 0n, packets: 0n, bytes: 0n, reserved2: 0n,
    band_type: zeros(0), band_rate: zeros(0), band_prec_level: zeros(0),
    band_capacity: zeros(0n), band_tokens: zeros(0n), band_packets: zeros(0n), band_bytes: zeros(0n), reserved3: 0n,
  };
  m.bands.forEach((s, i) => {
    v.band_type[i] = bandTypes[s.band.type]!;
    v.band_rate[i] = s.band.rate;
    v.band_prec_level[i] = s.band.type === 'DSCP_REMARK' ? s.band.prec_level : 0;
    v.band_capacity[i] = BigInt(Math.round(s.capacity)) * BigInt(METER_SCALE);
    v.band_tokens[i] = v.band_capacity[i]!;
  });
  return encodeXswMeter(v);
}

/** The cache's key for a union of masks: key words and their masks, or off (n_words 0). */
export function emcConfig(union: Buffer): { n_words: number; reserved: number; words: number[]; masks: bigint[] } {
  const m = Buffer.from(union);
  for (const [name, width] of emcAlways) m.fill(0xff, off(name), off(name) + width);
  const words: number[] = [];
  const masks: bigint[] = [];
  for (let w = 0; w < KEY / 8; w++) {
    const v = m.readBigUInt64LE(8 * w);
    if (!v) continue;
    words.push(w);
    masks.push(v);
  }
  const n = words.length;
  if (n > EMC_WORDS) return { n_words: 0, reserved: 0, words: new Array<number>(EMC_WORDS).fill(0), masks: new Array<bigint>(EMC_WORDS).fill(0n) };
  while (words.length < EMC_WORDS) {
    words.push(0);
    masks.push(0n);
  }
  return { n_words: n, reserved: 0, words, masks };
}

/**
 * What a mask signature (FlowEntry.sig: the fields and masks of a match) compiles to,
 * shared by every rule with that signature: the mask bytes, the key bytes it covers,
 * and the fields the key cannot express.
 */
interface MaskShape {
  /** The mask's bytes in hex: masks are shared by content across tables. */
  readonly hex: string;
  readonly mask: Buffer;
  /** Offsets of the key bytes the mask covers (any bit set). */
  readonly offsets: Uint8Array;
  readonly inexact: readonly OxmName[];
}

/** An op run in xsw_ops, shared by the rules whose instructions are the same list. */
interface OpRun {
  readonly start: number;
  /** Ops in the run (0 for an empty program, which still takes one slot). */
  readonly n: number;
  readonly slow: readonly string[];
  /** The instruction list it was compiled from, when shared through `runs`. */
  readonly from: readonly Instruction[] | undefined;
  refs: number;
}

/**
 * One rule in the maps. Its map key is kept packed: `key` is a latin1 string of the
 * table id, the mask id (two bytes) and the key bytes under the mask, so rules of one
 * (table, mask, key) find each other by one string and no full key is held per rule.
 */
interface Placed {
  entry: FlowEntry;
  readonly shape: MaskShape;
  readonly slot: number;
  run: OpRun;
  readonly maskId: number;
  readonly key: string;
  /** The next rule with the same key, lower (or equal, later) priority. */
  next: Placed | undefined;
}

interface MaskUse {
  id: number;
  /** Rules per priority under this mask in one table. */
  prios: Map<number, number>;
}

const NO_SLOW: readonly string[] = [];
/** Scratch for one rule's key and mask, and its packed key (3 + at most KEY bytes). */
const scratchKey = Buffer.alloc(KEY);
const scratchMaskKey = Buffer.alloc(KEY);
const packed = Buffer.alloc(KEY + 3);

/**
 * The mirror of the pipeline maps. `apply(deltas)` returns the writes that bring the
 * maps to the new state; ids and slots are reused only after the caller confirms the
 * previous batch is in effect (`release()`), so a packet in flight never reads a
 * recycled op run.
 */
export class PipelineCompiler {
  private readonly placed = new Map<number, Placed>();
  /** Packed key → the highest-priority rule with it (the others follow through `next`). */
  private readonly byKey = new Map<string, Placed>();
  /** FlowEntry.sig → its compiled mask shape. */
  private readonly shapes = new Map<string, MaskShape>();
  /** Op runs by the (shared) instruction list they were compiled from. */
  private readonly runs = new Map<readonly Instruction[], OpRun>();
  private readonly maskIds = new Map<string, number>();
  private readonly maskRefs = new Map<number, number>();
  private readonly tableMasks = new Map<number, Map<number, MaskUse>>();
  private nextMask = 0;
  private nextOp = 0;
  private nextSlot = 1;
  private readonly freeOps = new Map<number, number[]>();
  private readonly freeSlots: number[] = [];
  private pendingOps: [number, number][] = [];
  private pendingSlots: number[] = [];
  private pendingMasks: number[] = [];
  private readonly freeMasks: number[] = [];
  private readonly maskBufs = new Map<number, Buffer>();
  /** The cache's config for the masks in use, until a table gains or loses a mask. */
  private emcConfigBytes: Buffer | undefined;
  /**
   * Generation of the flow tables in the datapath (xsw_emc_gen). It starts anywhere:
   * maps pinned by an earlier run hold cache entries of that run's generations.
   */
  private gen = randomInt(1, 0x7fffffff);
  /** Groups as the last group deltas left them; flows inline their buckets. */
  private readonly groups = new Map<number, Group>();
  /** group_id → ids of the flows whose programs inline it (recompiled when it changes). */
  private readonly groupUsers = new Map<number, Set<number>>();

  constructor(
    readonly limits = { ops: 262144, slots: 131072, masks: 4096 },
  ) {}

  /** Why each slow rule is slow, by FlowEntry.id (for counters by reason and logs). */
  slowRules(): Map<number, string[]> {
    const out = new Map<number, string[]>();
    for (const [id, p] of this.placed) if (p.run.slow.length) out.set(id, [...p.run.slow]);
    return out;
  }

  slotOf(entryId: number): number | undefined {
    return this.placed.get(entryId)?.slot;
  }

  /** Ids, op runs and slots freed by earlier batches may now be reused. */
  release(): void {
    for (const [start, n] of this.pendingOps) (this.freeOps.get(n) ?? this.freeOps.set(n, []).get(n)!).push(start);
    this.freeSlots.push(...this.pendingSlots);
    this.freeMasks.push(...this.pendingMasks);
    this.pendingOps = [];
    this.pendingSlots = [];
    this.pendingMasks = [];
  }

  apply(deltas: readonly Delta[]): MapWrite[] {
    const adds: MapWrite[] = [];
    const rules: MapWrite[] = [];
    const touchedTables = new Set<number>();
    for (const d of deltas) {
      if (d.kind === 'flow-add') this.add(d.entry, adds, rules, touchedTables);
      else if (d.kind === 'flow-modify') this.modify(d.entry, adds, rules);
      else if (d.kind === 'flow-remove') this.remove(d.entry.id, rules, touchedTables);
      else if (d.kind === 'meter-add' || d.kind === 'meter-modify') adds.push(this.meterWrite(d.meter));
      else if (d.kind === 'meter-remove') rules.push({ map: 'raw', name: 'xsw_meters', key: u32le(d.meter.meter_id), value: null });
      else if (d.kind === 'group-add' || d.kind === 'group-modify') this.setGroup(d.group, adds, rules);
      else if (d.kind === 'group-remove') this.groups.delete(d.group.group_id);
    }
    const tables: MapWrite[] = [...touchedTables].map((t) => this.tableWrite(t));
    // New masks and op runs first, then rules, then the tables that point at new masks.
    // Freed ids wait for release(), so nothing a packet may still read is overwritten.
    // Last the cache: its key for the new masks into the slot no packet reads, then the
    // generation that selects it and makes every cached walk stale.
    const flows = deltas.some((d) => d.kind === 'flow-add' || d.kind === 'flow-modify' || d.kind === 'flow-remove' || d.kind === 'group-add' || d.kind === 'group-modify');
    return flows ? [...adds, ...rules, ...tables, ...this.bumpGeneration()] : [...adds, ...rules, ...tables];
  }

  /**
   * A group's new buckets: the flows that inline it get new programs; its fast-path
   * counters start over (the model keeps what they counted so far).
   */
  private setGroup(g: Group, adds: MapWrite[], rules: MapWrite[]): void {
    this.groups.set(g.group_id, g);
    rules.push({ map: 'raw', name: 'xsw_group_stats', key: u32le(g.group_id), value: null });
    for (const id of this.groupUsers.get(g.group_id) ?? []) {
      const p = this.placed.get(id);
      if (p) this.modify(p.entry, adds, rules);
    }
  }

  /** A meter's config with full buckets (a modify starts them over, as the model does). */
  private meterWrite(m: Meter): MapWrite {
    // The model refuses what compileMeter cannot run (more than METER_BANDS bands, other
    // band types), so `undefined` does not happen; were it to, the meter is left out.
    return { map: 'raw', name: 'xsw_meters', key: u32le(m.meter_id), value: compileMeter(m) ?? null };
  }

  /** The union of the masks in use in every table. */
  private unionMask(): Buffer {
    const u = Buffer.alloc(KEY);
    for (const uses of this.tableMasks.values())
      for (const id of uses.keys()) {
        const m = this.maskBufs.get(id)!;
        for (let i = 0; i < KEY; i++) u[i] = u[i]! | m[i]!;
      }
    return u;
  }

  private bumpGeneration(): MapWrite[] {
    // Never 0 (the datapath's "no cache yet"); the low bit picks the config slot.
    this.gen = this.gen >= 0xfffffffe ? 1 : this.gen + 1;
    const config = (this.emcConfigBytes ??= encodeXswEmcConfig(emcConfig(this.unionMask())));
    return [
      { map: 'raw', name: 'xsw_emc_config', key: u32le(this.gen & 1), value: config },
      { map: 'raw', name: 'xsw_emc_gen', key: u32le(0), value: u32le(this.gen) },
    ];
  }

  private allocOps(n: number): number {
    const free = this.freeOps.get(n);
    if (free?.length) return free.pop()!;
    if (this.nextOp + n > this.limits.ops) throw new Error(`action programs need more than ${this.limits.ops} ops`);
    const start = this.nextOp;
    this.nextOp += n;
    return start;
  }

  private allocSlot(): number {
    if (this.freeSlots.length) return this.freeSlots.pop()!;
    if (this.nextSlot >= this.limits.slots) throw new Error(`more than ${this.limits.slots - 1} flows in the datapath`);
    return this.nextSlot++;
  }

  /** The compiled mask of a signature, computed on its first rule. */
  private shape(entry: FlowEntry): MaskShape {
    const hit = this.shapes.get(entry.sig);
    if (hit) return hit;
    if (this.shapes.size >= this.limits.masks) this.shapes.clear(); // signatures no rule may use any more
    const key = Buffer.alloc(KEY);
    const mask = Buffer.alloc(KEY);
    const inexact: OxmName[] = [];
    compileInto(entry.match, key, mask, inexact);
    const offsets: number[] = [];
    for (let i = 0; i < KEY; i++) if (mask[i]) offsets.push(i);
    const s: MaskShape = { hex: mask.toString('hex'), mask, offsets: Uint8Array.from(offsets), inexact: inexact.length ? inexact : [] };
    this.shapes.set(entry.sig, s);
    return s;
  }

  private maskId(shape: MaskShape, adds: MapWrite[]): number {
    let id = this.maskIds.get(shape.hex);
    if (id === undefined) {
      id = this.freeMasks.pop() ?? this.nextMask++;
      if (id >= this.limits.masks) throw new Error(`more than ${this.limits.masks} distinct masks`);
      this.maskIds.set(shape.hex, id);
      this.maskBufs.set(id, shape.mask);
      adds.push({ map: 'xsw_masks', index: id, mask: shape.mask });
    }
    this.maskRefs.set(id, (this.maskRefs.get(id) ?? 0) + 1);
    return id;
  }

  /** The packed key of a rule: table, mask id, then the key bytes under the mask. */
  private packKey(entry: FlowEntry, shape: MaskShape, maskId: number): string {
    scratchKey.fill(0);
    scratchMaskKey.fill(0);
    compileInto(entry.match, scratchKey, scratchMaskKey, undefined);
    packed[0] = entry.table_id;
    packed[1] = maskId & 255;
    packed[2] = maskId >>> 8;
    const o = shape.offsets;
    for (let i = 0; i < o.length; i++) packed[3 + i] = scratchKey[o[i]!]!;
    return packed.toString('latin1', 0, 3 + o.length);
  }

  /** The full flow key of a packed one, for a rule write. */
  private unpackKey(p: Placed): Buffer {
    const key = Buffer.allocUnsafe(KEY).fill(0);
    const o = p.shape.offsets;
    for (let i = 0; i < o.length; i++) key[o[i]!] = p.key.charCodeAt(3 + i);
    return key;
  }

  /** The op run of a rule's instructions, shared with the rules that have the same list. */
  private program(entry: FlowEntry, inexact: readonly OxmName[], adds: MapWrite[]): OpRun {
    if (!inexact.length) {
      const run = this.runs.get(entry.instructions);
      if (run) {
        run.refs++;
        return run;
      }
    }
    const prog = compileInstructions(entry.instructions, (id) => this.groups.get(id));
    for (const i of entry.instructions)
      if (i.type === 'APPLY_ACTIONS')
        for (const a of i.actions) if (a.type === 'GROUP') (this.groupUsers.get(a.group_id) ?? this.groupUsers.set(a.group_id, new Set()).get(a.group_id)!).add(entry.id);
    // A match the key cannot express would catch packets it must not: those go slow.
    const ops = inexact.length
      ? [op(XswOpCode.XSW_OP_UPCALL, { arg: XswUpcallReason.XSW_UPCALL_UNSUPPORTED })]
      : prog.ops.length
        ? prog.ops
        : [];
    const slow = inexact.length ? [`match on ${inexact.join(', ')}`] : prog.slow.length ? prog.slow : NO_SLOW;
    const start = this.allocOps(Math.max(ops.length, 1));
    // An empty program still gets one slot so that op_start is valid; n_ops says 0.
    adds.push({ map: 'xsw_ops', index: start, ops: ops.length ? ops : [op(0)] });
    const run: OpRun = { start, n: ops.length, slow, from: inexact.length ? undefined : entry.instructions, refs: 1 };
    if (run.from) this.runs.set(run.from, run);
    return run;
  }

  /** One rule fewer on `run`: its ops are freed (after release()) with the last. */
  private unref(run: OpRun): void {
    if (--run.refs) return;
    if (run.from && this.runs.get(run.from) === run) this.runs.delete(run.from);
    this.pendingOps.push([run.start, Math.max(run.n, 1)]);
  }

  private ruleValue(p: Placed): Buffer {
    return encodeXswRule({ priority: p.entry.priority, rule_id: p.slot, op_start: p.run.start, n_ops: p.run.n });
  }

  private ruleWrite(p: Placed, rule: Placed | undefined): MapWrite {
    return { map: 'xsw_rules', table_id: p.entry.table_id, mask_id: p.maskId, key: this.unpackKey(p), rule: rule ? this.ruleValue(rule) : null };
  }

  private add(entry: FlowEntry, adds: MapWrite[], rules: MapWrite[], touched: Set<number>): void {
    const shape = this.shape(entry);
    const maskId = this.maskId(shape, adds);
    const run = this.program(entry, shape.inexact, adds);
    const slot = this.allocSlot();
    adds.push({ map: 'xsw_rule_stats', slot, reset: true });
    const key = this.packKey(entry, shape, maskId);
    const p: Placed = { entry, shape, slot, run, maskId, key, next: undefined };
    this.placed.set(entry.id, p);
    const top = this.byKey.get(key);
    if (!top || top.entry.priority < entry.priority) {
      p.next = top;
      this.byKey.set(key, p);
      rules.push(this.ruleWrite(p, p));
    } else {
      // After every rule of a higher or equal priority (as a stable sort put it).
      let q = top;
      while (q.next && q.next.entry.priority >= entry.priority) q = q.next;
      p.next = q.next;
      q.next = p;
    }
    const uses = this.tableMasks.get(entry.table_id) ?? this.tableMasks.set(entry.table_id, new Map()).get(entry.table_id)!;
    let use = uses.get(maskId);
    if (!use) {
      uses.set(maskId, (use = { id: maskId, prios: new Map() }));
      this.emcConfigBytes = undefined;
    }
    use.prios.set(entry.priority, (use.prios.get(entry.priority) ?? 0) + 1);
    touched.add(entry.table_id);
  }

  private modify(entry: FlowEntry, adds: MapWrite[], rules: MapWrite[]): void {
    const p = this.placed.get(entry.id);
    if (!p) return;
    const run = this.program(entry, p.shape.inexact, adds);
    this.unref(p.run);
    p.entry = entry;
    p.run = run;
    if (this.byKey.get(p.key) === p) rules.push(this.ruleWrite(p, p));
  }

  private remove(id: number, rules: MapWrite[], touched: Set<number>): void {
    const p = this.placed.get(id);
    if (!p) return;
    this.placed.delete(id);
    for (const i of p.entry.instructions) if (i.type === 'APPLY_ACTIONS') for (const a of i.actions) if (a.type === 'GROUP') this.groupUsers.get(a.group_id)?.delete(id);
    const top = this.byKey.get(p.key)!;
    if (top === p) {
      if (p.next) this.byKey.set(p.key, p.next);
      else this.byKey.delete(p.key);
      rules.push(this.ruleWrite(p, p.next));
    } else {
      let q = top;
      while (q.next !== p) q = q.next!;
      q.next = p.next;
    }
    this.unref(p.run);
    this.pendingSlots.push(p.slot);
    const uses = this.tableMasks.get(p.entry.table_id)!;
    const use = uses.get(p.maskId)!;
    const c = (use.prios.get(p.entry.priority) ?? 1) - 1;
    if (c) use.prios.set(p.entry.priority, c);
    else use.prios.delete(p.entry.priority);
    if (!use.prios.size) {
      uses.delete(p.maskId);
      this.emcConfigBytes = undefined;
    }
    touched.add(p.entry.table_id);
    const refs = (this.maskRefs.get(p.maskId) ?? 1) - 1;
    if (refs) this.maskRefs.set(p.maskId, refs);
    else {
      this.maskRefs.delete(p.maskId);
      for (const [hex, mid] of this.maskIds) if (mid === p.maskId) this.maskIds.delete(hex);
      this.pendingMasks.push(p.maskId);
    }
  }

  private tableWrite(table_id: number): MapWrite {
    const uses = [...(this.tableMasks.get(table_id)?.values() ?? [])];
    const masks = uses.map((u) => ({ mask_id: u.id, max_prio: Math.max(...u.prios.keys()) })).sort((a, b) => b.max_prio - a.max_prio);
    // More masks than the fast path walks: every packet reaching this table goes slow.
    if (masks.length > MAX_MASKS) return { map: 'xsw_tables', table_id, masks: [], slow: true };
    return { map: 'xsw_tables', table_id, masks, slow: false };
  }
}
