// The compiler's mirror of the maps, checked without BPF: after any sequence of flow adds,
// modifies and deletes, the rule map written by its MapWrites holds, for each (table, mask,
// key), the highest-priority entry with that match, pointing at ops that are that entry's
// instructions compiled, with counter slots unique. Rules share keys (same match at other
// priorities) and op runs (equal instruction lists): both are the packed state's edge cases.
import { describe, expect, test } from 'vitest';
import type { Instruction } from '../../proto/openflow/instructions.js';
import type { OxmEntry } from '../../proto/openflow/oxm.js';
import { compileInstructions, compileMatch, PipelineCompiler } from '../../src/datapath/compiler.js';
import { decodeXswRule, XswOpCode, type XswOp } from '../../src/datapath/gen/maps.js';
import { applyFlowMod } from '../../src/ofproto/flow-mod.js';
import { createPipeline } from '../../src/ofproto/pipeline.js';
import { flowMod } from '../ofproto/helpers.js';

function rng(seed: number): (n: number) => number {
  let s = seed >>> 0;
  return (n) => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s % n;
  };
}

const matches: OxmEntry[][] = [
  [],
  [{ field: 'IN_PORT', value: 1 }],
  [{ field: 'IN_PORT', value: 2 }],
  [{ field: 'ETH_TYPE', value: 0x0800 }, { field: 'IPV4_DST', value: '10.0.0.1' }],
  [{ field: 'ETH_TYPE', value: 0x0800 }, { field: 'IPV4_DST', value: '10.0.0.0', mask: '255.255.255.0' }],
  [{ field: 'ETH_TYPE', value: 0x0800 }, { field: 'IP_PROTO', value: 17 }, { field: 'UDP_DST', value: 53 }],
  [{ field: 'ETH_TYPE', value: 0x0800 }, { field: 'IP_PROTO', value: 6 }, { field: 'TCP_DST', value: 53 }],
  // ct_label is not in the key: a rule on it compiles to an upcall of its own.
  [{ field: 'NXM_NX_CT_LABEL', value: 1n, mask: 1n }],
];
const programs: Instruction[][] = [
  [],
  [{ type: 'APPLY_ACTIONS', actions: [{ type: 'OUTPUT', port: 1, max_len: 0 }] }],
  [{ type: 'APPLY_ACTIONS', actions: [{ type: 'OUTPUT', port: 2, max_len: 0 }] }],
  [{ type: 'APPLY_ACTIONS', actions: [{ type: 'SET_FIELD', field: { field: 'IPV4_DST', value: '10.9.9.9' } }, { type: 'OUTPUT', port: 2, max_len: 0 }] }, { type: 'GOTO_TABLE', table_id: 2 }],
];

describe('PipelineCompiler map state', () => {
  test.each([1, 2, 3, 4, 5])('random adds, modifies and deletes, seed %i: the written maps are the model compiled', (seed) => {
    const r = rng(seed);
    const p = createPipeline();
    const c = new PipelineCompiler({ ops: 4096, slots: 4096, masks: 64 });
    const rules = new Map<string, Buffer>();
    const ops = new Map<number, XswOp>();
    const masks = new Map<number, string>();
    for (let step = 0; step < 300; step++) {
      const deltas = [];
      for (let k = 1 + r(5); k > 0; k--) {
        const command = (['ADD', 'ADD', 'MODIFY_STRICT', 'DELETE_STRICT', 'DELETE'] as const)[r(5)]!;
        const res = applyFlowMod(p, flowMod({ command, table_id: r(2), priority: 10 * (1 + r(3)), match: matches[r(matches.length)]!, instructions: programs[r(programs.length)]! }), 0);
        if (!res.error) deltas.push(...res.deltas);
      }
      for (const w of c.apply(deltas)) {
        if (w.map === 'xsw_ops') w.ops.forEach((o, i) => ops.set(w.index + i, o));
        else if (w.map === 'xsw_masks') masks.set(w.index, w.mask.toString('hex'));
        else if (w.map === 'xsw_rules') {
          const k = `${w.table_id}|${masks.get(w.mask_id)}|${w.key.toString('hex')}`;
          if (w.rule) rules.set(k, w.rule);
          else rules.delete(k);
        }
      }
      c.release();

      const want = new Map<string, { priority: number; instructions: readonly Instruction[]; inexact: boolean; id: number }>();
      for (const t of p.tables)
        for (const e of t.entries) {
          const m = compileMatch(e);
          const k = `${e.table_id}|${m.mask.toString('hex')}|${m.key.toString('hex')}`;
          const have = want.get(k);
          if (!have || have.priority < e.priority) want.set(k, { priority: e.priority, instructions: e.instructions, inexact: m.inexact.length > 0, id: e.id });
        }
      expect([...rules.keys()].sort()).toEqual([...want.keys()].sort());
      const slots = new Set<number>();
      for (const [k, v] of rules) {
        const rule = decodeXswRule(v);
        const w = want.get(k)!;
        expect(rule.priority).toBe(w.priority);
        expect(c.slotOf(w.id)).toBe(rule.rule_id);
        slots.add(rule.rule_id);
        const got = Array.from({ length: rule.n_ops }, (_, i) => ops.get(rule.op_start + i));
        if (w.inexact) expect(got.map((o) => o!.code)).toEqual([XswOpCode.XSW_OP_UPCALL]);
        else expect(got).toEqual(compileInstructions(w.instructions).ops);
      }
      expect(slots.size).toBe(rules.size);
    }
  });
});
