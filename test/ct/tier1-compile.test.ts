// test/ct/tier1-compile.test.ts — which ct actions the pipeline compiler hands to the
// fast path's lookup (XSW_OP_CT) and which it leaves to the slow path, by reason; the
// ct_* matches as key bits. The datapath side runs in firewall.test.ts (xdpswitch start).
import { describe, expect, test } from 'vitest';
import type { Instruction } from '../../proto/openflow/instructions.js';
import { compileInstructions, compileMatch } from '../../src/datapath/compiler.js';
import { XswOpCode, XswUpcallReason, XSW_FLOW_KEY_SIZE } from '../../src/datapath/gen/maps.js';
import { flowKey } from '../../proto/datapath/key.js';
import { output } from '../ofproto/helpers.js';
import { ct, ctClear, nat, setMark } from './helpers.js';


const ops = (instructions: Instruction[]) => compileInstructions(instructions).ops.map((o) => [o.code, o.arg, o.len]);

describe('ct in the compiled pipeline', () => {
  test('ct(zone,table) as the last action is a lookup op; the rest go up with reason conntrack', () => {
    expect(ops([{ type: 'APPLY_ACTIONS', actions: [ct({ zone: 7, table: 1 })] }])).toEqual([[XswOpCode.XSW_OP_CT, 1, 7]]);
    const up = [XswOpCode.XSW_OP_UPCALL, XswUpcallReason.XSW_UPCALL_CONNTRACK, 0];
    expect(ops([{ type: 'APPLY_ACTIONS', actions: [ct({ commit: true, table: 1 })] }])).toEqual([up]);
    expect(ops([{ type: 'APPLY_ACTIONS', actions: [ct({ table: 1, exec: [setMark(1)] })] }])).toEqual([up]);
    expect(ops([{ type: 'APPLY_ACTIONS', actions: [ct({ table: 1, exec: [nat()] })] }])).toEqual([up]);
    expect(ops([{ type: 'APPLY_ACTIONS', actions: [ct({ zone: 1 })] }])).toEqual([up]);
    expect(ops([{ type: 'APPLY_ACTIONS', actions: [ct({ zoneSrc: { header: 0x00010004, ofsNbits: 15 }, table: 1 })] }])).toEqual([up]);
    // ct forks: what follows it sees the packet untracked, which one walk cannot do.
    expect(ops([{ type: 'APPLY_ACTIONS', actions: [ct({ table: 1 }), output(2)] }])[0]).toEqual(up);
    expect(ops([{ type: 'APPLY_ACTIONS', actions: [ct({ table: 1 })] }, { type: 'GOTO_TABLE', table_id: 3 }])[0]).toEqual(up);
  });

  test('ct_clear zeroes ct_zone, ct_state and ct_mark in the key', () => {
    const at = (name: string) => flowKey.fields.find((f) => f.name === name)!.offset;
    const [o] = compileInstructions([{ type: 'APPLY_ACTIONS', actions: [ctClear] }]).ops;
    expect(o).toMatchObject({ code: XswOpCode.XSW_OP_SET_FIELD, arg: at('ct_zone'), len: at('ct_label') - at('ct_zone') });
    expect([...o!.val]).toEqual(new Array(16).fill(0));
  });

  test('ct_state, ct_zone and ct_mark are key bits; ct_label is not', () => {
    const at = (name: string) => flowKey.fields.find((f) => f.name === name)!.offset;
    const c = compileMatch({ match: [
      { field: 'NXM_NX_CT_STATE', value: 0x22n, mask: 0x23n },
      { field: 'NXM_NX_CT_ZONE', value: 5n, mask: 0xffffn },
      { field: 'NXM_NX_CT_MARK', value: 0x01020304n, mask: 0xffffffffn },
    ] });
    expect(c.inexact).toEqual([]);
    expect(c.key.length).toBe(XSW_FLOW_KEY_SIZE);
    expect(c.key.readUInt32LE(at('ct_state'))).toBe(0x22);
    expect(c.mask.readUInt32LE(at('ct_state'))).toBe(0x23);
    expect(c.key.readUInt16LE(at('ct_zone'))).toBe(5);
    expect(c.key.readUInt32LE(at('ct_mark'))).toBe(0x01020304);
    expect(compileMatch({ match: [{ field: 'NXM_NX_CT_LABEL', value: 1n, mask: 1n }] }).inexact).toEqual(['NXM_NX_CT_LABEL']);
  });
});
