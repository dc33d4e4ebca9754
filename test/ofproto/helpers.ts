// test/ofproto/helpers.ts — small builders for flow/group/meter mods in the spec's field names.
import type { Action } from '../../proto/openflow/actions.js';
import type { Instruction } from '../../proto/openflow/instructions.js';
import type { OxmEntry } from '../../proto/openflow/oxm.js';
import type { FlowModInput } from '../../src/ofproto/types.js';

export function flowMod(over: Partial<FlowModInput> = {}): FlowModInput {
  return {
    cookie: 0n,
    cookie_mask: 0n,
    table_id: 0,
    command: 'ADD',
    idle_timeout: 0,
    hard_timeout: 0,
    priority: 0x8000,
    buffer_id: 0xffffffff,
    out_port: 0xffffffff,
    out_group: 0xffffffff,
    flags: 0,
    match: [],
    instructions: [],
    ...over,
  };
}

export const apply = (...actions: Action[]): Instruction => ({ type: 'APPLY_ACTIONS', actions });
export const write = (...actions: Action[]): Instruction => ({ type: 'WRITE_ACTIONS', actions });
export const output = (port: number, max_len = 0xffff): Action => ({ type: 'OUTPUT', port, max_len });
export const m = (field: OxmEntry['field'], value: OxmEntry['value'], mask?: OxmEntry['mask']): OxmEntry => (mask === undefined ? { field, value } : { field, value, mask });
