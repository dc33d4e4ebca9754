// test/ofproto/bundle.test.ts — bundles are all or nothing: a refusal part-way leaves the
// tables, groups, meters and ports exactly as they were.
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
