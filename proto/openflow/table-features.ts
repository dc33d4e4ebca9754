// proto/openflow/table-features.ts — ofp_table_features and its properties (§7.3.5.5).
// Properties are padded to 8 bytes, the padding not counted in their length; an
// unknown property is OFPTFFC_BAD_TYPE.
import { OfpError } from './errors.js';
import { oxmIds } from './oxm.js';
import { array, hdr, lenSelf, list, pad, registry, str, struct, u16, u32, u64, u8, type Codec, type RegistryValue, type ValueOf } from './struct.js';

const H = hdr(4);

/** Instruction or action ids: bare 4-byte headers (type, len=4), kept as the type numbers. */
const typeIds: Codec<number[]> = {
  meta: { kind: 'custom', name: 'typeIds' },
  size: undefined,
  read(r, field) {
    const out: number[] = [];
    while (r.pos < r.end) {
      r.need(4, field);
      const type = r.u16();
      const len = r.u16();
      if (len !== 4) throw new OfpError('OFPTFFC_BAD_LEN', { field, why: `id length ${len}` });
      out.push(type);
    }
    return out;
  },
  write(w, v) {
    for (const t of v) {
      w.u16(t);
      w.u16(4);
    }
  },
};

const instructionsProp = struct('ofp_table_feature_prop_instructions', 4, [H, ['instruction_ids', typeIds]]);
const nextTablesProp = struct('ofp_table_feature_prop_next_tables', 4, [H, ['next_table_ids', array(u8)]]);
const actionsProp = struct('ofp_table_feature_prop_actions', 4, [H, ['action_ids', typeIds]]);
const oxmProp = struct('ofp_table_feature_prop_oxm', 4, [H, ['oxm_ids', oxmIds]]);

export const tableFeaturePropRegistry = registry(
  { what: 'table feature property', tagAt: 0, tagWidth: 2, lenAt: 2, align: 'exclude', badType: 'OFPTFFC_BAD_TYPE', badLen: 'OFPTFFC_BAD_LEN' },
  {
    INSTRUCTIONS: { tag: 0, body: instructionsProp },
    INSTRUCTIONS_MISS: { tag: 1, body: instructionsProp },
    NEXT_TABLES: { tag: 2, body: nextTablesProp },
    NEXT_TABLES_MISS: { tag: 3, body: nextTablesProp },
    WRITE_ACTIONS: { tag: 4, body: actionsProp },
    WRITE_ACTIONS_MISS: { tag: 5, body: actionsProp },
    APPLY_ACTIONS: { tag: 6, body: actionsProp },
    APPLY_ACTIONS_MISS: { tag: 7, body: actionsProp },
    MATCH: { tag: 8, body: oxmProp },
    WILDCARDS: { tag: 10, body: oxmProp },
    WRITE_SETFIELD: { tag: 12, body: oxmProp },
    WRITE_SETFIELD_MISS: { tag: 13, body: oxmProp },
    APPLY_SETFIELD: { tag: 14, body: oxmProp },
    APPLY_SETFIELD_MISS: { tag: 15, body: oxmProp },
  },
);
export type TableFeatureProp = RegistryValue<typeof tableFeaturePropRegistry>;

export const OFP_MAX_TABLE_NAME_LEN = 32;

export const tableFeatures = struct('ofp_table_features', 64, [
  lenSelf(u16),
  ['table_id', u8],
  pad(5),
  ['name', str(OFP_MAX_TABLE_NAME_LEN)],
  ['metadata_match', u64], // bits of metadata the table can match
  ['metadata_write', u64], // bits of metadata the table can write
  ['config', u32], // OFPTC_* bits
  ['max_entries', u32],
  ['properties', list(tableFeaturePropRegistry)],
]);
export type TableFeatures = ValueOf<typeof tableFeatures>;
