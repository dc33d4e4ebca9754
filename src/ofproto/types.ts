// src/ofproto/types.ts — the inputs the pipeline model takes, in the spec's field names,
// narrowed to what it reads so that the codec's decoded messages are assignable to them.
// Outputs (stats, FLOW_REMOVED, PACKET_IN) use the proto/openflow shapes where they exist.
import type { Action } from '../../proto/openflow/actions.js';
import type { Instruction } from '../../proto/openflow/instructions.js';
import type { MeterBand } from '../../proto/openflow/meter.js';
import type { OxmEntry } from '../../proto/openflow/oxm.js';

/** ofp_flow_mod_command. */
export const OFPFC = { ADD: 0, MODIFY: 1, MODIFY_STRICT: 2, DELETE: 3, DELETE_STRICT: 4 } as const;
/** ofp_group_mod_command and ofp_group_type. */
export const OFPGC = { ADD: 0, MODIFY: 1, DELETE: 2 } as const;
export const OFPGT = { ALL: 0, SELECT: 1, INDIRECT: 2, FF: 3 } as const;
/** ofp_meter_mod_command. */
export const OFPMC = { ADD: 0, MODIFY: 1, DELETE: 2 } as const;
/** ofp_flow_removed_reason. */
export const OFPRR = { IDLE_TIMEOUT: 0, HARD_TIMEOUT: 1, DELETE: 2, GROUP_DELETE: 3, METER_DELETE: 4 } as const;
/** ofp_packet_in_reason. */
export const OFPR = { NO_MATCH: 0, ACTION: 1, INVALID_TTL: 2 } as const;
/** ofp_port_reason. */
export const OFPPR = { ADD: 0, DELETE: 1, MODIFY: 2 } as const;

/** OFPT_FLOW_MOD (§7.3.4.1). */
export interface FlowModInput {
  cookie: bigint;
  cookie_mask: bigint;
  table_id: number;
  command: number;
  idle_timeout: number;
  hard_timeout: number;
  priority: number;
  buffer_id: number;
  out_port: number;
  out_group: number;
  flags: number;
  match: readonly OxmEntry[];
  instructions: readonly Instruction[];
}

export interface BucketInput {
  weight: number;
  watch_port: number;
  watch_group: number;
  actions: readonly Action[];
}

/** OFPT_GROUP_MOD (§7.3.4.2). */
export interface GroupModInput {
  command: number;
  type: number;
  group_id: number;
  buckets: readonly BucketInput[];
}

/** OFPT_METER_MOD (§7.3.4.5). */
export interface MeterModInput {
  command: number;
  flags: number;
  meter_id: number;
  bands: readonly MeterBand[];
}

/** OFPT_PORT_MOD (§7.3.4.3). */
export interface PortModInput {
  port_no: number;
  hw_addr: string;
  config: number;
  mask: number;
  advertise: number;
}

/** ofp_flow_stats_request / ofp_aggregate_stats_request filters. */
export interface FlowStatsRequestInput {
  table_id: number;
  out_port: number;
  out_group: number;
  cookie: bigint;
  cookie_mask: bigint;
  match: readonly OxmEntry[];
}

/** OFPT_FLOW_REMOVED (§7.4.2), as data for the connection to send. */
export interface FlowRemoved {
  cookie: bigint;
  priority: number;
  reason: number;
  table_id: number;
  duration_sec: number;
  duration_nsec: number;
  idle_timeout: number;
  hard_timeout: number;
  packet_count: bigint;
  byte_count: bigint;
  match: OxmEntry[];
}
