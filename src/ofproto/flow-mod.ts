// src/ofproto/flow-mod.ts — OFPT_FLOW_MOD with OpenFlow 1.3 semantics (§6.4): ADD with
// CHECK_OVERLAP and replace-on-identical, MODIFY[_STRICT] and DELETE[_STRICT] with
// cookie/mask and out_port/out_group filters; FLOW_REMOVED data; timeouts; flow stats.
import type { Action } from '../../proto/openflow/actions.js';
import { OFPFF, OFPG, OFPM, OFPP, OFPTT } from '../../proto/openflow/constants.js';
import { OfpError } from '../../proto/openflow/errors.js';
import type { Instruction } from '../../proto/openflow/instructions.js';
import type { OxmName } from '../../proto/openflow/oxm.js';
import type { FlowStats, TableStats } from '../../proto/openflow/multipart.js';
import { inSetOrder, NOT_IN_ACTION_SET, validateActions } from './actions.js';
import { checkCtContext } from './ct-action.js';
import { fieldOfHeader } from './nx.js';
import type { FlowEntry } from './classifier.js';
import { EntryFlowStats } from './flow-stats.js';
import { fullMask, matchKey, maskSignature, matchToOxm, normaliseMatch, oxmToBigint, rowOf, type Match } from './match.js';
import { duration, insertEntry, N_VISIBLE_TABLES, removeEntry, undoable, type Delta, type Pipeline } from './pipeline.js';
import { OFPRR, type FlowModInput, type FlowRemoved, type FlowStatsRequestInput } from './types.js';

const KNOWN_FLAGS = OFPFF.SEND_FLOW_REM | OFPFF.CHECK_OVERLAP | OFPFF.RESET_COUNTS | OFPFF.NO_PKT_COUNTS | OFPFF.NO_BYT_COUNTS;

export interface FlowModResult {
  error?: OfpError;
  deltas: Delta[];
  /** FLOW_REMOVED data for deleted entries that asked for it (SEND_FLOW_REM). */
  removed: FlowRemoved[];
}

/** What a flow's match (and the actions so far) pin down, for set_field prerequisites. */
type Known = Map<OxmName, bigint>;

function knownFrom(match: Match): Known {
  const known: Known = new Map(match.filter((f) => f.mask === fullMask(f.field)).map((f) => [f.field, f.value]));
  // vlan_vid=0x1000/0x1000 (any tag) pins down that a tag is there.
  const vid = match.find((f) => f.field === 'VLAN_VID');
  if (vid && vid.mask & vid.value & 0x1000n) known.set('VLAN_VID', vid.value | 0x1000n);
  // ct_state bits the match sets (+inv under any mask forbids ct(commit), as OVS's check_CT).
  const cs = match.find((f) => f.field === 'NXM_NX_CT_STATE');
  if (cs) known.set('NXM_NX_CT_STATE', cs.value);
  return known;
}

function prereqsKnown(known: Known, f: OxmName): boolean {
  return (rowOf(f).prereq ?? []).every((pre) => {
    const v = known.get(pre.field as OxmName);
    return v !== undefined && (pre.bits !== undefined ? (Number(v) & pre.bits) === pre.bits : !pre.values || pre.values.includes(Number(v)));
  });
}

const isMpls = (known: Known) => [0x8847n, 0x8848n].includes(known.get('ETH_TYPE') ?? -1n);
const isIp = (known: Known) => [0x0800n, 0x86ddn].includes(known.get('ETH_TYPE') ?? -1n);

/**
 * Follows an action list's effect on the header stack and refuses, as OVS does
 * (OFPBAC_MATCH_INCONSISTENT: "action can't apply for this match"), an action whose
 * header the match and the earlier actions do not pin down: set_field without its
 * prerequisites, MPLS TTL actions and pop_mpls off MPLS, IP TTL actions off IP, pop_vlan
 * without a tag.
 */
function checkActionContext(known: Known, actions: readonly Action[], actionSet: boolean): OfpError | undefined {
  const dropL3 = () => ['IP_PROTO', 'ICMPV6_TYPE'].forEach((f) => known.delete(f as OxmName));
  // OVS checks an action set's header actions loosely ("can't check consistency of an
  // action set"); only set_field's prerequisites stay binding there.
  const inconsistent = (why: string) => (actionSet ? undefined : new OfpError('OFPBAC_MATCH_INCONSISTENT', { why }));
  for (const a of actions) {
    switch (a.type) {
      case 'PUSH_VLAN':
        known.set('VLAN_VID', 0x1000n);
        break;
      case 'POP_VLAN': {
        const bad = !((known.get('VLAN_VID') ?? 0n) & 0x1000n) && inconsistent('pop_vlan needs a VLAN tag in the match');
        if (bad) return bad;
        known.delete('VLAN_VID');
        break;
      }
      case 'DEC_MPLS_TTL':
      case 'SET_MPLS_TTL':
      case 'COPY_TTL_IN':
      case 'COPY_TTL_OUT': {
        const bad = !isMpls(known) && inconsistent(`${a.type} needs an MPLS eth_type`);
        if (bad) return bad;
        break;
      }
      case 'DEC_NW_TTL':
      case 'SET_NW_TTL': {
        const bad = !isIp(known) && inconsistent(`${a.type} needs an IP eth_type`);
        if (bad) return bad;
        break;
      }
      case 'POP_MPLS': {
        const bad = !isMpls(known) && inconsistent('pop_mpls needs an MPLS eth_type');
        if (bad) return bad;
        known.set('ETH_TYPE', BigInt(a.ethertype));
        dropL3();
        break;
      }
      case 'PUSH_MPLS':
      case 'PUSH_PBB':
        known.set('ETH_TYPE', BigInt(a.ethertype));
        dropL3();
        break;
      case 'POP_PBB':
        known.delete('ETH_TYPE');
        dropL3();
        break;
      case 'NX_REG_LOAD':
      case 'NX_REG_MOVE': {
        // OVS checks a load like a set_field and a move's both ends the same way.
        for (const h of a.type === 'NX_REG_LOAD' ? [a.dst] : [a.src, a.dst]) {
          const f = fieldOfHeader(h);
          if (f && !prereqsKnown(known, f)) return new OfpError('OFPBAC_MATCH_INCONSISTENT', { why: `${a.type} on ${f} needs its prerequisites` });
        }
        break;
      }
      case 'NX_CT': {
        const bad = checkCtContext(known, a);
        if (bad) return bad;
        break;
      }
      case 'SET_FIELD': {
        const f = a.field.field;
        for (const pre of rowOf(f).prereq ?? []) {
          const v = known.get(pre.field as OxmName);
          const ok = v !== undefined && (pre.bits !== undefined ? (Number(v) & pre.bits) === pre.bits : !pre.values || pre.values.includes(Number(v)));
          if (!ok) return new OfpError('OFPBAC_MATCH_INCONSISTENT', { why: `set_field ${f} needs ${pre.field}` });
        }
        // OVS also wants a tag before set_field of vlan_vid (it does not push one).
        if (f === 'VLAN_VID' && !((known.get('VLAN_VID') ?? 0n) & 0x1000n)) return new OfpError('OFPBAC_MATCH_INCONSISTENT', { why: 'set_field vlan_vid needs a VLAN tag' });
        if (f === 'ETH_TYPE' || f === 'IP_PROTO' || f === 'ICMPV6_TYPE' || f === 'VLAN_VID') known.set(f, oxmToBigint(f, a.field.value));
        break;
      }
    }
  }
  return undefined;
}

/** Actions whose header the match must pin down (checkActionContext). */
const CONTEXT = new Set<Action['type']>(['NX_CT', 'SET_FIELD', 'NX_REG_LOAD', 'NX_REG_MOVE', 'POP_VLAN', 'DEC_MPLS_TTL', 'SET_MPLS_TTL', 'COPY_TTL_IN', 'COPY_TTL_OUT', 'DEC_NW_TTL', 'SET_NW_TTL', 'POP_MPLS']);

function validateInstructions(p: Pipeline, table_id: number, insts: readonly Instruction[], match: Match): OfpError | undefined {
  const apply = insts.find((i) => i.type === 'APPLY_ACTIONS');
  const write = insts.find((i) => i.type === 'WRITE_ACTIONS');
  const needsContext = (i: Instruction | undefined) => (i?.type === 'APPLY_ACTIONS' || i?.type === 'WRITE_ACTIONS') && i.actions.some((a) => CONTEXT.has(a.type));
  if (needsContext(apply) || needsContext(write)) {
    const known = knownFrom(match);
    const bad = (apply?.type === 'APPLY_ACTIONS' && checkActionContext(known, apply.actions, false)) || (write?.type === 'WRITE_ACTIONS' && checkActionContext(known, inSetOrder(write.actions), true));
    if (bad) return bad;
  }
  for (let k = 0; k < insts.length; k++) {
    const i = insts[k]!;
    for (let j = 0; j < k; j++) if (insts[j]!.type === i.type) return new OfpError('OFPBIC_UNSUP_INST', { why: `${i.type} twice` });
    switch (i.type) {
      case 'GOTO_TABLE':
        // Forward only: a packet never revisits a table (§5.1).
        if (i.table_id <= table_id || i.table_id > OFPTT.MAX) return new OfpError('OFPBIC_BAD_TABLE_ID', { why: `goto_table ${i.table_id} from table ${table_id}` });
        break;
      case 'METER':
        if (!p.meters.has(i.meter_id) && i.meter_id !== OFPM.CONTROLLER && i.meter_id !== OFPM.SLOWPATH) return new OfpError('OFPMMFC_INVALID_METER', { why: `no meter ${i.meter_id}` }); // OVS's answer
        break;
      case 'APPLY_ACTIONS':
      case 'WRITE_ACTIONS': {
        const bad = validateActions(p, i.actions);
        if (bad) return bad;
        const odd = i.type === 'WRITE_ACTIONS' && i.actions.find((a) => NOT_IN_ACTION_SET.has(a.type));
        if (odd) return new OfpError('OFPBAC_BAD_TYPE', { why: `${odd.type} is not allowed in an action set` });
        break;
      }
    }
  }
  return undefined;
}

/**
 * Equal instruction lists share one (read-only) value: 100,000 flows usually carry a few
 * distinct action lists, and each decoded copy costs about 500 bytes. The cache is bounded;
 * when full it starts over (entries keep what they hold).
 */
const instructionCache = new Map<string, readonly Instruction[]>();
const INSTRUCTION_CACHE_MAX = 4096;

/** A string equal for structurally equal values only (decoded values: arrays, plain objects, scalars, bytes). */
function structuralKey(v: unknown): string {
  switch (typeof v) {
    case 'object': {
      if (v === null) return 'null';
      if (Array.isArray(v)) {
        let s = '[';
        for (const x of v) s += `${structuralKey(x)},`;
        return `${s}]`;
      }
      if (v instanceof Uint8Array) return `b${v.join('.')}`;
      let s = '{';
      for (const k in v) s += `${k}:${structuralKey((v as Record<string, unknown>)[k])},`;
      return `${s}}`;
    }
    case 'string':
      return JSON.stringify(v);
    case 'bigint':
      return `${v}n`;
    default:
      return String(v);
  }
}

/** The commonest lists (one output, one goto) keyed without walking them; keys never start with '['. */
function quickKey(insts: readonly Instruction[]): string | undefined {
  if (insts.length !== 1) return undefined;
  const i = insts[0]!;
  if (i.type === 'GOTO_TABLE') return `g${i.table_id}`;
  if (i.type !== 'APPLY_ACTIONS' || i.actions.length !== 1) return undefined;
  const a = i.actions[0]!;
  return a.type === 'OUTPUT' ? `o${a.port}/${a.max_len}` : undefined;
}

export function sharedInstructions(insts: readonly Instruction[]): readonly Instruction[] {
  const key = quickKey(insts) ?? structuralKey(insts);
  const hit = instructionCache.get(key);
  if (hit) return hit;
  if (instructionCache.size >= INSTRUCTION_CACHE_MAX) instructionCache.clear();
  instructionCache.set(key, insts);
  return insts;
}

const actionsOf = (e: FlowEntry): Action[] => e.instructions.flatMap((i) => (i.type === 'APPLY_ACTIONS' || i.type === 'WRITE_ACTIONS' ? i.actions : []));

/** out_port/out_group filters: OFPP_ANY/OFPG_ANY pass all, else an output/group action must name it. */
function passesOut(e: FlowEntry, out_port: number, out_group: number): boolean {
  if (out_port !== OFPP.ANY && !actionsOf(e).some((a) => a.type === 'OUTPUT' && a.port === out_port)) return false;
  if (out_group !== OFPG.ANY && !actionsOf(e).some((a) => a.type === 'GROUP' && a.group_id === out_group)) return false;
  return true;
}

const passesCookie = (e: FlowEntry, cookie: bigint, mask: bigint) => (e.cookie & mask) === (cookie & mask);

export function flowRemoved(e: FlowEntry, reason: number, now: number): FlowRemoved {
  return {
    cookie: e.cookie,
    priority: e.priority,
    reason,
    table_id: e.table_id,
    ...duration(e.installed, now),
    idle_timeout: e.idle_timeout,
    hard_timeout: e.hard_timeout,
    packet_count: e.packet_count,
    byte_count: e.byte_count,
    match: matchToOxm(e.match),
  };
}

/** Removes every entry `pick` selects, in all tables (group/meter deletion, DELETE). */
export function removeEntries(p: Pipeline, pick: (e: FlowEntry) => boolean, reason: number, now: number, tables = p.tables): { deltas: Delta[]; removed: FlowRemoved[] } {
  const deltas: Delta[] = [];
  const removed: FlowRemoved[] = [];
  for (const t of tables) {
    for (const e of [...t.entries]) {
      if (!pick(e)) continue;
      removeEntry(p, e);
      deltas.push({ kind: 'flow-remove', entry: e, reason });
      if (e.flags & OFPFF.SEND_FLOW_REM) removed.push(flowRemoved(e, reason, now));
    }
  }
  return { deltas, removed };
}

function selectEntries(p: Pipeline, table_id: number, match: Match, strict: boolean, priority: number): FlowEntry[] {
  const tables = table_id === OFPTT.ALL ? p.tables : [p.tables[table_id]!];
  if (strict) return tables.flatMap((t) => t.findStrict(match, priority) ?? []);
  return tables.flatMap((t) => (t.size ? t.findCovered(match) : []));
}

/** Applies one flow mod at time `now` (ms). */
export function applyFlowMod(p: Pipeline, mod: FlowModInput, now: number): FlowModResult {
  const fail = (error: OfpError): FlowModResult => ({ error, deltas: [], removed: [] });
  if (mod.flags & ~KNOWN_FLAGS) return fail(new OfpError('OFPFMFC_BAD_FLAGS', { why: `flags 0x${mod.flags.toString(16)}` }));
  const match = normaliseMatch(mod.match);
  if (match instanceof OfpError) return fail(match);
  const isDelete = mod.command === 'DELETE' || mod.command === 'DELETE_STRICT';
  if (mod.table_id > OFPTT.MAX && !(isDelete && mod.table_id === OFPTT.ALL)) return fail(new OfpError('OFPFMFC_BAD_TABLE_ID', { why: `table ${mod.table_id}` }));

  switch (mod.command) {
    case 'ADD': {
      if (mod.table_id >= N_VISIBLE_TABLES) return fail(new OfpError('OFPBRC_EPERM', { why: `table ${mod.table_id} is read-only` }));
      const bad = validateInstructions(p, mod.table_id, mod.instructions, match);
      if (bad) return fail(bad);
      const t = p.tables[mod.table_id]!;
      const sig = t.internSig(maskSignature(match));
      const key = matchKey(match);
      const old = t.findStrict(match, mod.priority, sig, key);
      // An identical entry is replaced without an overlap check (OVS does the same).
      if (!old && mod.flags & OFPFF.CHECK_OVERLAP && t.findOverlap(match, mod.priority)) return fail(new OfpError('OFPFMFC_OVERLAP', { why: `priority ${mod.priority}` }));
      const keep = old && !(mod.flags & OFPFF.RESET_COUNTS);
      const e: FlowEntry = {
        id: p.nextEntryId++,
        table_id: mod.table_id,
        priority: mod.priority,
        match,
        sig,
        key,
        cookie: mod.cookie,
        idle_timeout: mod.idle_timeout,
        hard_timeout: mod.hard_timeout,
        flags: mod.flags,
        instructions: sharedInstructions(mod.instructions),
        packet_count: keep ? old.packet_count : 0n,
        byte_count: keep ? old.byte_count : 0n,
        installed: now,
        last_used: now,
      };
      const deltas: Delta[] = [];
      // Identical match and priority: the old entry is replaced, no FLOW_REMOVED (§6.4).
      if (old) {
        removeEntry(p, old);
        deltas.push({ kind: 'flow-remove', entry: old, reason: OFPRR.DELETE });
      }
      insertEntry(p, e);
      deltas.push({ kind: 'flow-add', entry: e });
      return { deltas, removed: [] };
    }
    case 'MODIFY':
    case 'MODIFY_STRICT': {
      if (mod.table_id === OFPTT.ALL) return fail(new OfpError('OFPFMFC_BAD_TABLE_ID', { why: 'modify in all tables' }));
      const bad = validateInstructions(p, mod.table_id, mod.instructions, match);
      if (bad) return fail(bad);
      const deltas: Delta[] = [];
      for (const e of selectEntries(p, mod.table_id, match, mod.command === 'MODIFY_STRICT', mod.priority)) {
        if (!passesCookie(e, mod.cookie, mod.cookie_mask)) continue;
        const was = { instructions: e.instructions, packet_count: e.packet_count, byte_count: e.byte_count };
        undoable(p, () => Object.assign(e, was));
        e.instructions = sharedInstructions(mod.instructions);
        if (mod.flags & OFPFF.RESET_COUNTS) {
          e.packet_count = 0n;
          e.byte_count = 0n;
        }
        deltas.push({ kind: 'flow-modify', entry: e });
      }
      return { deltas, removed: [] };
    }
    case 'DELETE':
    case 'DELETE_STRICT': {
      const chosen = new Set(
        selectEntries(p, mod.table_id, match, mod.command === 'DELETE_STRICT', mod.priority).filter(
          (e) => passesCookie(e, mod.cookie, mod.cookie_mask) && passesOut(e, mod.out_port, mod.out_group),
        ),
      );
      const deltas: Delta[] = [];
      const removed: FlowRemoved[] = [];
      for (const e of chosen) {
        removeEntry(p, e);
        deltas.push({ kind: 'flow-remove', entry: e, reason: OFPRR.DELETE });
        if (e.flags & OFPFF.SEND_FLOW_REM) removed.push(flowRemoved(e, OFPRR.DELETE, now));
      }
      return { deltas, removed };
    }
    default:
      return fail(new OfpError('OFPFMFC_BAD_COMMAND', { why: `command ${String(mod.command)}` }));
  }
}

/** Idle and hard timeouts at `now` (ms): removes expired entries, FLOW_REMOVED for those that asked. */
export function expire(p: Pipeline, now: number): { deltas: Delta[]; removed: FlowRemoved[] } {
  const deltas: Delta[] = [];
  const removed: FlowRemoved[] = [];
  for (const t of p.tables) {
    if (!t.timed.size) continue;
    for (const e of [...t.timed]) {
      let reason: number | undefined;
      if (e.hard_timeout && now - e.installed >= e.hard_timeout * 1000) reason = OFPRR.HARD_TIMEOUT;
      else if (e.idle_timeout && now - e.last_used >= e.idle_timeout * 1000) reason = OFPRR.IDLE_TIMEOUT;
      if (reason === undefined) continue;
      removeEntry(p, e);
      deltas.push({ kind: 'flow-remove', entry: e, reason });
      if (e.flags & OFPFF.SEND_FLOW_REM) removed.push(flowRemoved(e, reason, now));
    }
  }
  return { deltas, removed };
}

function statsEntries(p: Pipeline, req: FlowStatsRequestInput): FlowEntry[] | OfpError {
  if (req.table_id > OFPTT.MAX && req.table_id !== OFPTT.ALL) return new OfpError('OFPBRC_BAD_TABLE_ID', { why: `table ${req.table_id}` });
  const match = normaliseMatch(req.match);
  if (match instanceof OfpError) return match;
  return selectEntries(p, req.table_id, match, false, 0).filter((e) => passesCookie(e, req.cookie, req.cookie_mask) && passesOut(e, req.out_port, req.out_group));
}

/** OFPMP_FLOW: entries by table, then priority (highest first). */
export function flowStats(p: Pipeline, req: FlowStatsRequestInput, now: number): FlowStats[] | OfpError {
  const es = statsEntries(p, req);
  if (es instanceof OfpError) return es;
  // Each writes itself when encoded (src/ofproto/flow-stats.ts): no OXM strings per flow.
  return dumpOrder(es).map((e) => new EntryFlowStats(e, now));
}

/**
 * Table, then priority (highest first), then id (oldest first), as a dump lists them:
 * grouped in one pass by (table, priority), of which there are few, instead of a
 * comparator sort over every entry. A group is usually in id order already.
 */
function dumpOrder(es: readonly FlowEntry[]): FlowEntry[] {
  const groups = new Map<number, FlowEntry[]>();
  for (const e of es) {
    const k = e.table_id * 0x10000 + (0xffff - e.priority);
    const g = groups.get(k);
    if (g) g.push(e);
    else groups.set(k, [e]);
  }
  const out: FlowEntry[] = [];
  for (const k of [...groups.keys()].sort((a, b) => a - b)) {
    const g = groups.get(k)!;
    for (let i = 1; i < g.length; i++) {
      if (g[i - 1]!.id > g[i]!.id) {
        g.sort((a, b) => a.id - b.id);
        break;
      }
    }
    for (const e of g) out.push(e);
  }
  return out;
}

/** OFPMP_AGGREGATE. */
export function aggregateStats(p: Pipeline, req: FlowStatsRequestInput): { packet_count: bigint; byte_count: bigint; flow_count: number } | OfpError {
  const es = statsEntries(p, req);
  if (es instanceof OfpError) return es;
  return { packet_count: es.reduce((a, e) => a + e.packet_count, 0n), byte_count: es.reduce((a, e) => a + e.byte_count, 0n), flow_count: es.length };
}

/** OFPMP_TABLE: every visible table, as OVS answers. */
export function tableStats(p: Pipeline): TableStats[] {
  return p.tables.slice(0, N_VISIBLE_TABLES).map((t) => ({ table_id: t.table_id, active_count: t.size, lookup_count: t.lookup_count, matched_count: t.matched_count }));
}
