// src/kdp/attr.ts — netlink attributes declared once as data: an attribute set is a table
// of rows (name → [nla_type, kind]) and a struct a list of typed fields with its spec
// size. Encoders, decoders and the TypeScript types of the values all derive from them;
// the OVS families are declared in ovs.ts in these terms.
import { endianness } from 'node:os';

const LE = endianness() === 'LE';

/** Netlink attribute header: nla_len u16, nla_type u16, host byte order; payloads 4-aligned. */
const NLA_HDRLEN = 4;
const NLA_F_NESTED = 0x8000;
const NLA_F_NET_BYTEORDER = 0x4000;
const NLA_TYPE_MASK = ~(NLA_F_NESTED | NLA_F_NET_BYTEORDER) & 0xffff;
const align4 = (n: number): number => (n + 3) & ~3;

// ---- struct fields ----

/** Struct field kinds: u8-u64 host order, be* network order, ipv4/mac/ipv6 as text. */
export type FieldKind = 'u8' | 'u16' | 'u32' | 'u64' | 'be16' | 'be32' | 'ipv4' | 'mac' | 'ipv6' | 'label16' | `pad${number}`;

type FieldValue<K> = K extends 'u64' ? bigint : K extends 'ipv4' | 'mac' | 'ipv6' | 'label16' ? string : number;

const fieldSize = (k: FieldKind): number => {
  switch (k) {
    case 'u8':
      return 1;
    case 'u16':
    case 'be16':
      return 2;
    case 'u32':
    case 'be32':
    case 'ipv4':
      return 4;
    case 'u64':
      return 8;
    case 'mac':
      return 6;
    case 'ipv6':
    case 'label16':
      return 16;
    default:
      return Number(k.slice(3));
  }
};

export type FieldSpec = readonly [name: string, kind: FieldKind];

/** A C struct as the kernel header lays it out (padding written out as `padN` fields). */
export interface Struct<T> {
  readonly name: string;
  readonly size: number;
  readonly fields: readonly FieldSpec[];
  /** Only carries the value type. */
  readonly _t?: T;
}

type StructValue<F extends readonly FieldSpec[]> = {
  [E in F[number] as E[1] extends `pad${number}` ? never : E[0]]: FieldValue<E[1]>;
};

/** Declares a struct; a field list that doesn't add up to `size` fails at load. */
export function struct<const F extends readonly FieldSpec[]>(name: string, size: number, fields: F): Struct<StructValue<F>> {
  const sum = fields.reduce((n, [, k]) => n + fieldSize(k), 0);
  if (sum !== size) throw new Error(`${name}: fields add up to ${sum} bytes, declared ${size}`);
  return { name, size, fields };
}

function formatMac(b: Uint8Array): string {
  return [...b].map((x) => x.toString(16).padStart(2, '0')).join(':');
}

function formatIpv6(b: Uint8Array): string {
  const words: string[] = [];
  for (let i = 0; i < 16; i += 2) words.push(((b[i]! << 8) | b[i + 1]!).toString(16));
  return words.join(':');
}

function parseIpv6(s: string): Buffer {
  const out = Buffer.alloc(16);
  const [head, tail] = s.includes('::') ? s.split('::') : [s, undefined];
  const h = head ? head.split(':') : [];
  const t = tail !== undefined && tail !== '' ? tail.split(':') : [];
  const words = [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t];
  if (words.length !== 8) throw new TypeError(`not an IPv6 address: "${s}"`);
  words.forEach((w, i) => out.writeUInt16BE(parseInt(w, 16) & 0xffff, i * 2));
  return out;
}

function parseIpv4(s: string): number {
  const p = s.split('.').map(Number);
  if (p.length !== 4 || p.some((x) => !Number.isInteger(x) || x < 0 || x > 255)) throw new TypeError(`not an IPv4 address: "${s}"`);
  return ((p[0]! << 24) | (p[1]! << 16) | (p[2]! << 8) | p[3]!) >>> 0;
}

function writeField(b: Buffer, off: number, k: FieldKind, v: unknown, where: string): void {
  switch (k) {
    case 'u8':
      b.writeUInt8(Number(v ?? 0), off);
      return;
    case 'u16':
      if (LE) b.writeUInt16LE(Number(v ?? 0), off);
      else b.writeUInt16BE(Number(v ?? 0), off);
      return;
    case 'u32':
      if (LE) b.writeUInt32LE(Number(v ?? 0) >>> 0, off);
      else b.writeUInt32BE(Number(v ?? 0) >>> 0, off);
      return;
    case 'u64':
      if (LE) b.writeBigUInt64LE(BigInt((v as bigint | undefined) ?? 0n), off);
      else b.writeBigUInt64BE(BigInt((v as bigint | undefined) ?? 0n), off);
      return;
    case 'be16':
      b.writeUInt16BE(Number(v ?? 0), off);
      return;
    case 'be32':
      b.writeUInt32BE(Number(v ?? 0) >>> 0, off);
      return;
    case 'ipv4':
      b.writeUInt32BE(v === undefined ? 0 : parseIpv4(String(v)), off);
      return;
    case 'mac': {
      const s = v === undefined ? '00:00:00:00:00:00' : String(v);
      const parts = s.split(':');
      if (parts.length !== 6) throw new TypeError(`${where}: not a MAC address: "${s}"`);
      parts.forEach((x, i) => b.writeUInt8(parseInt(x, 16), off + i));
      return;
    }
    case 'ipv6':
      (v === undefined ? Buffer.alloc(16) : parseIpv6(String(v))).copy(b, off);
      return;
    case 'label16':
      Buffer.from(String(v ?? '').padStart(32, '0'), 'hex').copy(b, off);
      return;
    default:
      return; // padding stays zero
  }
}

function readField(b: Uint8Array, off: number, k: FieldKind): unknown {
  const buf = Buffer.from(b.buffer, b.byteOffset, b.byteLength);
  switch (k) {
    case 'u8':
      return buf.readUInt8(off);
    case 'u16':
      return LE ? buf.readUInt16LE(off) : buf.readUInt16BE(off);
    case 'u32':
      return LE ? buf.readUInt32LE(off) : buf.readUInt32BE(off);
    case 'u64':
      return LE ? buf.readBigUInt64LE(off) : buf.readBigUInt64BE(off);
    case 'be16':
      return buf.readUInt16BE(off);
    case 'be32':
      return buf.readUInt32BE(off);
    case 'ipv4':
      return [0, 1, 2, 3].map((i) => buf[off + i]).join('.');
    case 'mac':
      return formatMac(buf.subarray(off, off + 6));
    case 'ipv6':
      return formatIpv6(buf.subarray(off, off + 16));
    case 'label16':
      return buf.subarray(off, off + 16).toString('hex');
    default:
      return undefined;
  }
}

export function encodeStruct<T>(s: Struct<T>, v: Partial<T>): Buffer {
  const b = Buffer.alloc(s.size);
  let off = 0;
  for (const [name, k] of s.fields) {
    writeField(b, off, k, (v as Record<string, unknown>)[name], `${s.name}.${name}`);
    off += fieldSize(k);
  }
  return b;
}

/** Fields past the end of a shorter payload (an older kernel's struct) read as absent. */
export function decodeStruct<T>(s: Struct<T>, b: Uint8Array): T {
  const out: Record<string, unknown> = {};
  let off = 0;
  for (const [name, k] of s.fields) {
    const n = fieldSize(k);
    if (off + n > b.length) break;
    if (!k.startsWith('pad')) out[name] = readField(b, off, k);
    off += n;
  }
  return out as T;
}

// ---- attribute sets ----

/**
 * Attribute payload kinds. `self` nests the set being declared (OVS_KEY_ATTR_ENCAP);
 * `list` is an ordered, repeatable sequence (action lists); `masked` is one attribute of
 * a set whose payload is the value followed by its mask (OVS_ACTION_ATTR_SET_MASKED).
 */
export type Kind =
  | 'u8'
  | 'u16'
  | 'u32'
  | 'u64'
  | 's32'
  | 'be16'
  | 'be32'
  | 'flag'
  | 'string'
  | 'bytes'
  | 'u32s'
  | 'ip'
  | 'self'
  | { readonly struct: Struct<unknown> }
  | { readonly nested: AttrSet<Fields> }
  | { readonly list: AttrSet<Fields> }
  | { readonly masked: AttrSet<Fields> };

export type Fields = Readonly<Record<string, readonly [type: number, kind: Kind]>>;

export interface AttrSet<F extends Fields> {
  readonly name: string;
  readonly fields: F;
  readonly byType: ReadonlyMap<number, string>;
}

type KindValue<K, F extends Fields> = K extends 'u8' | 'u16' | 'u32' | 's32' | 'be16' | 'be32'
  ? number
  : K extends 'u64'
    ? bigint
    : K extends 'flag'
      ? true
      : K extends 'string' | 'ip'
        ? string
        : K extends 'bytes'
          ? Buffer
          : K extends 'u32s'
            ? number[]
            : K extends 'self'
              ? Attrs<F>
              : K extends { struct: Struct<infer T> }
                ? T
                : K extends { nested: AttrSet<infer G> }
                  ? Attrs<G>
                  : K extends { list: AttrSet<infer G> }
                    ? AttrList<G>
                    : K extends { masked: AttrSet<infer G> }
                      ? { value: Attrs<G>; mask: Attrs<G> }
                      : never;

/** The decoded values of a set: every attribute optional, as on the wire. */
export type Attrs<F extends Fields> = { -readonly [N in keyof F]?: KindValue<F[N][1], F> };

/** An ordered list: each element names one attribute of the set. */
export type AttrList<F extends Fields> = Array<{ [N in keyof F]: { [M in N]: KindValue<F[N][1], F> } }[keyof F]>;

export function attrSet<const F extends Fields>(name: string, fields: F): AttrSet<F> {
  const byType = new Map<number, string>();
  for (const [n, [t]] of Object.entries(fields)) {
    if (byType.has(t)) throw new Error(`${name}: type ${t} declared twice (${byType.get(t)}, ${n})`);
    byType.set(t, n);
  }
  return { name, fields, byType };
}

/** Appends netlink attributes to a list of chunks. */
class Out {
  chunks: Buffer[] = [];
  len = 0;
  push(b: Buffer): void {
    this.chunks.push(b);
    this.len += b.length;
  }
  attr(type: number, payload: Buffer, nested = false): void {
    const hdr = Buffer.alloc(NLA_HDRLEN);
    const len = NLA_HDRLEN + payload.length;
    if (len > 0xffff) throw new RangeError(`netlink attribute ${type} of ${len} bytes exceeds 65535`);
    if (LE) {
      hdr.writeUInt16LE(len, 0);
      hdr.writeUInt16LE(type | (nested ? NLA_F_NESTED : 0), 2);
    } else {
      hdr.writeUInt16BE(len, 0);
      hdr.writeUInt16BE(type | (nested ? NLA_F_NESTED : 0), 2);
    }
    this.push(hdr);
    this.push(payload);
    const pad = align4(len) - len;
    if (pad) this.push(Buffer.alloc(pad));
  }
  concat(): Buffer {
    return Buffer.concat(this.chunks, this.len);
  }
}

function u(size: 1 | 2 | 4 | 8, v: number | bigint, be = false): Buffer {
  const b = Buffer.alloc(size);
  if (size === 1) b.writeUInt8(Number(v));
  else if (size === 2) {
    if (be || !LE) b.writeUInt16BE(Number(v));
    else b.writeUInt16LE(Number(v));
  } else if (size === 4) {
    if (be || !LE) b.writeUInt32BE(Number(v) >>> 0);
    else b.writeUInt32LE(Number(v) >>> 0);
  } else if (LE) b.writeBigUInt64LE(BigInt(v));
  else b.writeBigUInt64BE(BigInt(v));
  return b;
}

function encodePayload(kind: Kind, v: unknown, self: AttrSet<Fields>, where: string): { payload: Buffer; nested: boolean } {
  switch (kind) {
    case 'u8':
      return { payload: u(1, v as number), nested: false };
    case 'u16':
      return { payload: u(2, v as number), nested: false };
    case 'u32':
      return { payload: u(4, v as number), nested: false };
    case 's32': {
      const b = Buffer.alloc(4);
      if (LE) b.writeInt32LE(v as number);
      else b.writeInt32BE(v as number);
      return { payload: b, nested: false };
    }
    case 'u64':
      return { payload: u(8, v as bigint), nested: false };
    case 'be16':
      return { payload: u(2, v as number, true), nested: false };
    case 'be32':
      return { payload: u(4, v as number, true), nested: false };
    case 'flag':
      return { payload: Buffer.alloc(0), nested: false };
    case 'string':
      return { payload: Buffer.from(`${String(v)}\0`), nested: false };
    case 'bytes':
      return { payload: Buffer.from(v as Uint8Array), nested: false };
    case 'u32s':
      return { payload: Buffer.concat((v as number[]).map((x) => u(4, x))), nested: false };
    case 'ip': {
      const s = String(v);
      if (s.includes(':')) return { payload: parseIpv6(s), nested: false };
      return { payload: u(4, parseIpv4(s), true), nested: false };
    }
    case 'self':
      return { payload: encodeAttrs(self, v as Attrs<Fields>), nested: true };
    default:
      if ('struct' in kind) return { payload: encodeStruct(kind.struct, v as Record<string, unknown>), nested: false };
      if ('nested' in kind) return { payload: encodeAttrs(kind.nested, v as Attrs<Fields>), nested: true };
      if ('list' in kind) return { payload: encodeList(kind.list, v as AttrList<Fields>), nested: true };
      return { payload: encodeMasked(kind.masked, v as { value: Attrs<Fields>; mask: Attrs<Fields> }, where), nested: true };
  }
}

function encodeOne(set: AttrSet<Fields>, name: string, v: unknown, out: Out): void {
  const row = set.fields[name];
  if (!row) throw new TypeError(`${set.name}: no attribute "${name}"`);
  const { payload, nested } = encodePayload(row[1], v, set, `${set.name}.${name}`);
  out.attr(row[0], payload, nested);
}

/** Encodes the attributes that are set, in declaration order. */
export function encodeAttrs<F extends Fields>(set: AttrSet<F>, v: Attrs<F>): Buffer {
  const out = new Out();
  const vals = v as Record<string, unknown>;
  for (const name of Object.keys(set.fields)) {
    if (vals[name] !== undefined) encodeOne(set as AttrSet<Fields>, name, vals[name], out);
  }
  for (const name of Object.keys(vals)) {
    if (!(name in set.fields) && vals[name] !== undefined) throw new TypeError(`${set.name}: no attribute "${name}"`);
  }
  return out.concat();
}

/** Encodes an ordered list, one attribute per element, repeats allowed. */
export function encodeList<F extends Fields>(set: AttrSet<F>, list: AttrList<F>): Buffer {
  const out = new Out();
  for (const el of list) {
    const entries = Object.entries(el as Record<string, unknown>);
    if (entries.length !== 1) throw new TypeError(`${set.name}: each list element names exactly one attribute`);
    const [name, v] = entries[0]!;
    encodeOne(set as AttrSet<Fields>, name, v, out);
  }
  return out.concat();
}

// One attribute of `set` whose payload is value then mask, each the attribute's own encoding.
function encodeMasked(set: AttrSet<Fields>, v: { value: Attrs<Fields>; mask: Attrs<Fields> }, where: string): Buffer {
  const names = Object.keys(v.value).filter((n) => v.value[n] !== undefined);
  if (names.length !== 1) throw new TypeError(`${where}: a masked set names exactly one attribute`);
  const name = names[0]!;
  const row = set.fields[name];
  if (!row) throw new TypeError(`${set.name}: no attribute "${name}"`);
  const value = encodePayload(row[1], v.value[name], set, where).payload;
  const mask = encodePayload(row[1], v.mask[name], set, where).payload;
  const out = new Out();
  out.attr(row[0], Buffer.concat([value, mask]));
  return out.concat();
}

/** Iterates the attributes in `b`: [type without flags, payload]. */
export function* walkAttrs(b: Uint8Array, where: string): Generator<[number, Buffer]> {
  const buf = Buffer.from(b.buffer, b.byteOffset, b.byteLength);
  let off = 0;
  while (off + NLA_HDRLEN <= buf.length) {
    const len = LE ? buf.readUInt16LE(off) : buf.readUInt16BE(off);
    const type = (LE ? buf.readUInt16LE(off + 2) : buf.readUInt16BE(off + 2)) & NLA_TYPE_MASK;
    if (len < NLA_HDRLEN || off + len > buf.length) throw new Error(`${where}: attribute ${type} length ${len} runs past the message`);
    yield [type, buf.subarray(off + NLA_HDRLEN, off + len)];
    off += align4(len);
  }
}

function decodePayload(kind: Kind, p: Buffer, self: AttrSet<Fields>, where: string): unknown {
  const need = (n: number): void => {
    if (p.length < n) throw new Error(`${where}: ${p.length} bytes, needs ${n}`);
  };
  switch (kind) {
    case 'u8':
      need(1);
      return p.readUInt8(0);
    case 'u16':
      need(2);
      return LE ? p.readUInt16LE(0) : p.readUInt16BE(0);
    case 'u32':
      need(4);
      return LE ? p.readUInt32LE(0) : p.readUInt32BE(0);
    case 's32':
      need(4);
      return LE ? p.readInt32LE(0) : p.readInt32BE(0);
    case 'u64':
      need(8);
      return LE ? p.readBigUInt64LE(0) : p.readBigUInt64BE(0);
    case 'be16':
      need(2);
      return p.readUInt16BE(0);
    case 'be32':
      need(4);
      return p.readUInt32BE(0);
    case 'flag':
      return true;
    case 'string': {
      const nul = p.indexOf(0);
      return p.subarray(0, nul < 0 ? p.length : nul).toString();
    }
    case 'bytes':
      return Buffer.from(p);
    case 'u32s': {
      const out: number[] = [];
      for (let i = 0; i + 4 <= p.length; i += 4) out.push(LE ? p.readUInt32LE(i) : p.readUInt32BE(i));
      return out;
    }
    case 'ip':
      return p.length === 16 ? formatIpv6(p) : [...p.subarray(0, 4)].join('.');
    case 'self':
      return decodeAttrs(self, p);
    default:
      if ('struct' in kind) return decodeStruct(kind.struct, p);
      if ('nested' in kind) return decodeAttrs(kind.nested, p);
      if ('list' in kind) return decodeList(kind.list, p);
      return decodeMasked(kind.masked, p, where);
  }
}

/** Decodes a set; attributes this declaration doesn't know (a newer kernel's) are skipped. */
export function decodeAttrs<F extends Fields>(set: AttrSet<F>, b: Uint8Array): Attrs<F> {
  const out: Record<string, unknown> = {};
  for (const [type, p] of walkAttrs(b, set.name)) {
    const name = set.byType.get(type);
    if (!name) continue;
    out[name] = decodePayload(set.fields[name]![1], p, set as AttrSet<Fields>, `${set.name}.${name}`);
  }
  return out as Attrs<F>;
}

export function decodeList<F extends Fields>(set: AttrSet<F>, b: Uint8Array): AttrList<F> {
  const out: Array<Record<string, unknown>> = [];
  for (const [type, p] of walkAttrs(b, set.name)) {
    const name = set.byType.get(type);
    if (!name) throw new Error(`${set.name}: unknown attribute type ${type} in a list`);
    out.push({ [name]: decodePayload(set.fields[name]![1], p, set as AttrSet<Fields>, `${set.name}.${name}`) });
  }
  return out as AttrList<F>;
}

function decodeMasked(set: AttrSet<Fields>, b: Buffer, where: string): { value: Attrs<Fields>; mask: Attrs<Fields> } {
  for (const [type, p] of walkAttrs(b, where)) {
    const name = set.byType.get(type);
    if (!name) throw new Error(`${where}: unknown attribute type ${type}`);
    const half = p.length / 2;
    const kind = set.fields[name]![1];
    return {
      value: { [name]: decodePayload(kind, p.subarray(0, half), set, where) },
      mask: { [name]: decodePayload(kind, p.subarray(half), set, where) },
    };
  }
  throw new Error(`${where}: empty`);
}
