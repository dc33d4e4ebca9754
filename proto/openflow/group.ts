// proto/openflow/group.ts — group buckets (§7.3.4.2) and the group multipart bodies.
import { actions } from './actions.js';
import { array, lenSelf, pad, struct, u16, u32, u64, u8, type ValueOf } from './struct.js';

export const bucket = struct('ofp_bucket', 16, [
  lenSelf(u16), // bytes in this bucket, actions included
  ['weight', u16], // select groups only
  ['watch_port', u32], // fast failover only
  ['watch_group', u32],
  pad(4),
  ['actions', actions],
]);
export type Bucket = ValueOf<typeof bucket>;
export const buckets = array(bucket);

export const bucketCounter = struct('ofp_bucket_counter', 16, [['packet_count', u64], ['byte_count', u64]]);

export const groupStats = struct('ofp_group_stats', 40, [
  lenSelf(u16),
  pad(2),
  ['group_id', u32],
  ['ref_count', u32],
  pad(4),
  ['packet_count', u64],
  ['byte_count', u64],
  ['duration_sec', u32],
  ['duration_nsec', u32],
  ['bucket_stats', array(bucketCounter)],
]);
export type GroupStats = ValueOf<typeof groupStats>;

export const groupDesc = struct('ofp_group_desc', 8, [lenSelf(u16), ['group_type', u8], pad(1), ['group_id', u32], ['buckets', buckets]]);
export type GroupDesc = ValueOf<typeof groupDesc>;

export const groupFeatures = struct('ofp_group_features', 40, [
  ['types', u32], // bitmap of 1 << OFPGT_*
  ['capabilities', u32], // OFPGFC_* bits
  ['max_groups_all', u32],
  ['max_groups_select', u32],
  ['max_groups_indirect', u32],
  ['max_groups_ff', u32],
  ['actions_all', u32], // bitmap of 1 << OFPAT_*
  ['actions_select', u32],
  ['actions_indirect', u32],
  ['actions_ff', u32],
]);
export type GroupFeatures = ValueOf<typeof groupFeatures>;
