// test/vswitchd/flow-store.test.ts — the saved OpenFlow state a restart reads: what is loaded
// equals what was applied (matches, cookies, timeouts, set_field values, groups, slots), after
// any mix of adds, modifies and deletes, a torn last line, and compaction.
import { appendFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect, test } from 'vitest';
import { applyFlowMod } from '../../src/ofproto/flow-mod.js';
import { applyGroupMod } from '../../src/ofproto/group.js';
import { createPipeline, type Delta, type Pipeline } from '../../src/ofproto/pipeline.js';
import { FlowStore, restoreInto } from '../../src/vswitchd/flow-store.js';
import { apply, flowMod, m, output } from '../ofproto/helpers.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function store(): FlowStore {
  const dir = mkdtempSync(join(tmpdir(), 'xsw-flow-store-'));
  dirs.push(dir);
  // Slots as the datapath would name them: a function of the entry id.
  return new FlowStore(join(dir, 'br0.ofstate'), (id) => 1000 + id);
}

/** The model as dump-flows would see it, counters aside. */
const view = (p: Pipeline) =>
  p.tables.flatMap((t) => [...t.entries].map((e) => ({ id: e.id, table: e.table_id, prio: e.priority, match: e.match, cookie: e.cookie, idle: e.idle_timeout, hard: e.hard_timeout, flags: e.flags, ins: e.instructions, installed: e.installed }))).sort((a, b) => a.id - b.id);

function mod(p: Pipeline, s: FlowStore, over: Parameters<typeof flowMod>[0], now = 1000): void {
  const r = applyFlowMod(p, flowMod(over), now);
  expect(r.error).toBeUndefined();
  s.record(p, r.deltas, undefined);
}

test('adds, modifies, deletes and groups come back as applied, slots included', () => {
  const s = store();
  const p = createPipeline();
  s.snapshot(p, { failMode: 'secure', controllers: true });
  mod(p, s, { priority: 10, cookie: 0xfedcba9876543210n, idle_timeout: 60, hard_timeout: 600, match: [m('IN_PORT', 1)], instructions: [apply(output(2))] });
  mod(p, s, { priority: 20, match: [m('ETH_TYPE', 0x800), m('IPV4_DST', '10.0.0.0', '255.0.0.0')], instructions: [apply({ type: 'SET_FIELD', field: { field: 'ETH_DST', value: 0x0a0b0c0d0e0fn } }, output(3))] });
  mod(p, s, { command: 'MODIFY', match: [m('IN_PORT', 1)], instructions: [apply(output(4))] });
  mod(p, s, { priority: 5, table_id: 1, match: [], instructions: [] });
  mod(p, s, { command: 'DELETE', table_id: 1, match: [] });
  const g = applyGroupMod(p, { command: 'ADD', group_type: 'ALL', group_id: 7, buckets: [{ weight: 0, watch_port: 0xffffffff, watch_group: 0xffffffff, actions: [output(1), output(2)] }] }, 1000);
  s.record(p, g.deltas as Delta[], undefined);

  const first = [...p.tables[0]!.entries][0]!;
  s.recordSlow(new Map([[first.id, { packets: 5n, bytes: 500n }]]));
  s.recordSlow(new Map([[first.id, { packets: 5n, bytes: 500n }]])); // unchanged: nothing written
  const saved = FlowStore.load(s.path)!;
  expect(saved.skipped).toBe(0);
  expect(saved.flows.find((f) => f.entry.id === first.id)?.slow).toEqual({ packets: 5n, bytes: 500n });
  expect(readFileSync(s.path, 'utf8').match(/"slow"/g)).toHaveLength(1);
  expect(saved.flushed).toEqual({ failMode: 'secure', controllers: true });
  const q = createPipeline();
  const flows = restoreInto(q, saved);
  expect(view(q)).toEqual(view(p));
  expect(q.nextEntryId).toBe(p.nextEntryId);
  expect(flows.map((f) => f.slot)).toEqual(flows.map((f) => 1000 + f.entry.id));
  expect(q.groups.get(7)?.buckets[0]?.actions).toEqual(p.groups.get(7)?.buckets[0]?.actions);
});

test('a line torn by a crash is skipped; compaction keeps the state and shrinks the file', () => {
  const s = store();
  const p = createPipeline();
  s.snapshot(p, undefined);
  for (let i = 0; i < 1500; i++) mod(p, s, { priority: i % 7, match: [m('IN_PORT', 1 + (i % 3))], instructions: [apply(output(1 + (i % 5)))] }, i);
  // 1500 replacing adds of 21 distinct flows: compacted once the log outgrew them.
  expect(readFileSync(s.path, 'utf8').split('\n').length).toBeLessThan(600);
  appendFileSync(s.path, '{"put":[{"e":{"id":99');
  const saved = FlowStore.load(s.path)!;
  expect(saved.skipped).toBe(1);
  const q = createPipeline();
  restoreInto(q, saved);
  expect(view(q)).toEqual(view(p));
});
