// proto/openflow/meter.ts — meter bands (§7.3.4.5), ofp_meter_mod's body parts and the
// meter multipart bodies. An experimenter band is OFPMMFC_BAD_BAND.
import { array, hdr, lenSelf, list, pad, registry, struct, u16, u32, u64, u8, type RegistryValue, type ValueOf } from './struct.js';

const H = hdr(4);

export const meterBandRegistry = registry(
  { what: 'meter band', tagAt: 0, tagWidth: 2, lenAt: 2, badType: 'OFPMMFC_BAD_BAND', badLen: 'OFPMMFC_BAD_BAND' },
  {
    DROP: {
      tag: 1,
      body: struct('ofp_meter_band_drop', 16, [
        H,
        ['rate', u32], // kb/s or pkt/s, per the meter's flags
        ['burst_size', u32], // same unit as rate
        pad(4),
      ]),
    },
    DSCP_REMARK: {
      tag: 2,
      body: struct('ofp_meter_band_dscp_remark', 16, [H, ['rate', u32], ['burst_size', u32], ['prec_level', u8], pad(3)]),
    },
  },
);
export type MeterBand = RegistryValue<typeof meterBandRegistry>;
export const meterBands = list(meterBandRegistry);

export const meterBandStats = struct('ofp_meter_band_stats', 16, [['packet_band_count', u64], ['byte_band_count', u64]]);

export const meterStats = struct('ofp_meter_stats', 40, [
  ['meter_id', u32],
  lenSelf(u16),
  pad(6),
  ['flow_count', u32],
  ['packet_in_count', u64],
  ['byte_in_count', u64],
  ['duration_sec', u32],
  ['duration_nsec', u32],
  ['band_stats', array(meterBandStats)],
]);
export type MeterStats = ValueOf<typeof meterStats>;

export const meterConfig = struct('ofp_meter_config', 8, [lenSelf(u16), ['flags', u16], ['meter_id', u32], ['bands', meterBands]]);
export type MeterConfig = ValueOf<typeof meterConfig>;

export const meterFeatures = struct('ofp_meter_features', 16, [
  ['max_meter', u32],
  ['band_types', u32], // bitmap of 1 << OFPMBT_*
  ['capabilities', u32], // OFPMF_* bits
  ['max_bands', u8],
  ['max_color', u8],
  pad(2),
]);
export type MeterFeatures = ValueOf<typeof meterFeatures>;
