// src/ofproto/meter.ts — the meter table (§5.7): drop and dscp_remark bands, kb/s or
// packet/s, burst; token buckets advanced by the caller's clock; meter stats.
import { OFPM, OFPMF } from '../../proto/openflow/constants.js';
import { OfpError } from '../../proto/openflow/errors.js';
import type { MeterBand, MeterConfig, MeterStats } from '../../proto/openflow/meter.js';
import { removeEntries } from './flow-mod.js';
import type { ModResult } from './group.js';
import { duration, undoable, type Delta, type Pipeline } from './pipeline.js';
import { OFPRR, type MeterModInput } from './types.js';

export interface BandState {
  band: MeterBand;
  /** Tokens in bits (kb/s meters) or packets×1000 (packet/s meters). */
  tokens: number;
  capacity: number;
  packet_band_count: bigint;
  byte_band_count: bigint;
}

export interface Meter {
  meter_id: number;
  flags: number;
  bands: BandState[];
  packet_in_count: bigint;
  byte_in_count: bigint;
  installed: number;
  last: number;
}

/** ofp_meter_features.max_bands we advertise. */
export const MAX_BANDS = 8;

const KNOWN_FLAGS = OFPMF.KBPS | OFPMF.PKTPS | OFPMF.BURST | OFPMF.STATS;

/**
 * Bucket depth: the band's burst when BURST is set, else 10 ms of its rate but at least
 * ten full-size frames (or packets), so that frame-sized quanta do not eat the rate.
 */
function capacity(flags: number, b: MeterBand): number {
  const pkt = (flags & OFPMF.PKTPS) !== 0;
  if (flags & OFPMF.BURST && b.burst_size > 0) return pkt ? b.burst_size * 1000 : b.burst_size * 1000;
  return pkt ? Math.max(b.rate * 10, 10 * 1000) : Math.max(b.rate * 10, 10 * 1518 * 8);
}

function bands(flags: number, bs: readonly MeterBand[]): BandState[] {
  return bs.map((band) => {
    const cap = capacity(flags, band);
    return { band, tokens: cap, capacity: cap, packet_band_count: 0n, byte_band_count: 0n };
  });
}

function check(mod: MeterModInput): OfpError | undefined {
  if (mod.meter_id === 0 || (mod.meter_id > OFPM.MAX && mod.meter_id !== OFPM.SLOWPATH && mod.meter_id !== OFPM.CONTROLLER)) return new OfpError('OFPMMFC_INVALID_METER', { why: `meter ${mod.meter_id}` });
  if (mod.flags & ~KNOWN_FLAGS || (mod.flags & OFPMF.KBPS && mod.flags & OFPMF.PKTPS)) return new OfpError('OFPMMFC_BAD_FLAGS', { why: `flags 0x${mod.flags.toString(16)}` });
  // A meter with no band meters nothing; OVS refuses it the same way.
  if (mod.bands.length === 0 || mod.bands.length > MAX_BANDS) return new OfpError('OFPMMFC_OUT_OF_BANDS', { why: `${mod.bands.length} bands` });
  for (const b of mod.bands) {
    if (b.rate === 0) return new OfpError('OFPMMFC_BAD_RATE');
    if (b.type === 'DSCP_REMARK' && b.prec_level > 63) return new OfpError('OFPMMFC_BAD_BAND_VALUE', { why: `prec_level ${b.prec_level}` });
  }
  return undefined;
}

/** OFPT_METER_MOD. */
export function applyMeterMod(p: Pipeline, mod: MeterModInput, now: number): ModResult {
  const fail = (error: OfpError): ModResult => ({ error, deltas: [], removed: [] });
  switch (mod.command) {
    case 'ADD': {
      const bad = check(mod);
      if (bad) return fail(bad);
      if (p.meters.has(mod.meter_id)) return fail(new OfpError('OFPMMFC_METER_EXISTS', { why: `meter ${mod.meter_id}` }));
      const m: Meter = { meter_id: mod.meter_id, flags: mod.flags, bands: bands(mod.flags, mod.bands), packet_in_count: 0n, byte_in_count: 0n, installed: now, last: now };
      p.meters.set(m.meter_id, m);
      undoable(p, () => p.meters.delete(m.meter_id));
      return { deltas: [{ kind: 'meter-add', meter: m }], removed: [] };
    }
    case 'MODIFY': {
      const bad = check(mod);
      if (bad) return fail(bad);
      const m = p.meters.get(mod.meter_id);
      if (!m) return fail(new OfpError('OFPMMFC_UNKNOWN_METER', { why: `meter ${mod.meter_id}` }));
      const was = { flags: m.flags, bands: m.bands };
      undoable(p, () => Object.assign(m, was));
      m.flags = mod.flags;
      m.bands = bands(mod.flags, mod.bands);
      return { deltas: [{ kind: 'meter-modify', meter: m }], removed: [] };
    }
    case 'DELETE': {
      const ids = mod.meter_id === OFPM.ALL ? [...p.meters.keys()] : p.meters.has(mod.meter_id) ? [mod.meter_id] : [];
      const deltas: Delta[] = [];
      const removed = [];
      for (const id of ids) {
        const r = removeEntries(p, (e) => e.instructions.some((i) => i.type === 'METER' && i.meter_id === id), OFPRR.DELETE, now);
        deltas.push(...r.deltas, { kind: 'meter-remove', meter: p.meters.get(id)! });
        removed.push(...r.removed);
        const m = p.meters.get(id)!;
        p.meters.delete(id);
        undoable(p, () => p.meters.set(id, m));
      }
      return { deltas, removed };
    }
    default:
      return fail(new OfpError('OFPMMFC_BAD_COMMAND', { why: `command ${String(mod.command)}` }));
  }
}

/**
 * Runs a packet of `bytes` through the meter at time `now` (ms): refills every band's
 * bucket, takes the packet's cost from those that can pay, and returns the band with
 * the highest rate among those exceeded (§5.7), or undefined if none is.
 */
/**
 * The band a packet of `bytes` at `now` exceeds, if any. With `commit` (the default) the
 * buckets are drawn and the counters move; without, the answer is what would happen and
 * nothing changes (ofproto/trace and other dry runs must not use up a meter's tokens).
 */
export function meterPacket(m: Meter, bytes: number, now: number, commit = true): MeterBand | undefined {
  const pkt = (m.flags & OFPMF.PKTPS) !== 0;
  const dt = Math.max(0, now - m.last);
  const cost = pkt ? 1000 : bytes * 8;
  let hit: BandState | undefined;
  for (const s of m.bands) {
    // kb/s: rate bits per ms; packet/s: rate packets×1000 per s = rate per ms.
    const tokens = Math.min(s.capacity, s.tokens + s.band.rate * dt);
    const enough = tokens >= cost;
    if (commit) s.tokens = enough ? tokens - cost : tokens;
    if (!enough && (!hit || s.band.rate > hit.band.rate)) hit = s;
  }
  if (!commit) return hit?.band;
  m.last = Math.max(m.last, now);
  m.packet_in_count++;
  m.byte_in_count += BigInt(bytes);
  if (!hit) return undefined;
  hit.packet_band_count++;
  hit.byte_band_count += BigInt(bytes);
  return hit.band;
}

function flowCount(p: Pipeline, id: number): number {
  let n = 0;
  for (const t of p.tables) for (const e of t.entries) if (e.instructions.some((i) => i.type === 'METER' && i.meter_id === id)) n++;
  return n;
}

const selected = (p: Pipeline, meter_id: number) => [...p.meters.values()].filter((m) => meter_id === OFPM.ALL || m.meter_id === meter_id).sort((a, b) => a.meter_id - b.meter_id);

export function meterConfig(p: Pipeline, meter_id: number): MeterConfig[] {
  return selected(p, meter_id).map((m) => ({ flags: m.flags, meter_id: m.meter_id, bands: m.bands.map((s) => s.band) }));
}

export function meterStats(p: Pipeline, meter_id: number, now: number): MeterStats[] {
  return selected(p, meter_id).map((m) => ({
    meter_id: m.meter_id,
    flow_count: flowCount(p, m.meter_id),
    packet_in_count: m.packet_in_count,
    byte_in_count: m.byte_in_count,
    ...duration(m.installed, now),
    band_stats: m.bands.map((s) => ({ packet_band_count: s.packet_band_count, byte_band_count: s.byte_band_count })),
  }));
}
