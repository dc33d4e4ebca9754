// src/ofproto/group.ts — the group table (§5.6): all, select, indirect, fast-failover;
// chaining with loops refused; deleting a group deletes the flows that use it.
import type { Action } from '../../proto/openflow/actions.js';
import { OFPG, OFPP } from '../../proto/openflow/constants.js';
import { OfpError } from '../../proto/openflow/errors.js';
import type { GroupDesc, GroupStats } from '../../proto/openflow/group.js';
import { validateActions } from './actions.js';
import { removeEntries } from './flow-mod.js';
import { duration, undoable, type Delta, type Pipeline } from './pipeline.js';
import { OFPRR, type BucketInput, type FlowRemoved, type GroupModInput, type GroupType } from './types.js';

export interface Bucket extends BucketInput {
  packet_count: bigint;
  byte_count: bigint;
}

export interface Group {
  group_id: number;
  group_type: GroupType;
  buckets: Bucket[];
  packet_count: bigint;
  byte_count: bigint;
  installed: number;
}

export interface ModResult {
  error?: OfpError;
  deltas: Delta[];
  /** FLOW_REMOVED data for flows deleted with the group (those with SEND_FLOW_REM). */
  removed: FlowRemoved[];
}

const groupsIn = (actions: readonly Action[]) => actions.flatMap((a) => (a.type === 'GROUP' ? [a.group_id] : []));

/** Would `id` with these buckets reach itself through group actions? */
function loops(p: Pipeline, id: number, buckets: readonly BucketInput[]): boolean {
  const seen = new Set<number>();
  const stack = buckets.flatMap((b) => groupsIn(b.actions));
  while (stack.length) {
    const g = stack.pop()!;
    if (g === id) return true;
    if (seen.has(g)) continue;
    seen.add(g);
    for (const b of p.groups.get(g)?.buckets ?? []) stack.push(...groupsIn(b.actions));
  }
  return false;
}

/** Checks a group mod as OVS does (lib/ofp-group.c), so the two answer alike. */
function checkGroup(p: Pipeline, mod: GroupModInput): OfpError | undefined {
  if (mod.group_id > OFPG.MAX) return new OfpError('OFPGMFC_INVALID_GROUP', { why: `group ${mod.group_id}` });
  if (!['ALL', 'SELECT', 'INDIRECT', 'FF'].includes(mod.group_type)) return new OfpError('OFPGMFC_BAD_TYPE', { why: `type ${String(mod.group_type)}` });
  if (mod.group_type === 'INDIRECT' && mod.buckets.length !== 1) return new OfpError('OFPGMFC_INVALID_GROUP', { why: 'indirect group needs exactly one bucket' });
  for (const b of mod.buckets) {
    const liveness = b.watch_port !== OFPP.ANY || b.watch_group !== OFPG.ANY;
    if (b.weight !== 0 && mod.group_type !== 'SELECT') return new OfpError('OFPGMFC_INVALID_GROUP', { why: 'weight outside a select group' });
    if (liveness && (mod.group_type === 'ALL' || mod.group_type === 'INDIRECT')) return new OfpError('OFPGMFC_WATCH_UNSUPPORTED', { why: `${mod.group_type} buckets watch nothing` });
    if (!liveness && mod.group_type === 'FF') return new OfpError('OFPGMFC_INVALID_GROUP', { why: 'fast-failover bucket watches nothing' });
    const bad = validateActions(p, b.actions, { inGroup: true });
    if (bad) return bad;
  }
  if (loops(p, mod.group_id, mod.buckets)) return new OfpError('OFPGMFC_LOOP', { why: `group ${mod.group_id}` });
  return undefined;
}

const toBuckets = (bs: readonly BucketInput[]): Bucket[] => bs.map((b) => ({ ...b, packet_count: 0n, byte_count: 0n }));

/** OFPT_GROUP_MOD. */
export function applyGroupMod(p: Pipeline, mod: GroupModInput, now: number): ModResult {
  const fail = (error: OfpError): ModResult => ({ error, deltas: [], removed: [] });
  switch (mod.command) {
    case 'ADD': {
      if (p.groups.has(mod.group_id)) return fail(new OfpError('OFPGMFC_GROUP_EXISTS', { why: `group ${mod.group_id}` }));
      const bad = checkGroup(p, mod);
      if (bad) return fail(bad);
      const g: Group = { group_id: mod.group_id, group_type: mod.group_type, buckets: toBuckets(mod.buckets), packet_count: 0n, byte_count: 0n, installed: now };
      p.groups.set(g.group_id, g);
      undoable(p, () => p.groups.delete(g.group_id));
      return { deltas: [{ kind: 'group-add', group: g }], removed: [] };
    }
    case 'MODIFY': {
      const g = p.groups.get(mod.group_id);
      if (!g) return fail(new OfpError('OFPGMFC_UNKNOWN_GROUP', { why: `group ${mod.group_id}` }));
      const bad = checkGroup(p, mod);
      if (bad) return fail(bad);
      const was = { group_type: g.group_type, buckets: g.buckets };
      undoable(p, () => Object.assign(g, was));
      g.group_type = mod.group_type;
      g.buckets = toBuckets(mod.buckets);
      return { deltas: [{ kind: 'group-modify', group: g }], removed: [] };
    }
    case 'DELETE': {
      // OF1.3.5 prescribes an error for a DELETE that carries buckets (OVS agrees).
      if (mod.buckets.length) return fail(new OfpError('OFPGMFC_INVALID_GROUP', { why: 'delete with buckets' }));
      const ids = mod.group_id === OFPG.ALL ? [...p.groups.keys()] : p.groups.has(mod.group_id) ? [mod.group_id] : [];
      // As in OVS, a group other groups forward to may go: their group action then does nothing.
      const deltas: Delta[] = [];
      const removed: FlowRemoved[] = [];
      for (const id of ids) {
        const r = removeEntries(p, (e) => e.instructions.some((i) => (i.type === 'APPLY_ACTIONS' || i.type === 'WRITE_ACTIONS') && groupsIn(i.actions).includes(id)), OFPRR.DELETE, now);
        deltas.push(...r.deltas);
        removed.push(...r.removed);
        deltas.push({ kind: 'group-remove', group: p.groups.get(id)! });
        const g = p.groups.get(id)!;
        p.groups.delete(id);
        undoable(p, () => p.groups.set(id, g));
      }
      return { deltas, removed };
    }
    default:
      return fail(new OfpError('OFPGMFC_BAD_COMMAND', { why: `command ${String(mod.command)}` }));
  }
}

/** ofp_group_type numbers, for OFPMP_GROUP_DESC's u8 field. */
const GROUP_TYPE_NUMBER: Record<GroupType, number> = { ALL: 0, SELECT: 1, INDIRECT: 2, FF: 3 };

export function groupDesc(p: Pipeline): GroupDesc[] {
  return [...p.groups.values()]
    .sort((a, b) => a.group_id - b.group_id)
    .map((g) => ({ group_type: GROUP_TYPE_NUMBER[g.group_type], group_id: g.group_id, buckets: g.buckets.map((b) => ({ weight: b.weight, watch_port: b.watch_port, watch_group: b.watch_group, actions: [...b.actions] })) }));
}

/** Flows whose instructions name the group. */
function refCount(p: Pipeline, id: number): number {
  let n = 0;
  for (const t of p.tables) for (const e of t.entries) if (e.instructions.some((i) => (i.type === 'APPLY_ACTIONS' || i.type === 'WRITE_ACTIONS') && groupsIn(i.actions).includes(id))) n++;
  return n;
}

export function groupStats(p: Pipeline, group_id: number, now: number): GroupStats[] {
  return [...p.groups.values()]
    .filter((g) => group_id === OFPG.ALL || g.group_id === group_id)
    .sort((a, b) => a.group_id - b.group_id)
    .map((g) => ({
      group_id: g.group_id,
      ref_count: refCount(p, g.group_id),
      packet_count: g.packet_count,
      byte_count: g.byte_count,
      ...duration(g.installed, now),
      bucket_stats: g.buckets.map((b) => ({ packet_count: b.packet_count, byte_count: b.byte_count })),
    }));
}
