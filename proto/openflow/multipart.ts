// proto/openflow/multipart.ts — OFPT_MULTIPART_REQUEST/REPLY bodies (§7.3.5), a row per
// OFPMP_* type and direction. Each body starts with the multipart type and flags; an
// unknown type is OFPBRC_BAD_MULTIPART.
import { groupDesc, groupFeatures, groupStats } from './group.js';
import { instructions } from './instructions.js';
import { meterConfig, meterFeatures, meterStats } from './meter.js';
import { match } from './oxm.js';
import { port } from './port.js';
import { array, hdr, lenSelf, pad, registry, str, struct, u16, u32, u64, u8, type RegistryValue, type ValueOf } from './struct.js';
import { tableFeatures } from './table-features.js';

/** type u16 (filled in by the registry), flags u16 (OFPMPF_REQ_MORE / REPLY_MORE), pad. */
const MP = [hdr(2), ['flags', u16], pad(4)] as const;

const layout = {
  tagAt: 0,
  tagWidth: 2,
  expTag: 0xffff,
  expAt: 8,
  subAt: 12,
  badType: 'OFPBRC_BAD_MULTIPART',
  badLen: 'OFPBRC_BAD_LEN',
  badExperimenter: 'OFPBRC_BAD_EXPERIMENTER',
  badExpType: 'OFPBRC_BAD_EXP_TYPE',
} as const;

const flowStatsRequest = (name: string) =>
  struct(name, 40, [
    ...MP,
    ['table_id', u8], // OFPTT_ALL for all tables
    pad(3),
    ['out_port', u32], // OFPP_ANY: no filter
    ['out_group', u32], // OFPG_ANY: no filter
    pad(4),
    ['cookie', u64],
    ['cookie_mask', u64], // 0: no cookie filter
    ['match', match],
  ]);
const empty = struct('ofp_multipart_request', 8, [...MP]);

export const flowStats = struct('ofp_flow_stats', 48, [
  lenSelf(u16),
  ['table_id', u8],
  pad(1),
  ['duration_sec', u32],
  ['duration_nsec', u32],
  ['priority', u16],
  ['idle_timeout', u16], // seconds
  ['hard_timeout', u16], // seconds
  ['flags', u16], // OFPFF_*
  pad(4),
  ['cookie', u64],
  ['packet_count', u64],
  ['byte_count', u64],
  ['match', match],
  ['instructions', instructions],
]);
export type FlowStats = ValueOf<typeof flowStats>;

export const tableStats = struct('ofp_table_stats', 24, [['table_id', u8], pad(3), ['active_count', u32], ['lookup_count', u64], ['matched_count', u64]]);
export type TableStats = ValueOf<typeof tableStats>;

export const portStats = struct('ofp_port_stats', 112, [
  ['port_no', u32],
  pad(4),
  ['rx_packets', u64],
  ['tx_packets', u64],
  ['rx_bytes', u64],
  ['tx_bytes', u64],
  ['rx_dropped', u64],
  ['tx_dropped', u64],
  ['rx_errors', u64],
  ['tx_errors', u64],
  ['rx_frame_err', u64],
  ['rx_over_err', u64],
  ['rx_crc_err', u64],
  ['collisions', u64],
  ['duration_sec', u32],
  ['duration_nsec', u32],
]);
export type PortStats = ValueOf<typeof portStats>;

export const queueStats = struct('ofp_queue_stats', 40, [
  ['port_no', u32],
  ['queue_id', u32],
  ['tx_bytes', u64],
  ['tx_packets', u64],
  ['tx_errors', u64],
  ['duration_sec', u32],
  ['duration_nsec', u32],
]);
export type QueueStats = ValueOf<typeof queueStats>;

const DESC_STR_LEN = 256;
const SERIAL_NUM_LEN = 32;

export const multipartRequestRegistry = registry(
  { ...layout, what: 'multipart request' },
  {
    DESC: { tag: 0, body: empty },
    FLOW: { tag: 1, body: flowStatsRequest('ofp_flow_stats_request') },
    AGGREGATE: { tag: 2, body: flowStatsRequest('ofp_aggregate_stats_request') },
    TABLE: { tag: 3, body: empty },
    PORT_STATS: { tag: 4, body: struct('ofp_port_stats_request', 16, [...MP, ['port_no', u32], pad(4)]) },
    QUEUE: { tag: 5, body: struct('ofp_queue_stats_request', 16, [...MP, ['port_no', u32], ['queue_id', u32]]) },
    GROUP: { tag: 6, body: struct('ofp_group_stats_request', 16, [...MP, ['group_id', u32], pad(4)]) },
    GROUP_DESC: { tag: 7, body: empty },
    GROUP_FEATURES: { tag: 8, body: empty },
    METER: { tag: 9, body: struct('ofp_meter_multipart_request', 16, [...MP, ['meter_id', u32], pad(4)]) },
    METER_CONFIG: { tag: 10, body: struct('ofp_meter_multipart_request', 16, [...MP, ['meter_id', u32], pad(4)]) },
    METER_FEATURES: { tag: 11, body: empty },
    // Empty: a query. Non-empty: the controller sets the tables' features.
    TABLE_FEATURES: { tag: 12, body: struct('ofp_multipart_request', 8, [...MP, ['tables', array(tableFeatures)]]) },
    PORT_DESC: { tag: 13, body: empty },
  },
);
export type MultipartRequest = RegistryValue<typeof multipartRequestRegistry>;

export const multipartReplyRegistry = registry(
  { ...layout, what: 'multipart reply' },
  {
    DESC: {
      tag: 0,
      body: struct('ofp_desc', 8 + 1056, [
        ...MP,
        ['mfr_desc', str(DESC_STR_LEN)],
        ['hw_desc', str(DESC_STR_LEN)],
        ['sw_desc', str(DESC_STR_LEN)],
        ['serial_num', str(SERIAL_NUM_LEN)],
        ['dp_desc', str(DESC_STR_LEN)],
      ]),
    },
    FLOW: { tag: 1, body: struct('ofp_multipart_reply', 8, [...MP, ['flows', array(flowStats)]]) },
    AGGREGATE: {
      tag: 2,
      body: struct('ofp_aggregate_stats_reply', 8 + 24, [...MP, ['packet_count', u64], ['byte_count', u64], ['flow_count', u32], pad(4)]),
    },
    TABLE: { tag: 3, body: struct('ofp_multipart_reply', 8, [...MP, ['tables', array(tableStats)]]) },
    PORT_STATS: { tag: 4, body: struct('ofp_multipart_reply', 8, [...MP, ['ports', array(portStats)]]) },
    QUEUE: { tag: 5, body: struct('ofp_multipart_reply', 8, [...MP, ['queues', array(queueStats)]]) },
    GROUP: { tag: 6, body: struct('ofp_multipart_reply', 8, [...MP, ['groups', array(groupStats)]]) },
    GROUP_DESC: { tag: 7, body: struct('ofp_multipart_reply', 8, [...MP, ['groups', array(groupDesc)]]) },
    GROUP_FEATURES: { tag: 8, body: struct('ofp_group_features_reply', 8 + 40, [...MP, ['features', groupFeatures]]) },
    METER: { tag: 9, body: struct('ofp_multipart_reply', 8, [...MP, ['meters', array(meterStats)]]) },
    METER_CONFIG: { tag: 10, body: struct('ofp_multipart_reply', 8, [...MP, ['meters', array(meterConfig)]]) },
    METER_FEATURES: { tag: 11, body: struct('ofp_meter_features_reply', 8 + 16, [...MP, ['features', meterFeatures]]) },
    TABLE_FEATURES: { tag: 12, body: struct('ofp_multipart_reply', 8, [...MP, ['tables', array(tableFeatures)]]) },
    PORT_DESC: { tag: 13, body: struct('ofp_multipart_reply', 8, [...MP, ['ports', array(port)]]) },
  },
);
export type MultipartReply = RegistryValue<typeof multipartReplyRegistry>;
