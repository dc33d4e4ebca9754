// src/ofproto/match.ts — a flow's match as a normalised set of (field, value, mask)
// over the OXM rows of proto/openflow/oxm.ts: values as bigints, value & mask, exact
// masks dropped, all-zero masks wildcarded, fields in table order. The classifier
// hashes it; dump-flows turns it back into OXM entries.
import { OfpError } from '../../proto/openflow/errors.js';
import { checkPrereqs, oxmFields, parseIpv6, formatIpv6, type OxmEntry, type OxmName, type OxmRow, type OxmValue } from '../../proto/openflow/oxm.js';

export interface MatchField {
  readonly field: OxmName;
  readonly value: bigint;
  /** Full-width mask (all ones when the OXM was exact). */
  readonly mask: bigint;
}
/** Fields in oxmFields order, each once, value already masked. */
export type Match = readonly MatchField[];

/** A packet's field values; a field the packet lacks is absent and matches nothing but a wildcard. */
export type FlowKey = Partial<Record<OxmName, bigint>>;


export function rowOf(field: OxmName): OxmRow {
  return oxmFields[field];
}

const fullMasks = new Map<OxmName, bigint>((Object.keys(oxmFields) as OxmName[]).map((f) => [f, (1n << BigInt(oxmFields[f].bits ?? oxmFields[f].width * 8)) - 1n]));

/** Per field what normaliseMatch needs, in one lookup: its row, full mask and place in the order. */
const fieldInfo = new Map<string, { row: OxmRow; full: bigint; order: number }>(
  (Object.keys(oxmFields) as OxmName[]).map((f, i) => [f, { row: oxmFields[f], full: fullMasks.get(f)!, order: i }]),
);

/** All ones over the field's meaningful bits. */
export function fullMask(field: OxmName): bigint {
  return fullMasks.get(field)!;
}

const SMALL = 0x10000;
const smallBigints: bigint[] = [];

const hexDigit = (c: number): number => (c <= 57 ? c - 48 : (c | 32) - 87);

export function oxmToBigint(field: OxmName, v: OxmValue): bigint {
  return toBigint(rowOf(field), v);
}

function toBigint(row: OxmRow, v: OxmValue): bigint {
  switch (row.kind) {
    case 'mac': {
      // Two 24-bit halves as numbers, one bigint at the end.
      const s = String(v);
      let hi = 0;
      let lo = 0;
      for (let i = 0; i < 3; i++) hi = (hi << 8) | (hexDigit(s.charCodeAt(i * 3)) << 4) | hexDigit(s.charCodeAt(i * 3 + 1));
      for (let i = 3; i < 6; i++) lo = (lo << 8) | (hexDigit(s.charCodeAt(i * 3)) << 4) | hexDigit(s.charCodeAt(i * 3 + 1));
      return BigInt(hi * 0x1000000 + lo);
    }
    case 'ipv4': {
      const s = String(v);
      let n = 0;
      let part = 0;
      for (let i = 0; i < s.length; i++) {
        const c = s.charCodeAt(i);
        if (c === 46) {
          n = n * 256 + part;
          part = 0;
        } else part = part * 10 + c - 48;
      }
      return BigInt(n * 256 + part);
    }
    case 'ipv6':
      return parseIpv6(String(v)).reduce((a, p) => (a << 8n) | BigInt(p), 0n);
    case 'uint':
      // Small values (ports, ethertypes, protocols) as one shared bigint each: 100,000
      // flows hold a few distinct ones, not 100,000 copies.
      return typeof v === 'number' && v >= 0 && v < SMALL ? (smallBigints[v] ??= BigInt(v)) : BigInt(v);
  }
}

const HEX2 = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

export function bigintToOxm(field: OxmName, v: bigint): OxmValue {
  const row = rowOf(field);
  switch (row.kind) {
    case 'mac': {
      const n = Number(v);
      const hi = Math.floor(n / 0x1000000);
      const lo = n % 0x1000000;
      return `${HEX2[hi >>> 16]}:${HEX2[(hi >>> 8) & 255]}:${HEX2[hi & 255]}:${HEX2[lo >>> 16]}:${HEX2[(lo >>> 8) & 255]}:${HEX2[lo & 255]}`;
    }
    case 'ipv4': {
      const n = Number(v);
      return `${n >>> 24}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
    }
    case 'ipv6': {
      const b = new Uint8Array(16);
      for (let i = 0; i < 16; i++) b[i] = Number((v >> BigInt((15 - i) * 8)) & 0xffn);
      return formatIpv6(b);
    }
    case 'uint':
      return row.width <= 4 ? Number(v) : v;
  }
}

/**
 * Normalises an OXM match, checking duplicates and prerequisites (OFPBMC_*), and that
 * no value bit lies outside its mask (OFPBMC_BAD_WILDCARDS, as OVS reports it).
 */
export function normaliseMatch(entries: readonly OxmEntry[]): Match | OfpError {
  const bad = checkPrereqs(entries) ?? ctFamily(entries);
  if (bad) return bad;
  const out: MatchField[] = [];
  let sorted = true;
  let last = -1;
  for (const e of entries) {
    const f = fieldInfo.get(e.field);
    if (!f) return new OfpError('OFPBMC_BAD_FIELD', { field: String(e.field) });
    const value = toBigint(f.row, e.value);
    const mask = e.mask === undefined ? f.full : toBigint(f.row, e.mask) & f.full;
    if (value & ~mask) return new OfpError('OFPBMC_BAD_WILDCARDS', { field: e.field, why: 'value has bits outside the mask' });
    if (mask === 0n) continue;
    if (f.order < last) sorted = false;
    last = f.order;
    out.push({ field: e.field, value, mask });
  }
  if (!sorted) out.sort((a, b) => fieldInfo.get(a.field)!.order - fieldInfo.get(b.field)!.order);
  return out;
}

/** The eth_type a conntrack tuple address needs. */
const CT_FAMILY: Partial<Record<OxmName, number>> = { NXM_NX_CT_NW_SRC: 0x0800, NXM_NX_CT_NW_DST: 0x0800, NXM_NX_CT_IPV6_SRC: 0x86dd, NXM_NX_CT_IPV6_DST: 0x86dd };

/** OVS accepts ct_nw_src/dst and ct_ipv6_src/dst without their eth_type when decoding, then refuses the flow as inconsistent. */
function ctFamily(entries: readonly OxmEntry[]): OfpError | undefined {
  for (const e of entries) {
    const want = CT_FAMILY[e.field];
    if (want === undefined) continue;
    const t = entries.find((x) => x.field === 'ETH_TYPE');
    if (!t || Number(t.value) !== want) return new OfpError('OFPBAC_MATCH_INCONSISTENT', { field: e.field, why: `needs eth_type 0x${want.toString(16)}` });
  }
  return undefined;
}

/** Back to OXM entries, exact fields without a mask (for dump-flows and FLOW_REMOVED). */
export function matchToOxm(m: Match): OxmEntry[] {
  return m.map((f) =>
    f.mask === fullMask(f.field) ? { field: f.field, value: bigintToOxm(f.field, f.value) } : { field: f.field, value: bigintToOxm(f.field, f.value), mask: bigintToOxm(f.field, f.mask) },
  );
}

/** The mask signature: rules with equal signatures share one hash (tuple-space search). */
export function maskSignature(m: Match): string {
  return m.map((f) => `${f.field}/${f.mask.toString(16)}`).join(',');
}

/** The hash key of a rule's values under its own mask. */
export function matchKey(m: Match): string {
  return m.map((f) => f.value.toString(16)).join(',');
}

/** Does packet key `k` satisfy match `m`? */
export function matches(m: Match, k: FlowKey): boolean {
  for (const f of m) {
    const v = k[f.field];
    if (v === undefined || (v & f.mask) !== f.value) return false;
  }
  return true;
}

/** Is every packet matched by `narrow` also matched by `wide` (non-strict modify/delete)? */
export function covers(wide: Match, narrow: Match): boolean {
  let j = 0;
  for (const w of wide) {
    while (j < narrow.length && narrow[j]!.field !== w.field) j++;
    const n = narrow[j];
    if (!n) return false;
    if ((n.mask & w.mask) !== w.mask || (n.value & w.mask) !== w.value) return false;
  }
  return true;
}

/** Can one packet match both (CHECK_OVERLAP)? */
export function overlaps(a: Match, b: Match): boolean {
  const bm = new Map(b.map((f) => [f.field, f]));
  for (const f of a) {
    const g = bm.get(f.field);
    if (g && ((f.value ^ g.value) & f.mask & g.mask) !== 0n) return false;
  }
  return true;
}

export function sameMatch(a: Match, b: Match): boolean {
  return a.length === b.length && a.every((f, i) => f.field === b[i]!.field && f.mask === b[i]!.mask && f.value === b[i]!.value);
}
