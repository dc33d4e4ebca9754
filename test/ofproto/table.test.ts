// test/ofproto/table.test.ts — table features, table mod, table stats and queue requests.
import { describe, expect, test } from 'vitest';
import { OFPQ_ALL } from '../../proto/openflow/constants.js';
import { oxmHeader } from '../../proto/openflow/oxm.js';
import { tableStats } from '../../src/ofproto/flow-mod.js';
import { createPipeline } from '../../src/ofproto/pipeline.js';
import { addPort } from '../../src/ofproto/port.js';
import { applyTableMod, queueStats, setTableFeatures, tableFeatures } from '../../src/ofproto/table.js';

describe('tables', () => {
  test('254 visible tables (as OVS); features follow what the model implements; the last has no goto', () => {
    const p = createPipeline();
    const f = tableFeatures(p);
    expect(f).toHaveLength(254);
    expect(tableStats(p)).toHaveLength(254);
    const prop = (t: number, type: string) => f[t]!.properties.find((x) => x.type === type) as Record<string, number[]> | undefined;
    expect(f[0]).toMatchObject({ table_id: 0, name: '', max_entries: 1_000_000 }); // unnamed, as in OVS
    expect(prop(0, 'INSTRUCTIONS')!.instruction_ids).toEqual([1, 2, 3, 4, 5, 6]);
    expect(prop(253, 'INSTRUCTIONS')!.instruction_ids).toEqual([2, 3, 4, 5, 6]);
    expect(prop(252, 'NEXT_TABLES')!.next_table_ids).toEqual([253]);
    // Actions: the 16 OF1.3 actions, no Nicira ones.
    expect(prop(0, 'APPLY_ACTIONS')!.action_ids).toEqual([0, 11, 12, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27]);
    expect(prop(0, 'MATCH')!.oxm_ids).toContain(oxmHeader('IPV4_SRC', true));
    expect(prop(0, 'APPLY_SETFIELD')!.oxm_ids).not.toContain(oxmHeader('IN_PORT'));
    expect(setTableFeatures(p).name).toBe('OFPTFFC_EPERM');
  });

  test('table mod checks the table; queues: none, named by the error', () => {
    const p = createPipeline();
    addPort(p, { port_no: 1, name: 'p1' });
    expect(applyTableMod(p, { table_id: 3, config: 0 })).toBeUndefined();
    expect(applyTableMod(p, { table_id: 255, config: 3 })).toBeUndefined();
    expect(applyTableMod(p, { table_id: 3, config: 8 })?.name).toBe('OFPTMFC_BAD_CONFIG');
    expect(queueStats(p, 1, OFPQ_ALL)).toEqual([]);
    expect((queueStats(p, 2, OFPQ_ALL) as Error).name).toBe('OFPQOFC_BAD_PORT');
    expect((queueStats(p, 1, 5) as Error).name).toBe('OFPQOFC_BAD_QUEUE');
  });
});
