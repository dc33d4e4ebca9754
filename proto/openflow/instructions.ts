// proto/openflow/instructions.ts — OpenFlow 1.3 instructions (§7.2.4), a row each;
// an unknown type is OFPBIC_UNKNOWN_INST, experimenter instructions OFPBIC_BAD_EXPERIMENTER.
import { actions } from './actions.js';
import { hdr, list, pad, registry, struct, u32, u64, u8, type Codec, type RegistryValue } from './struct.js';

const H = hdr(4);

export const instructionRegistry = registry(
  {
    what: 'instruction',
    tagAt: 0,
    tagWidth: 2,
    lenAt: 2,
    expTag: 0xffff,
    align: 'include',
    badType: 'OFPBIC_UNKNOWN_INST',
    badLen: 'OFPBIC_BAD_LEN',
    badExperimenter: 'OFPBIC_BAD_EXPERIMENTER',
    badExpType: 'OFPBIC_BAD_EXP_TYPE',
  },
  {
    GOTO_TABLE: { tag: 1, body: struct('ofp_instruction_goto_table', 8, [H, ['table_id', u8], pad(3)]) },
    WRITE_METADATA: {
      tag: 2,
      body: struct('ofp_instruction_write_metadata', 24, [H, pad(4), ['metadata', u64], ['metadata_mask', u64]]),
    },
    WRITE_ACTIONS: { tag: 3, body: struct('ofp_instruction_actions', 8, [H, pad(4), ['actions', actions]]) },
    APPLY_ACTIONS: { tag: 4, body: struct('ofp_instruction_actions', 8, [H, pad(4), ['actions', actions]]) },
    CLEAR_ACTIONS: { tag: 5, body: struct('ofp_instruction_actions', 8, [H, pad(4)]) },
    METER: { tag: 6, body: struct('ofp_instruction_meter', 8, [H, ['meter_id', u32]]) },
  },
);

export type Instruction = RegistryValue<typeof instructionRegistry>;
export type InstructionType = Instruction['type'];
export const instructions: Codec<Instruction[]> = list(instructionRegistry);
