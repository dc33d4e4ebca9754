// proto/openflow/oxm.ts — OXM match fields (OpenFlow 1.3 §7.2.3.7) and the Nicira NXM
// fields OVS sends in OF1.3 (registers, conntrack), one row each: class, field, width,
// maskability, value bits and prerequisites. ofp_match and set_field read these rows.
import { OfpError, ONF_EXPERIMENTER, type OfpErrorName } from './errors.js';
import { EncodeError, formatMac, isMac, type Codec, type Reader, type Writer } from './struct.js';

export const OFPXMC_OPENFLOW_BASIC = 0x8000;
export const OFPXMC_NXM_0 = 0x0000;
export const OFPXMC_NXM_1 = 0x0001;
export const OFPXMC_EXPERIMENTER = 0xffff;

/** How a field's bytes read: an unsigned number (bigint past 4 bytes), MAC, IPv4 or IPv6 text. */
export type OxmKind = 'uint' | 'mac' | 'ipv4' | 'ipv6';
export type OxmValue = number | bigint | string;

export interface OxmPrereq {
  /** An OxmName; checked against the table when this module loads. */
  readonly field: string;
  /** Any of these exact values satisfies it. */
  readonly values?: readonly number[];
  /** These bits set satisfy it (VLAN_PCP needs OFPVID_PRESENT). */
  readonly bits?: number;
  /**
   * NXM_NX_CT_STATE must say the packet has a connection (OVS's is_ct_valid): one of
   * +new +est +rel +rpl +snat +dnat, or +trk with -inv.
   */
  readonly ctValid?: true;
}

export interface OxmRow {
  readonly oxmClass: number;
  readonly field: number;
  /** Value width in bytes (mask the same). */
  readonly width: number;
  readonly kind: OxmKind;
  readonly maskable: boolean;
  /** Meaningful low bits, when fewer than width*8; higher bits are OFPBMC_BAD_VALUE. */
  readonly bits?: number;
  readonly prereq?: readonly OxmPrereq[];
  /** For class OFPXMC_EXPERIMENTER: the experimenter id that follows the header. */
  readonly experimenter?: number;
}

const IP = { field: 'ETH_TYPE', values: [0x0800, 0x86dd] } as const;
const IPV4 = { field: 'ETH_TYPE', values: [0x0800] } as const;
const IPV6 = { field: 'ETH_TYPE', values: [0x86dd] } as const;
const ARP = { field: 'ETH_TYPE', values: [0x0806] } as const;
const MPLS = { field: 'ETH_TYPE', values: [0x8847, 0x8848] } as const;
const CT = { field: 'NXM_NX_CT_STATE', ctValid: true } as const;
const proto = (n: number) => [{ field: 'IP_PROTO', values: [n] }] as const;

const b = (field: number, width: number, kind: OxmKind, maskable: boolean, more: Partial<OxmRow> = {}): OxmRow => ({
  oxmClass: OFPXMC_OPENFLOW_BASIC,
  field,
  width,
  kind,
  maskable,
  ...more,
});
const nx = (field: number, width: number, maskable: boolean, more: Partial<OxmRow> = {}): OxmRow => ({
  oxmClass: OFPXMC_NXM_1,
  field,
  width,
  kind: 'uint',
  maskable,
  ...more,
});

export const oxmFields = {
  IN_PORT: b(0, 4, 'uint', false),
  IN_PHY_PORT: b(1, 4, 'uint', false, { prereq: [{ field: 'IN_PORT' }] }),
  METADATA: b(2, 8, 'uint', true),
  ETH_DST: b(3, 6, 'mac', true),
  ETH_SRC: b(4, 6, 'mac', true),
  ETH_TYPE: b(5, 2, 'uint', false),
  VLAN_VID: b(6, 2, 'uint', true, { bits: 13 }), // 12-bit VID | OFPVID_PRESENT (0x1000)
  VLAN_PCP: b(7, 1, 'uint', false, { bits: 3, prereq: [{ field: 'VLAN_VID', bits: 0x1000 }] }),
  IP_DSCP: b(8, 1, 'uint', false, { bits: 6, prereq: [IP] }),
  IP_ECN: b(9, 1, 'uint', false, { bits: 2, prereq: [IP] }),
  IP_PROTO: b(10, 1, 'uint', false, { prereq: [IP] }),
  IPV4_SRC: b(11, 4, 'ipv4', true, { prereq: [IPV4] }),
  IPV4_DST: b(12, 4, 'ipv4', true, { prereq: [IPV4] }),
  TCP_SRC: b(13, 2, 'uint', false, { prereq: proto(6) }),
  TCP_DST: b(14, 2, 'uint', false, { prereq: proto(6) }),
  UDP_SRC: b(15, 2, 'uint', false, { prereq: proto(17) }),
  UDP_DST: b(16, 2, 'uint', false, { prereq: proto(17) }),
  SCTP_SRC: b(17, 2, 'uint', false, { prereq: proto(132) }),
  SCTP_DST: b(18, 2, 'uint', false, { prereq: proto(132) }),
  ICMPV4_TYPE: b(19, 1, 'uint', false, { prereq: proto(1) }),
  ICMPV4_CODE: b(20, 1, 'uint', false, { prereq: proto(1) }),
  ARP_OP: b(21, 2, 'uint', false, { prereq: [ARP] }),
  ARP_SPA: b(22, 4, 'ipv4', true, { prereq: [ARP] }),
  ARP_TPA: b(23, 4, 'ipv4', true, { prereq: [ARP] }),
  ARP_SHA: b(24, 6, 'mac', true, { prereq: [ARP] }),
  ARP_THA: b(25, 6, 'mac', true, { prereq: [ARP] }),
  IPV6_SRC: b(26, 16, 'ipv6', true, { prereq: [IPV6] }),
  IPV6_DST: b(27, 16, 'ipv6', true, { prereq: [IPV6] }),
  IPV6_FLABEL: b(28, 4, 'uint', true, { bits: 20, prereq: [IPV6] }),
  ICMPV6_TYPE: b(29, 1, 'uint', false, { prereq: proto(58) }),
  ICMPV6_CODE: b(30, 1, 'uint', false, { prereq: proto(58) }),
  IPV6_ND_TARGET: b(31, 16, 'ipv6', false, { prereq: [{ field: 'ICMPV6_TYPE', values: [135, 136] }] }),
  IPV6_ND_SLL: b(32, 6, 'mac', false, { prereq: [{ field: 'ICMPV6_TYPE', values: [135] }] }),
  IPV6_ND_TLL: b(33, 6, 'mac', false, { prereq: [{ field: 'ICMPV6_TYPE', values: [136] }] }),
  MPLS_LABEL: b(34, 4, 'uint', false, { bits: 20, prereq: [MPLS] }),
  MPLS_TC: b(35, 1, 'uint', false, { bits: 3, prereq: [MPLS] }),
  MPLS_BOS: b(36, 1, 'uint', false, { bits: 1, prereq: [MPLS] }),
  PBB_ISID: b(37, 3, 'uint', true, { prereq: [{ field: 'ETH_TYPE', values: [0x88e7] }] }),
  TUNNEL_ID: b(38, 8, 'uint', true),
  IPV6_EXTHDR: b(39, 2, 'uint', true, { bits: 9, prereq: [IPV6] }),
  // Nicira extensions (NXM_NX_*), as ovs-ofctl -O OpenFlow13 encodes them.
  NXM_NX_REG0: nx(0, 4, true),
  NXM_NX_REG1: nx(1, 4, true),
  NXM_NX_REG2: nx(2, 4, true),
  NXM_NX_REG3: nx(3, 4, true),
  NXM_NX_REG4: nx(4, 4, true),
  NXM_NX_REG5: nx(5, 4, true),
  NXM_NX_REG6: nx(6, 4, true),
  NXM_NX_REG7: nx(7, 4, true),
  NXM_NX_REG8: nx(8, 4, true),
  NXM_NX_REG9: nx(9, 4, true),
  NXM_NX_REG10: nx(10, 4, true),
  NXM_NX_REG11: nx(11, 4, true),
  NXM_NX_REG12: nx(12, 4, true),
  NXM_NX_REG13: nx(13, 4, true),
  NXM_NX_REG14: nx(14, 4, true),
  NXM_NX_REG15: nx(15, 4, true),
  NXM_NX_TUN_ID: nx(16, 8, true),
  NXM_NX_TUN_IPV4_SRC: nx(31, 4, true, { kind: 'ipv4' }),
  NXM_NX_TUN_IPV4_DST: nx(32, 4, true, { kind: 'ipv4' }),
  NXM_NX_IP_FRAG: nx(26, 1, true, { bits: 2, prereq: [IP] }), // 1: fragment, 2: later fragment
  NXM_NX_IP_TTL: nx(29, 1, false, { prereq: [IP] }),
  NXM_NX_PKT_MARK: nx(33, 4, true),
  NXM_NX_TCP_FLAGS: nx(34, 2, true, { bits: 12, prereq: proto(6) }),
  NXM_NX_DP_HASH: nx(35, 4, true),
  NXM_NX_RECIRC_ID: nx(36, 4, false),
  NXM_NX_CONJ_ID: nx(37, 4, false),
  NXM_NX_CT_STATE: nx(105, 4, true, { bits: 8 }), // CS_* bits: new est rel rpl inv trk snat dnat
  NXM_NX_CT_ZONE: nx(106, 2, false),
  NXM_NX_CT_MARK: nx(107, 4, true),
  NXM_NX_CT_LABEL: nx(108, 16, true),
  // The original direction's tuple of the tracked connection: only with a ct_state that
  // says there is one (OVS answers OFPBMC_BAD_PREREQ otherwise). The address family is
  // checked later, as OVS does (OFPBAC_MATCH_INCONSISTENT: src/ofproto/match.ts).
  NXM_NX_CT_NW_PROTO: nx(119, 1, false, { prereq: [CT] }),
  NXM_NX_CT_NW_SRC: nx(120, 4, true, { kind: 'ipv4', prereq: [CT] }),
  NXM_NX_CT_NW_DST: nx(121, 4, true, { kind: 'ipv4', prereq: [CT] }),
  NXM_NX_CT_IPV6_SRC: nx(122, 16, true, { kind: 'ipv6', prereq: [CT] }),
  NXM_NX_CT_IPV6_DST: nx(123, 16, true, { kind: 'ipv6', prereq: [CT] }),
  NXM_NX_CT_TP_SRC: nx(124, 2, true, { prereq: [CT] }),
  NXM_NX_CT_TP_DST: nx(125, 2, true, { prereq: [CT] }),
  // ONF experimenter OXM (8-byte header: class 0xffff, field, length, experimenter id), as OVS sends tcp_flags in OF1.3.
  ONFOXM_ET_TCP_FLAGS: { oxmClass: OFPXMC_EXPERIMENTER, experimenter: ONF_EXPERIMENTER, field: 42, width: 2, kind: 'uint', maskable: true, bits: 12, prereq: proto(6) },
} as const satisfies Record<string, OxmRow>;

export type OxmName = keyof typeof oxmFields;

/** One match entry. `mask` present means the OXM carries HM=1. */
export interface OxmEntry {
  field: OxmName;
  value: OxmValue;
  mask?: OxmValue;
}

for (const [name, row] of Object.entries(oxmFields) as [string, OxmRow][]) {
  for (const p of row.prereq ?? []) if (!(p.field in oxmFields)) throw new Error(`${name}: prerequisite ${p.field} is not a field`);
}

const byHeader = new Map<number, OxmName>();
const byExperimenter = new Map<string, OxmName>();
for (const [name, row] of Object.entries(oxmFields) as [OxmName, OxmRow][]) {
  if (row.experimenter !== undefined) byExperimenter.set(`${row.experimenter}/${row.field}`, name);
  else byHeader.set(((row.oxmClass << 16) | (row.field << 9)) >>> 0, name);
}

/**
 * The 32-bit OXM header for a field (oxm_class, oxm_field, HM, oxm_length); for an
 * experimenter field the length counts the 4-byte experimenter id that follows.
 */
export function oxmHeader(field: OxmName, hasMask = false): number {
  const row: OxmRow = oxmFields[field];
  const len = (hasMask ? row.width * 2 : row.width) + (row.experimenter !== undefined ? 4 : 0);
  return ((row.oxmClass << 16) | (row.field << 9) | (hasMask ? 0x100 : 0) | len) >>> 0;
}
/** The field an OXM header names, ignoring HM and length (experimenter fields need the id too). */
export function oxmByHeader(header: number, experimenter?: number): OxmName | undefined {
  if (header >>> 16 === OFPXMC_EXPERIMENTER) return byExperimenter.get(`${experimenter}/${(header >>> 9) & 0x7f}`);
  return byHeader.get((header & 0xfffffe00) >>> 0);
}

function readValue(r: Reader, row: OxmRow): OxmValue {
  switch (row.kind) {
    case 'mac': {
      const v = formatMac(new Uint8Array(r.view.buffer, r.view.byteOffset + r.pos, 6));
      r.pos += 6;
      return v;
    }
    case 'ipv4': {
      const v = r.u32();
      return `${v >>> 24}.${(v >>> 16) & 0xff}.${(v >>> 8) & 0xff}.${v & 0xff}`;
    }
    case 'ipv6':
      return formatIpv6(r.bytes(16));
    case 'uint':
      if (row.width <= 4) {
        let n = 0;
        for (let i = 0; i < row.width; i++) n = n * 256 + r.u8();
        return n;
      } else {
        let n = 0n;
        for (let i = 0; i < row.width; i++) n = (n << 8n) | BigInt(r.u8());
        return n;
      }
  }
}

/** 2 ** (8 * width) for widths up to 4 bytes. */
const UINT_LIMIT = [1, 0x100, 0x10000, 0x1000000, 0x100000000];

function writeValue(w: Writer, row: OxmRow, v: OxmValue, name: string): void {
  switch (row.kind) {
    case 'mac':
      if (!isMac(v)) throw new EncodeError(`${name}: bad MAC ${String(v)}`);
      return w.mac(v);
    case 'ipv4': {
      const n = typeof v === 'string' ? parseIpv4(v) : -1;
      if (n < 0) throw new EncodeError(`${name}: bad IPv4 ${String(v)}`);
      w.u32(n);
      return;
    }
    case 'ipv6':
      if (typeof v !== 'string') throw new EncodeError(`${name}: bad IPv6 ${String(v)}`);
      return w.bytes(parseIpv6(v));
    case 'uint': {
      if (row.width <= 4) {
        if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v >= UINT_LIMIT[row.width]!) throw new EncodeError(`${name}: ${String(v)} does not fit ${row.width} bytes`);
        if (row.width === 1) w.u8(v);
        else if (row.width === 2) w.u16(v);
        else if (row.width === 4) w.u32(v);
        else for (let i = row.width - 1; i >= 0; i--) w.u8(Math.floor(v / 2 ** (i * 8)) & 0xff);
        return;
      }
      const n = BigInt(v);
      if (n < 0n || n >> BigInt(row.width * 8) !== 0n) throw new EncodeError(`${name}: ${v} does not fit ${row.width} bytes`);
      if (typeof v !== 'bigint') throw new EncodeError(`${name}: expects a bigint`);
      for (let i = row.width - 1; i >= 0; i--) w.u8(Number((n >> BigInt(i * 8)) & 0xffn));
    }
  }
}

/** Dotted quad to a 32-bit number, -1 if malformed. */
export function parseIpv4(s: string): number {
  let n = 0;
  let part = -1;
  let dots = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 46) {
      if (part < 0 || ++dots > 3) return -1;
      n = n * 256 + part;
      part = -1;
    } else if (c >= 48 && c <= 57) {
      part = part < 0 ? c - 48 : part * 10 + c - 48;
      if (part > 255) return -1;
    } else return -1;
  }
  if (part < 0 || dots !== 3) return -1;
  return n * 256 + part;
}

export function formatIpv6(bytes: Uint8Array): string {
  const g: number[] = [];
  for (let i = 0; i < 16; i += 2) g.push((bytes[i]! << 8) | bytes[i + 1]!);
  // RFC 5952: compress the longest run (2+) of zero groups.
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (g[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen) [best, bestLen] = [i, j - i];
    i = j;
  }
  const hex = g.map((x) => x.toString(16));
  if (best < 0) return hex.join(':');
  return `${hex.slice(0, best).join(':')}::${hex.slice(best + bestLen).join(':')}`;
}

export function parseIpv6(s: string): Uint8Array {
  const halves = s.split('::');
  if (halves.length > 2) throw new EncodeError(`bad IPv6 ${s}`);
  const part = (x: string) => (x === '' ? [] : x.split(':').map((h) => (/^[0-9a-f]{1,4}$/i.test(h) ? parseInt(h, 16) : NaN)));
  const head = part(halves[0]!);
  const tail = halves.length === 2 ? part(halves[1]!) : [];
  const fill = halves.length === 2 ? 8 - head.length - tail.length : 0;
  const groups = [...head, ...Array<number>(Math.max(fill, 0)).fill(0), ...tail];
  if (groups.length !== 8 || groups.some(Number.isNaN) || (halves.length === 2 && fill < 1)) throw new EncodeError(`bad IPv6 ${s}`);
  const out = new Uint8Array(16);
  groups.forEach((x, i) => {
    out[i * 2] = x >> 8;
    out[i * 2 + 1] = x & 0xff;
  });
  return out;
}

function tooWide(row: OxmRow, v: OxmValue): boolean {
  if (row.bits === undefined || row.kind !== 'uint') return false;
  return BigInt(v) >> BigInt(row.bits) !== 0n;
}

/**
 * One OXM TLV. `errors` says which family reports problems: a match (OFPBMC_*) or a
 * set_field action (OFPBAC_BAD_SET_*).
 */
export function readOxm(r: Reader, errors: OxmErrors, allowMask: boolean): OxmEntry {
  r.need(4, 'oxm header');
  const header = r.u32();
  const oxmClass = header >>> 16;
  const hasMask = (header & 0x100) !== 0;
  let len = header & 0xff;
  let experimenter: number | undefined;
  if (oxmClass === OFPXMC_EXPERIMENTER) {
    if (len < 4 || r.pos + 4 > r.end) throw new OfpError(errors.badLen, { field: 'oxm experimenter', why: `oxm_length ${len}` });
    experimenter = r.u32();
    len -= 4;
  }
  const name = oxmByHeader(header, experimenter);
  if (name === undefined) {
    const what = experimenter !== undefined ? `experimenter 0x${experimenter.toString(16)} field ${(header >> 9) & 0x7f}` : `class 0x${oxmClass.toString(16)} field ${(header >> 9) & 0x7f}`;
    throw new OfpError(errors.badField, { field: 'oxm_field', why: what });
  }
  const row: OxmRow = oxmFields[name];
  if (len !== (hasMask ? 2 : 1) * row.width) throw new OfpError(errors.badLen, { field: name, why: `oxm_length ${len}` });
  if (r.pos + len > r.end) throw new OfpError(errors.badLen, { field: name, why: 'past the end of the match' });
  if (hasMask && !allowMask) throw new OfpError(errors.badMask, { field: name });
  const valueAt = r.pos;
  const value = readValue(r, row);
  if (!hasMask) {
    if (tooWide(row, value)) throw new OfpError(errors.badValue, { field: name, why: `${value}` });
    return { field: name, value };
  }
  // As OVS: a value bit outside the mask is BAD_WILDCARDS; a field that takes no mask
  // accepts only the all-ones one; mask bits past the field's width are tolerated.
  const bytes = new Uint8Array(r.view.buffer, r.view.byteOffset + valueAt, row.width * 2);
  let full = true;
  for (let i = 0; i < row.width; i++) {
    if (bytes[i]! & ~bytes[row.width + i]!) throw new OfpError(errors.badWildcards, { field: name, why: 'value has bits outside the mask' });
    if (bytes[row.width + i] !== 0xff) full = false;
  }
  if (!row.maskable && !full) throw new OfpError(errors.badMask, { field: name, why: 'field takes no mask' });
  if (tooWide(row, value)) throw new OfpError(errors.badValue, { field: name, why: `${value}` });
  const mask = readValue(r, row);
  return { field: name, value, mask };
}

export function writeOxm(w: Writer, e: OxmEntry): void {
  const row: OxmRow | undefined = oxmFields[e.field];
  if (!row) throw new EncodeError(`unknown OXM field ${e.field}`);
  w.u32(oxmHeader(e.field, e.mask !== undefined));
  if (row.experimenter !== undefined) w.u32(row.experimenter);
  writeValue(w, row, e.value, e.field);
  if (e.mask !== undefined) writeValue(w, row, e.mask, e.field);
}

export interface OxmErrors {
  badField: OfpErrorName;
  badLen: OfpErrorName;
  badMask: OfpErrorName;
  badValue: OfpErrorName;
  badWildcards: OfpErrorName;
}
const matchErrors: OxmErrors = {
  badField: 'OFPBMC_BAD_FIELD',
  badLen: 'OFPBMC_BAD_LEN',
  badMask: 'OFPBMC_BAD_MASK',
  badValue: 'OFPBMC_BAD_VALUE',
  badWildcards: 'OFPBMC_BAD_WILDCARDS',
};

/** Checks a match's prerequisites (spec §7.2.3.6): each must be matched exactly, earlier or later. */
export function checkPrereqs(match: readonly OxmEntry[]): OfpError | undefined {
  // Matches are short: scanning beats building a map for each one.
  const find = (f: string) => {
    for (const e of match) if (e.field === f) return e;
    return undefined;
  };
  for (let i = 0; i < match.length; i++) {
    const e = match[i]!;
    for (let j = 0; j < i; j++) if (match[j]!.field === e.field) return new OfpError('OFPBMC_DUP_FIELD', { field: e.field });
  }
  for (const e of match) {
    const row: OxmRow = oxmFields[e.field];
    if (!row.prereq) continue;
    for (const p of row.prereq) {
      const have = find(p.field);
      if (p.ctValid) {
        if (!ctValid(have)) return new OfpError('OFPBMC_BAD_PREREQ', { field: e.field, why: 'needs a ct_state with a connection (+new, +est, +rel, +rpl, +snat, +dnat or +trk-inv)' });
        continue;
      }
      if (!have) return new OfpError('OFPBMC_BAD_PREREQ', { field: e.field, why: `needs ${p.field}` });
      if (p.bits !== undefined) {
        const v = Number(have.value) & Number(have.mask ?? 0xffff);
        if ((v & p.bits) !== p.bits) return new OfpError('OFPBMC_BAD_PREREQ', { field: e.field, why: `needs ${p.field} present` });
      } else if (p.values && ((have.mask !== undefined && !isAllOnes(have.mask, oxmFields[have.field as OxmName])) || !p.values.includes(Number(have.value)))) {
        return new OfpError('OFPBMC_BAD_PREREQ', { field: e.field, why: `needs ${p.field} in ${p.values.join(',')}` });
      }
    }
  }
  return undefined;
}

/** OVS's is_ct_valid on a ct_state match: a connection state bit set, or +trk with -inv. */
function ctValid(e: OxmEntry | undefined): boolean {
  if (!e) return false;
  const v = Number(e.value);
  const m = e.mask === undefined ? 0xffffffff : Number(e.mask);
  const set = v & m;
  return (set & 0xcf) !== 0 || ((set & 0x20) !== 0 && (m & 0x10) !== 0 && (set & 0x10) === 0);
}

function isAllOnes(mask: OxmValue, row: OxmRow): boolean {
  return row.kind === 'uint' && BigInt(mask) === (1n << BigInt(row.width * 8)) - 1n;
}

export const OFPMT_OXM = 1;

/**
 * ofp_match (spec size 8 with no fields): type OFPMT_OXM, length (padding excluded),
 * OXM TLVs, zero padding to 8. Decoding checks lengths, masks, duplicates and prerequisites.
 */
export const match: Codec<OxmEntry[]> & { name: string; fixedSize: number } = {
  meta: { kind: 'custom', name: 'match' },
  name: 'ofp_match',
  size: undefined,
  fixedSize: 8,
  read(r) {
    const start = r.pos;
    const saved = r.lenError;
    r.lenError = 'OFPBMC_BAD_LEN';
    r.need(4, 'ofp_match');
    const type = r.u16();
    const length = r.u16();
    // As OVS: an OFPMT_STANDARD match is judged by its fixed 88-byte length first.
    if (type === 0 && length !== 88) throw new OfpError('OFPBMC_BAD_LEN', { field: 'ofp_match.length', why: `${length} for OFPMT_STANDARD` });
    if (type !== OFPMT_OXM) throw new OfpError('OFPBMC_BAD_TYPE', { field: 'ofp_match.type', why: `${type}` });
    const padded = start + ((length + 7) & ~7);
    if (length < 4 || padded > r.end) throw new OfpError('OFPBMC_BAD_LEN', { field: 'ofp_match.length', why: `${length}` });
    const entries = r.within(length - 4, 'ofp_match.oxm_fields', 'OFPBMC_BAD_LEN', () => {
      const out: OxmEntry[] = [];
      while (r.pos < r.end) out.push(readOxm(r, matchErrors, true));
      return out;
    });
    const bad = checkPrereqs(entries);
    if (bad) throw bad;
    r.pos = padded;
    r.lenError = saved;
    return entries;
  },
  write(w, v) {
    const start = w.pos;
    w.u16(OFPMT_OXM);
    w.u16(0);
    for (const e of v) writeOxm(w, e);
    const length = w.pos - start;
    w.patch16(start + 2, length);
    w.zeros(((length + 7) & ~7) - length);
  },
};

const setFieldErrors: OxmErrors = {
  badField: 'OFPBAC_BAD_SET_TYPE',
  badLen: 'OFPBAC_BAD_SET_LEN',
  badMask: 'OFPBAC_BAD_SET_ARGUMENT',
  badValue: 'OFPBAC_BAD_SET_ARGUMENT',
  badWildcards: 'OFPBMC_BAD_WILDCARDS',
};

/** The OXM inside ofp_action_set_field: one unmasked field, then zero padding to the action's end. */
export const setFieldOxm: Codec<OxmEntry> = {
  meta: { kind: 'custom', name: 'setFieldOxm' },
  size: undefined,
  read(r) {
    const e = readOxm(r, setFieldErrors, false);
    // Spec §7.2.5: OXM_OF_IN_PORT may not be set with set_field.
    if (e.field === 'IN_PORT') throw new OfpError('OFPBAC_BAD_SET_ARGUMENT', { field: 'ofp_action_set_field', why: 'IN_PORT' });
    while (r.pos < r.end) if (r.u8() !== 0) throw new OfpError('OFPBAC_BAD_SET_ARGUMENT', { field: 'ofp_action_set_field.pad' });
    return e;
  },
  write(w, v) {
    const start = w.pos - 4; // the action header precedes
    writeOxm(w, v);
    const len = w.pos - start;
    w.zeros(((len + 7) & ~7) - len);
  },
};

/** A list of 32-bit OXM headers (table-feature OXM properties), kept as numbers. */
export const oxmIds: Codec<number[]> = {
  meta: { kind: 'custom', name: 'oxmIds' },
  size: undefined,
  read(r, field) {
    const out: number[] = [];
    while (r.pos < r.end) {
      r.need(4, field);
      out.push(r.u32());
    }
    return out;
  },
  write(w, v) {
    for (const h of v) w.u32(h);
  },
};
