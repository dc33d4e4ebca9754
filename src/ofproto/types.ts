// src/ofproto/types.ts — the inputs the pipeline model takes: the codec's decoded messages
// (proto/openflow/messages.ts) without their header, so src/vswitchd passes them as they
// come. Outputs (stats, FLOW_REMOVED, PACKET_IN) are data in the same shapes.
import type { MessageOf } from '../../proto/openflow/messages.js';
import type { MultipartRequest } from '../../proto/openflow/multipart.js';
import type { OxmEntry } from '../../proto/openflow/oxm.js';

/** ofp_flow_removed_reason. */
export const OFPRR = { IDLE_TIMEOUT: 0, HARD_TIMEOUT: 1, DELETE: 2, GROUP_DELETE: 3, METER_DELETE: 4 } as const;
/** ofp_packet_in_reason. */
export const OFPR = { NO_MATCH: 0, ACTION: 1, INVALID_TTL: 2 } as const;
/** ofp_port_reason. */
export const OFPPR = { ADD: 0, DELETE: 1, MODIFY: 2 } as const;

/** OFPT_FLOW_MOD (§7.3.4.1), as the codec decodes it. */
export type FlowModInput = Omit<MessageOf<'FLOW_MOD'>, 'type' | 'xid'>;
export type FlowModCommand = FlowModInput['command'];

/** OFPT_GROUP_MOD (§7.3.4.2). */
export type GroupModInput = Omit<MessageOf<'GROUP_MOD'>, 'type' | 'xid'>;
export type BucketInput = GroupModInput['buckets'][number];
export type GroupType = GroupModInput['group_type'];

/** OFPT_METER_MOD (§7.3.4.5). */
export type MeterModInput = Omit<MessageOf<'METER_MOD'>, 'type' | 'xid'>;

/** OFPT_PORT_MOD (§7.3.4.3). */
export type PortModInput = Omit<MessageOf<'PORT_MOD'>, 'type' | 'xid'>;

/** OFPT_PACKET_OUT (§7.3.7). */
export type PacketOutInput = Omit<MessageOf<'PACKET_OUT'>, 'type' | 'xid'>;

/** ofp_flow_stats_request / ofp_aggregate_stats_request filters. */
export type FlowStatsRequestInput = Omit<Extract<MultipartRequest, { type: 'FLOW' }>, 'type' | 'flags'>;

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
