// test/ofproto/bundle.test.ts — bundles are all or nothing: a refusal part-way leaves the
// tables, groups, meters and ports exactly as they were.
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { OFPP } from '../../proto/openflow/constants.js';
import { applyBundle, type BundledRequest } from '../../src/ofproto/bundle.js';
import { flowStats } from '../../src/ofproto/flow-mod.js';
import { groupDesc } from '../../src/ofproto/group.js';
import { meterConfig } from '../../src/ofproto/meter.js';
import { createPipeline, type Pipeline } from '../../src/ofproto/pipeline.js';
import { addPort, portDesc } from '../../src/ofproto/port.js';
import { apply, flowMod, m, output } from './helpers.js';

const all = { table_id: 0xff, out_port: OFPP.ANY, out_group: 0xffffffff, cookie: 0n, cookie_mask: 0n, match: [] };
const fm = (over: Parameters<typeof flowMod>[0]): BundledRequest => ({ type: 'FLOW_MOD', xid: 1, ...flowMod(over) });
const snapshot = (p: Pipeline) => JSON.stringify([flowStats(p, all, 0), groupDesc(p), meterConfig(p, 0xffffffff), portDesc(p)], (_, v) => (typeof v === 'bigint' ? `${v}` : v));

describe('bundles', () => {
  function start() {
    const p = createPipeline();
    addPort(p, { port_no: 1, name: 'p1', hw_addr: '02:00:00:00:00:01' });
    const r = applyBundle(p, [fm({ match: [m('IN_PORT', 1)], instructions: [apply(output(2))] }), fm({ priority: 5, instructions: [apply(output(3))] })], 0);
    expect(r.ok).toBe(true);
    return p;
  }

  test('a failing message undoes every earlier one of the bundle', () => {
    const p = start();
    for (const e of p.tables[0]!.entries) e.packet_count = 7n;
    const before = snapshot(p);
    const r = applyBundle(
      p,
      [
        fm({ command: 'MODIFY', instructions: [apply(output(4))], flags: 4 /* RESET_COUNTS */ }),
        fm({ match: [m('IN_PORT', 1)], instructions: [apply(output(9))] }), // replaces
        fm({ command: 'DELETE', table_id: 0xff, priority: 5 }), // removes both
        fm({ table_id: 3, priority: 9 }),
        { type: 'GROUP_MOD', xid: 1, command: 'ADD', group_type: 'ALL', group_id: 1, buckets: [] },
        { type: 'METER_MOD', xid: 1, command: 'ADD', flags: 1, meter_id: 1, bands: [{ type: 'DROP', rate: 5, burst_size: 0 }] },
        { type: 'PORT_MOD', xid: 1, port_no: 1, hw_addr: '02:00:00:00:00:01', config: 1, mask: 1, advertise: 0 },
        { type: 'PACKET_OUT', xid: 1, buffer_id: 0xffffffff, in_port: OFPP.CONTROLLER, actions: [output(1)], data: Buffer.alloc(60) },
        fm({ match: [m('TCP_DST', 80)] }), // bad prerequisite: the bundle fails here
      ],
      0,
    );
    expect(r).toMatchObject({ ok: false, index: 8, error: { name: 'OFPBMC_BAD_PREREQ' } });
    expect(snapshot(p)).toBe(before);
    expect(p.journal).toBeUndefined();
    // The classifier itself is consistent again: lookups find the restored entries.
    expect(p.tables[0]!.lookup({ IN_PORT: 1n })?.priority).toBe(0x8000);
    expect(p.tables[0]!.lookup({ IN_PORT: 1n })?.packet_count).toBe(7n);
  });

  test('a good bundle applies in order and runs its packet-outs after the mods', () => {
    const p = start();
    const r = applyBundle(
      p,
      [
        { type: 'PACKET_OUT', xid: 1, buffer_id: 0xffffffff, in_port: OFPP.CONTROLLER, actions: [output(OFPP.TABLE)], data: Buffer.alloc(60) },
        fm({ match: [m('IN_PORT', OFPP.CONTROLLER)], priority: 100, instructions: [apply(output(1))] }),
      ],
      0,
    );
    expect(r.ok).toBe(true);
    if (r.ok) expect(r.results[0]!.trace!.outputs.map((o) => o.port)).toEqual([1]);
    expect(p.tables[0]!.size).toBe(3);
  });
});

describe('bundle rollback, property', () => {
  const matches = [[], [m('IN_PORT', 1)], [m('IN_PORT', 2)], [m('ETH_TYPE', 0x0800)], [m('ETH_TYPE', 0x0800), m('IPV4_DST', '10.0.0.0', '255.0.0.0')]];
  const mod = fc.record({
    command: fc.constantFrom('ADD', 'ADD', 'MODIFY', 'MODIFY_STRICT', 'DELETE', 'DELETE_STRICT'),
    match: fc.constantFrom(...matches),
    priority: fc.constantFrom(0, 5, 10),
    table_id: fc.constantFrom(0, 1),
    cookie: fc.constantFrom(0n, 1n),
    cookie_mask: fc.constantFrom(0n, 1n),
    flags: fc.constantFrom(0, 1, 4),
    port: fc.constantFrom(1, 2, 3),
  });
  const other = fc.oneof(
    fc.record({ kind: fc.constant('group' as const), command: fc.constantFrom('ADD', 'MODIFY', 'DELETE'), id: fc.constantFrom(1, 2) }),
    fc.record({ kind: fc.constant('meter' as const), command: fc.constantFrom('ADD', 'MODIFY', 'DELETE'), id: fc.constantFrom(1, 2) }),
  );
  const toMsg = (x: { command: string; match: ReturnType<typeof m>[]; priority: number; table_id: number; cookie: bigint; cookie_mask: bigint; flags: number; port: number }): BundledRequest =>
    fm({ command: x.command as 'ADD', match: x.match, priority: x.priority, table_id: x.table_id, cookie: x.cookie, cookie_mask: x.cookie_mask, flags: x.flags, instructions: [apply(output(x.port))] });
  const toOther = (x: { kind: 'group' | 'meter'; command: string; id: number }): BundledRequest =>
    x.kind === 'group'
      ? { type: 'GROUP_MOD', xid: 1, command: x.command as 'ADD', group_type: 'ALL', group_id: x.id, buckets: x.command === 'DELETE' ? [] : [{ weight: 0, watch_port: OFPP.ANY, watch_group: 0xffffffff, actions: [output(2)] }] }
      : { type: 'METER_MOD', xid: 1, command: x.command as 'ADD', flags: 1, meter_id: x.id, bands: x.command === 'DELETE' ? [] : [{ type: 'DROP', rate: 10, burst_size: 0 }] };

  test('whatever a bundle did before its failing message is undone exactly', () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(mod.map(toMsg), other.map(toOther)), { maxLength: 12 }), fc.array(fc.oneof(mod.map(toMsg), other.map(toOther)), { maxLength: 12 }), (setup, bundle) => {
        const p = createPipeline();
        addPort(p, { port_no: 1, name: 'p1', hw_addr: '02:00:00:00:00:01' });
        // The setup goes in one message at a time (refusals are fine), then a bundle that must fail.
        for (const msg of setup) applyBundle(p, [msg], 0);
        const before = snapshot(p);
        const sizes = p.tables.map((t) => t.size).join();
        const r = applyBundle(p, [...bundle, fm({ match: [m('TCP_DST', 80)] })], 0);
        expect(r.ok).toBe(false);
        expect(snapshot(p)).toBe(before);
        expect(p.tables.map((t) => t.size).join()).toBe(sizes);
        // Every entry is still findable by its own match: the classifier's indexes were restored too.
        for (const t of p.tables) for (const e of t.entries) expect(t.findStrict(e.match, e.priority)).toBe(e);
      }),
      { numRuns: 300 },
    );
  });
});
