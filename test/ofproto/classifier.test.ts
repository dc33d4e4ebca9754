// test/ofproto/classifier.test.ts — flow-mod semantics of OpenFlow 1.3 §6.4 on the model,
// and the classifier's cost at 100,000 flows measured in hash probes, not time.
import { describe, expect, test } from 'vitest';
import { OFPFF } from '../../proto/openflow/constants.js';
import { aggregateStats, applyFlowMod, expire, flowStats, tableStats } from '../../src/ofproto/flow-mod.js';
import { applyBundle } from '../../src/ofproto/bundle.js';
import { createPipeline } from '../../src/ofproto/pipeline.js';
import { OFPRR } from '../../src/ofproto/types.js';
import type { FlowKey } from '../../src/ofproto/match.js';
import { apply, flowMod, m, output } from './helpers.js';

const all = { table_id: 0xff, out_port: 0xffffffff, out_group: 0xffffffff, cookie: 0n, cookie_mask: 0n, match: [] };

describe('flow mods', () => {
  test('ADD with identical match and priority replaces, keeping counters unless RESET_COUNTS', () => {
    const p = createPipeline();
    const match = [m('IN_PORT', 1)];
    applyFlowMod(p, flowMod({ match, instructions: [apply(output(2))] }), 0);
    const [e] = p.tables[0]!.entries;
    e!.packet_count = 5n;
    applyFlowMod(p, flowMod({ match, instructions: [apply(output(3))], cookie: 7n }), 1000);
    expect(p.tables[0]!.size).toBe(1);
    let [s] = flowStats(p, all, 1000) as { packet_count: bigint; cookie: bigint }[];
    expect(s).toMatchObject({ packet_count: 5n, cookie: 7n });
    applyFlowMod(p, flowMod({ match, instructions: [apply(output(3))], flags: OFPFF.RESET_COUNTS }), 2000);
    [s] = flowStats(p, all, 2000) as { packet_count: bigint; cookie: bigint }[];
    expect(s!.packet_count).toBe(0n);
  });

  test('flow stats list by table, then priority (highest first), then age, also after a bundle rolled back', () => {
    const p = createPipeline();
    const add = (table_id: number, priority: number, port: number) => applyFlowMod(p, flowMod({ table_id, priority, match: [m('IN_PORT', port)] }), 0);
    add(1, 5, 1);
    add(0, 5, 2);
    add(0, 9, 3);
    add(0, 5, 4);
    add(1, 7, 5);
    // A failed bundle deletes the entry for port 2 then puts it back: it goes to the end of its table's set.
    const del = { ...flowMod({ command: 'DELETE_STRICT', priority: 5, match: [m('IN_PORT', 2)] }), type: 'FLOW_MOD' as const, xid: 1 };
    const bad = { ...flowMod({ table_id: 0, match: [], instructions: [{ type: 'GOTO_TABLE', table_id: 0 }] }), type: 'FLOW_MOD' as const, xid: 2 };
    expect(applyBundle(p, [del, bad], 0).ok).toBe(false);
    const order = (flowStats(p, all, 0) as { table_id: number; priority: number; match: { value: unknown }[] }[]).map((s) => [s.table_id, s.priority, s.match[0]!.value]);
    expect(order).toEqual([
      [0, 9, 3],
      [0, 5, 2],
      [0, 5, 4],
      [1, 7, 5],
      [1, 5, 1],
    ]);
  });

  test('CHECK_OVERLAP refuses an overlapping entry of the same priority only', () => {
    const p = createPipeline();
    applyFlowMod(p, flowMod({ match: [m('IN_PORT', 1)] }), 0);
    const r = applyFlowMod(p, flowMod({ match: [m('ETH_TYPE', 0x0800)], flags: OFPFF.CHECK_OVERLAP }), 0);
    expect(r.error?.name).toBe('OFPFMFC_OVERLAP');
    expect(applyFlowMod(p, flowMod({ match: [m('IN_PORT', 2)], flags: OFPFF.CHECK_OVERLAP }), 0).error).toBeUndefined();
    expect(applyFlowMod(p, flowMod({ match: [m('ETH_TYPE', 0x0800)], priority: 1, flags: OFPFF.CHECK_OVERLAP }), 0).error).toBeUndefined();
    // An identical entry is replaced, not an overlap (as OVS).
    expect(applyFlowMod(p, flowMod({ match: [m('IN_PORT', 1)], flags: OFPFF.CHECK_OVERLAP, cookie: 9n }), 0).error).toBeUndefined();
    expect(p.tables[0]!.size).toBe(3);
  });

  test('prerequisites, bad tables and goto_table backwards are refused by name', () => {
    const p = createPipeline();
    expect(applyFlowMod(p, flowMod({ match: [m('TCP_DST', 80)] }), 0).error?.name).toBe('OFPBMC_BAD_PREREQ');
    expect(applyFlowMod(p, flowMod({ table_id: 255 }), 0).error?.name).toBe('OFPFMFC_BAD_TABLE_ID');
    expect(applyFlowMod(p, flowMod({ table_id: 254 }), 0).error?.name).toBe('OFPBRC_EPERM');
    expect(applyFlowMod(p, flowMod({ table_id: 3, instructions: [{ type: 'GOTO_TABLE', table_id: 3 }] }), 0).error?.name).toBe('OFPBIC_BAD_TABLE_ID');
    expect(applyFlowMod(p, flowMod({ instructions: [apply({ type: 'GROUP', group_id: 9 })] }), 0).error?.name).toBe('OFPBAC_BAD_OUT_GROUP');
    expect(applyFlowMod(p, flowMod({ instructions: [{ type: 'METER', meter_id: 9 }] }), 0).error?.name).toBe('OFPMMFC_INVALID_METER');
    expect(applyFlowMod(p, flowMod({ instructions: [apply(output(0))] }), 0).error?.name).toBe('OFPBAC_BAD_OUT_PORT');
    expect(applyFlowMod(p, flowMod({ flags: 1 << 9 }), 0).error?.name).toBe('OFPFMFC_BAD_FLAGS');
    expect(applyFlowMod(p, flowMod({ command: 9 as unknown as 'ADD' }), 0).error?.name).toBe('OFPFMFC_BAD_COMMAND');
    expect(p.tables[0]!.size).toBe(0);
  });

  test('set_field needs its prerequisites in the match or from earlier actions (OFPBAC_MATCH_INCONSISTENT)', () => {
    const p = createPipeline();
    const sf = (field: Parameters<typeof m>[0], value: Parameters<typeof m>[1]) => ({ type: 'SET_FIELD' as const, field: m(field, value) });
    expect(applyFlowMod(p, flowMod({ instructions: [apply(sf('IPV4_SRC', '1.2.3.4'))] }), 0).error?.name).toBe('OFPBAC_MATCH_INCONSISTENT');
    expect(applyFlowMod(p, flowMod({ match: [m('ETH_TYPE', 0x0800)], instructions: [apply(sf('IPV4_SRC', '1.2.3.4'))] }), 0).error).toBeUndefined();
    expect(applyFlowMod(p, flowMod({ match: [m('ETH_TYPE', 0x0800)], instructions: [apply({ type: 'PUSH_MPLS', ethertype: 0x8847 }, sf('IPV4_SRC', '1.2.3.4'))] }), 0).error?.name).toBe('OFPBAC_MATCH_INCONSISTENT');
    expect(applyFlowMod(p, flowMod({ match: [m('ETH_TYPE', 0x8847)], instructions: [apply({ type: 'POP_MPLS', ethertype: 0x0800 }, sf('IPV4_SRC', '1.2.3.4'))] }), 0).error).toBeUndefined();
    expect(applyFlowMod(p, flowMod({ instructions: [apply({ type: 'PUSH_VLAN', ethertype: 0x8100 }, sf('VLAN_PCP', 3))] }), 0).error).toBeUndefined();
    expect(applyFlowMod(p, flowMod({ instructions: [apply(sf('IN_PORT', 3))] }), 0).error?.name).toBe('OFPBAC_BAD_SET_TYPE');
  });

  test('MODIFY is non-strict and cookie-filtered; MODIFY_STRICT needs match and priority', () => {
    const p = createPipeline();
    applyFlowMod(p, flowMod({ match: [m('IN_PORT', 1), m('ETH_TYPE', 0x0800)], cookie: 1n }), 0);
    applyFlowMod(p, flowMod({ match: [m('IN_PORT', 1)], priority: 5, cookie: 2n }), 0);
    applyFlowMod(p, flowMod({ match: [m('IN_PORT', 2)], cookie: 1n }), 0);
    const r = applyFlowMod(p, flowMod({ command: 'MODIFY', match: [m('IN_PORT', 1)], cookie: 1n, cookie_mask: 0xffn, instructions: [apply(output(9))] }), 0);
    expect(r.deltas.map((d) => d.kind)).toEqual(['flow-modify']);
    const s = applyFlowMod(p, flowMod({ command: 'MODIFY_STRICT', match: [m('IN_PORT', 1)], priority: 6, instructions: [apply(output(9))] }), 0);
    expect(s.deltas).toEqual([]);
    expect(applyFlowMod(p, flowMod({ command: 'MODIFY_STRICT', match: [m('IN_PORT', 1)], priority: 5 }), 0).deltas).toHaveLength(1);
  });

  test('DELETE filters by out_port and sends FLOW_REMOVED for SEND_FLOW_REM; DELETE_STRICT is exact', () => {
    const p = createPipeline();
    applyFlowMod(p, flowMod({ match: [m('IN_PORT', 1)], instructions: [apply(output(2))], flags: OFPFF.SEND_FLOW_REM, cookie: 3n }), 0);
    applyFlowMod(p, flowMod({ match: [m('IN_PORT', 2)], instructions: [apply(output(3))] }), 0);
    applyFlowMod(p, flowMod({ table_id: 1, match: [m('IN_PORT', 3)], priority: 7, instructions: [apply(output(2))] }), 0);
    expect(applyFlowMod(p, flowMod({ command: 'DELETE_STRICT', table_id: 1, match: [m('IN_PORT', 3)], priority: 8 }), 0).deltas).toEqual([]);
    const r = applyFlowMod(p, flowMod({ command: 'DELETE', table_id: 0xff, out_port: 2 }), 2500);
    expect(r.deltas).toHaveLength(2);
    expect(r.removed).toEqual([expect.objectContaining({ reason: OFPRR.DELETE, cookie: 3n, duration_sec: 2, duration_nsec: 500_000_000, match: [{ field: 'IN_PORT', value: 1 }] })]);
    expect(aggregateStats(p, all)).toEqual({ packet_count: 0n, byte_count: 0n, flow_count: 1 });
  });

  test('masked matches are normalised; non-strict delete takes the entries a wider match covers', () => {
    const p = createPipeline();
    applyFlowMod(p, flowMod({ match: [m('ETH_TYPE', 0x0800), m('IPV4_DST', '10.0.1.0', '255.255.255.0')] }), 0);
    applyFlowMod(p, flowMod({ match: [m('ETH_TYPE', 0x0800), m('IPV4_DST', '10.0.2.7')] }), 0);
    applyFlowMod(p, flowMod({ match: [m('ETH_TYPE', 0x0800), m('IPV4_DST', '10.1.0.0', '255.255.0.0')] }), 0);
    expect(applyFlowMod(p, flowMod({ match: [m('ETH_TYPE', 0x0800), m('IPV4_DST', '10.0.1.1', '255.255.255.0')] }), 0).error?.name).toBe('OFPBMC_BAD_WILDCARDS');
    const r = applyFlowMod(p, flowMod({ command: 'DELETE', match: [m('ETH_TYPE', 0x0800), m('IPV4_DST', '10.0.0.0', '255.255.0.0')] }), 0);
    expect(r.deltas).toHaveLength(2);
    expect(flowStats(p, all, 0)).toEqual([expect.objectContaining({ match: [m('ETH_TYPE', 0x0800), m('IPV4_DST', '10.1.0.0', '255.255.0.0')] })]);
  });

  test('idle and hard timeouts expire with the right reason', () => {
    const p = createPipeline();
    applyFlowMod(p, flowMod({ match: [m('IN_PORT', 1)], idle_timeout: 10, flags: OFPFF.SEND_FLOW_REM }), 0);
    applyFlowMod(p, flowMod({ match: [m('IN_PORT', 2)], hard_timeout: 5, idle_timeout: 1, flags: OFPFF.SEND_FLOW_REM }), 0);
    [...p.tables[0]!.entries][1]!.last_used = 4900;
    expect(expire(p, 4999).removed).toEqual([]);
    expect(expire(p, 5000).removed.map((r) => r.reason)).toEqual([OFPRR.HARD_TIMEOUT]);
    expect(expire(p, 10000).removed.map((r) => r.reason)).toEqual([OFPRR.IDLE_TIMEOUT]);
    expect(tableStats(p)[0]!.active_count).toBe(0);
  });
});

describe('classifier', () => {
  test('lookup takes the highest priority match across masks', () => {
    const p = createPipeline();
    applyFlowMod(p, flowMod({ priority: 0 }), 0);
    applyFlowMod(p, flowMod({ priority: 10, match: [m('ETH_TYPE', 0x0800)] }), 0);
    applyFlowMod(p, flowMod({ priority: 20, match: [m('ETH_TYPE', 0x0800), m('IPV4_DST', '10.0.0.0', '255.0.0.0')] }), 0);
    const t = p.tables[0]!;
    const k = (dst: bigint): FlowKey => ({ IN_PORT: 1n, ETH_TYPE: 0x0800n, IPV4_DST: dst });
    expect(t.lookup(k(0x0a000001n))?.priority).toBe(20);
    expect(t.lookup(k(0x0b000001n))?.priority).toBe(10);
    expect(t.lookup({ IN_PORT: 1n, ETH_TYPE: 0x86ddn })?.priority).toBe(0);
  });

  test('100,000 flows: add, lookup, modify and delete cost hash probes per mask, not per flow', () => {
    const p = createPipeline();
    const N = 100_000;
    const dst = (i: number) => `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;
    for (let i = 0; i < N; i++) {
      const r = applyFlowMod(p, flowMod({ priority: 100 + (i % 7), match: [m('ETH_TYPE', 0x0800), m('IPV4_DST', dst(i))], instructions: [apply(output(1 + (i % 3)))] }), 0);
      if (r.error) throw r.error;
    }
    // A few wider rules under other masks, lower priority.
    applyFlowMod(p, flowMod({ priority: 50, match: [m('ETH_TYPE', 0x0800), m('IPV4_DST', '10.0.0.0', '255.0.0.0')] }), 0);
    applyFlowMod(p, flowMod({ priority: 1, match: [] }), 0);
    const t = p.tables[0]!;
    expect(t.size).toBe(N + 2);
    expect(t.subtableCount).toBe(3);
    t.probes = 0;
    for (let i = 0; i < 1000; i++) expect(t.lookup({ ETH_TYPE: 0x0800n, IPV4_DST: 0x0a000000n + BigInt(i * 97) })?.priority).toBe(100 + ((i * 97) % 7));
    // The exact subtable hits at priority >= 100, above the other masks' maxima: one probe each.
    expect(t.probes).toBe(1000);
    t.probes = 0;
    expect(t.lookup({ ETH_TYPE: 0x0800n, IPV4_DST: 0x0b000000n })?.priority).toBe(1);
    expect(t.probes).toBe(3);
    const mod = applyFlowMod(p, flowMod({ command: 'MODIFY_STRICT', priority: 100 + (1234 % 7), match: [m('ETH_TYPE', 0x0800), m('IPV4_DST', dst(1234))], instructions: [apply(output(9))] }), 0);
    expect(mod.deltas).toHaveLength(1);
    const del = applyFlowMod(p, flowMod({ command: 'DELETE_STRICT', priority: 100 + (4321 % 7), match: [m('ETH_TYPE', 0x0800), m('IPV4_DST', dst(4321))] }), 0);
    expect(del.deltas).toHaveLength(1);
    expect(t.lookup({ ETH_TYPE: 0x0800n, IPV4_DST: 0x0a000000n + 4321n })?.priority).toBe(50);
    expect(t.size).toBe(N + 1);
    // Non-strict modify and delete with the entries' own mask: hash probes, no scan.
    t.scanned = 0;
    const nmod = applyFlowMod(p, flowMod({ command: 'MODIFY', match: [m('ETH_TYPE', 0x0800), m('IPV4_DST', dst(777))], instructions: [apply(output(8))] }), 0);
    const ndel = applyFlowMod(p, flowMod({ command: 'DELETE', match: [m('ETH_TYPE', 0x0800), m('IPV4_DST', dst(778))] }), 0);
    expect([nmod.deltas.length, ndel.deltas.length]).toEqual([1, 1]);
    // The /8 and empty-match subtables are too coarse to hold covered entries: nothing is scanned.
    expect(t.scanned).toBe(0);
    expect(t.size).toBe(N);
    // Deleting the subtable's whole top priority: its maximum follows, lookups still one probe.
    const top = applyFlowMod(p, flowMod({ command: 'DELETE', match: [m('ETH_TYPE', 0x0800)], table_id: 0 }), 0);
    expect(top.deltas.length).toBe(N - 1);
    expect(t.lookup({ ETH_TYPE: 0x0800n, IPV4_DST: 0x0a000000n })?.priority).toBe(1);
    applyFlowMod(p, flowMod({ priority: 300, match: [m('ETH_TYPE', 0x0800), m('IPV4_DST', dst(5))] }), 0);
    applyFlowMod(p, flowMod({ priority: 200, match: [m('ETH_TYPE', 0x0800), m('IPV4_DST', dst(6))] }), 0);
    applyFlowMod(p, flowMod({ command: 'DELETE_STRICT', priority: 300, match: [m('ETH_TYPE', 0x0800), m('IPV4_DST', dst(5))] }), 0);
    applyFlowMod(p, flowMod({ priority: 250, match: [m('ETH_TYPE', 0x0800), m('IPV4_DST', '10.0.0.0', '255.255.255.0')] }), 0);
    t.probes = 0;
    // The exact subtable's maximum fell from 300 to 200, under the /24's 250: one probe.
    expect(t.lookup({ ETH_TYPE: 0x0800n, IPV4_DST: 0x0a000006n })?.priority).toBe(250);
    expect(t.probes).toBe(1);
  });
});
