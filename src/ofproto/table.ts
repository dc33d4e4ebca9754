// src/ofproto/table.ts — what the tables say about themselves: OFPMP_TABLE_FEATURES
// (derived from the action, instruction and OXM rows the model implements), TABLE_MOD,
// and the queue requests of a switch without queues.
import { actionRegistry } from '../../proto/openflow/actions.js';
import { OFPQ_ALL, OFPTT } from '../../proto/openflow/constants.js';
import { OfpError } from '../../proto/openflow/errors.js';
import { instructionRegistry } from '../../proto/openflow/instructions.js';
import type { QueueStats } from '../../proto/openflow/multipart.js';
import { oxmFields, oxmHeader, OFPXMC_OPENFLOW_BASIC, type OxmName } from '../../proto/openflow/oxm.js';
import type { TableFeatureProp, TableFeatures } from '../../proto/openflow/table-features.js';
import { SETTABLE_FIELDS, SUPPORTED_ACTIONS } from './actions.js';
import { N_VISIBLE_TABLES, type Pipeline } from './pipeline.js';

/** Flow entries a table accepts (OVS advertises the same). */
export const MAX_ENTRIES = 1_000_000;

const actionIds = [...SUPPORTED_ACTIONS].map((t) => actionRegistry.rows[t]!.tag).sort((a, b) => a - b);
const basic = (Object.keys(oxmFields) as OxmName[]).filter((f) => oxmFields[f].oxmClass === OFPXMC_OPENFLOW_BASIC);
const matchIds = basic.map((f) => oxmHeader(f, oxmFields[f].maskable));
const wildcardIds = basic.map((f) => oxmHeader(f));
const setfieldIds = basic.filter((f) => SETTABLE_FIELDS.has(f)).map((f) => oxmHeader(f));

function features(table_id: number): TableFeatures {
  const last = table_id === N_VISIBLE_TABLES - 1;
  const instruction_ids = Object.entries(instructionRegistry.rows)
    .filter(([name]) => !(last && name === 'GOTO_TABLE'))
    .map(([, r]) => r.tag)
    .sort((a, b) => a - b);
  const next_table_ids = Array.from({ length: N_VISIBLE_TABLES - 1 - table_id }, (_, i) => table_id + 1 + i);
  // A table-miss entry may do whatever any entry may: each _MISS property equals its twin.
  const props: TableFeatureProp[] = [
    { type: 'INSTRUCTIONS', instruction_ids },
    { type: 'NEXT_TABLES', next_table_ids },
    { type: 'WRITE_ACTIONS', action_ids: actionIds },
    { type: 'APPLY_ACTIONS', action_ids: actionIds },
    { type: 'MATCH', oxm_ids: matchIds },
    { type: 'WILDCARDS', oxm_ids: wildcardIds },
    { type: 'WRITE_SETFIELD', oxm_ids: setfieldIds },
    { type: 'APPLY_SETFIELD', oxm_ids: setfieldIds },
    { type: 'INSTRUCTIONS_MISS', instruction_ids },
    { type: 'NEXT_TABLES_MISS', next_table_ids },
    { type: 'WRITE_ACTIONS_MISS', action_ids: actionIds },
    { type: 'APPLY_ACTIONS_MISS', action_ids: actionIds },
    { type: 'WRITE_SETFIELD_MISS', oxm_ids: setfieldIds },
    { type: 'APPLY_SETFIELD_MISS', oxm_ids: setfieldIds },
  ];
  return { table_id, name: '', metadata_match: 0xffffffffffffffffn, metadata_write: 0xffffffffffffffffn, config: 0, max_entries: MAX_ENTRIES, properties: props };
}

/** OFPMP_TABLE_FEATURES with an empty body: every visible table. */
export function tableFeatures(_p: Pipeline): TableFeatures[] {
  return Array.from({ length: N_VISIBLE_TABLES }, (_, i) => features(i));
}

/** OFPMP_TABLE_FEATURES with a body asks to reconfigure the tables: not supported, as in OVS. */
export function setTableFeatures(_p: Pipeline): OfpError {
  return new OfpError('OFPTFFC_EPERM', { why: 'table features are fixed' });
}

/** OFPT_TABLE_MOD: OF1.3 deprecates every config bit (§7.3.3); only the table id is checked. */
export function applyTableMod(_p: Pipeline, mod: { table_id: number; config: number }): OfpError | undefined {
  if (mod.table_id > OFPTT.MAX && mod.table_id !== OFPTT.ALL) return new OfpError('OFPTMFC_BAD_TABLE', { why: `table ${mod.table_id}` });
  if (mod.config & ~3) return new OfpError('OFPTMFC_BAD_CONFIG', { why: `config 0x${mod.config.toString(16)}` });
  return undefined;
}

/** OFPMP_QUEUE: ports have no queues yet, so the answer is empty or names what is missing. */
export function queueStats(p: Pipeline, port_no: number, queue_id: number): QueueStats[] | OfpError {
  if (port_no !== 0xffffffff && !p.ports.has(port_no)) return new OfpError('OFPQOFC_BAD_PORT', { why: `port ${port_no}` });
  if (queue_id !== OFPQ_ALL) return new OfpError('OFPQOFC_BAD_QUEUE', { why: `queue ${queue_id}` });
  return [];
}
