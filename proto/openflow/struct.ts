// proto/openflow/struct.ts — the small struct DSL every OpenFlow layout is declared in:
// big-endian scalars, padding, length fields and TLV lists. A struct states its spec
// size and the declaration fails at load if its fields disagree; each codec's read is
// the inverse of its write, and reads raise only OfpError (caught at the decode entry).
import { OfpError, type OfpErrorName } from './errors.js';

/** A cursor over peer bytes; `end` bounds the current element, `lenError` names its length error. */
export class Reader {
  constructor(
    readonly view: DataView,
    public pos: number,
    public end: number,
    public lenError: OfpErrorName,
  ) {}

  static of(bytes: Uint8Array, lenError: OfpErrorName): Reader {
    return new Reader(new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength), 0, bytes.byteLength, lenError);
  }

  need(n: number, field: string): void {
    if (this.pos + n > this.end) throw new OfpError(this.lenError, { field, why: `needs ${n} bytes, ${this.end - this.pos} left` });
  }
  u8(): number {
    return this.view.getUint8(this.pos++);
  }
  u16(): number {
    const v = this.view.getUint16(this.pos);
    this.pos += 2;
    return v;
  }
  u32(): number {
    const v = this.view.getUint32(this.pos);
    this.pos += 4;
    return v;
  }
  u64(): bigint {
    const v = this.view.getBigUint64(this.pos);
    this.pos += 8;
    return v;
  }
  bytes(n: number): Uint8Array {
    const b = new Uint8Array(this.view.buffer, this.view.byteOffset + this.pos, n).slice();
    this.pos += n;
    return b;
  }
  /** Runs `fn` with the reader bounded to the next `n` bytes, which it must consume exactly. */
  within<T>(n: number, field: string, lenError: OfpErrorName, fn: () => T): T {
    this.need(n, field);
    const savedEnd = this.end;
    const savedError = this.lenError;
    const stop = this.pos + n;
    this.end = stop;
    this.lenError = lenError;
    const v = fn();
    if (this.pos !== stop) throw new OfpError(lenError, { field, why: `${stop - this.pos} bytes left over` });
    this.end = savedEnd;
    this.lenError = savedError;
    return v;
  }
}

/** A growable big-endian output buffer. */
export class Writer {
  buf = new Uint8Array(256);
  view = new DataView(this.buf.buffer);
  pos = 0;

  /** Makes room for `n` more bytes: then `view`/`buf` may be written at pos..pos+n directly. */
  reserve(n: number): void {
    this.room(n);
  }
  private room(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.pos));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }
  u8(v: number): void {
    this.room(1);
    this.view.setUint8(this.pos++, v);
  }
  u16(v: number): void {
    this.room(2);
    this.view.setUint16(this.pos, v);
    this.pos += 2;
  }
  u32(v: number): void {
    this.room(4);
    this.view.setUint32(this.pos, v);
    this.pos += 4;
  }
  u64(v: bigint): void {
    this.room(8);
    this.view.setBigUint64(this.pos, v);
    this.pos += 8;
  }
  bytes(b: Uint8Array): void {
    this.room(b.length);
    this.buf.set(b, this.pos);
    this.pos += b.length;
  }
  /** A MAC address already checked with isMac(). */
  mac(s: string): void {
    this.room(6);
    parseMac(s, this.buf, this.pos);
    this.pos += 6;
  }
  zeros(n: number): void {
    this.room(n);
    this.buf.fill(0, this.pos, this.pos + n);
    this.pos += n;
  }
  patch16(at: number, v: number): void {
    this.view.setUint16(at, v);
  }
  patch32(at: number, v: number): void {
    this.view.setUint32(at, v);
  }
  patch8(at: number, v: number): void {
    this.view.setUint8(at, v);
  }
  done(): Uint8Array {
    return this.buf.slice(0, this.pos);
  }
}

/** Encoding our own values is a programming matter: a bad value throws this, not OfpError. */
export class EncodeError extends TypeError {}

/**
 * What a codec is, for tools that walk declarations (property-test generators,
 * documentation): the codec's behaviour is in read/write, this only names it.
 */
export type CodecMeta =
  | { readonly kind: 'uint'; readonly bytes: 1 | 2 | 4 | 8 }
  | { readonly kind: 'bytes'; readonly n: number }
  | { readonly kind: 'mac' }
  | { readonly kind: 'str'; readonly n: number }
  | { readonly kind: 'rest' }
  | { readonly kind: 'array'; readonly item: Codec<unknown> }
  | { readonly kind: 'enum'; readonly values: Readonly<Record<string, number>> }
  | { readonly kind: 'flags'; readonly known: Readonly<Record<string, number>> }
  | { readonly kind: 'struct' }
  | { readonly kind: 'registry' }
  | { readonly kind: 'list'; readonly registry: Registry<unknown> }
  | { readonly kind: 'custom'; readonly name: string };

export interface Codec<T> {
  /** Wire size in bytes when fixed; undefined when it depends on the value. */
  readonly size: number | undefined;
  readonly meta?: CodecMeta;
  read(r: Reader, field: string): T;
  write(w: Writer, v: T): void;
  /** Set on the hidden fields a struct handles itself. */
  readonly role?: 'pad' | 'hdr' | 'len' | 'lenOf';
}

function scalar<T>(size: number, read: (r: Reader) => T, write: (w: Writer, v: T) => void, check: (v: T) => boolean, meta: CodecMeta): Codec<T> {
  return {
    size,
    meta,
    read(r, field) {
      r.need(size, field);
      return read(r);
    },
    write(w, v) {
      if (!check(v)) throw new EncodeError(`value ${String(v)} does not fit ${size} bytes`);
      write(w, v);
    },
  };
}

/** An unsigned integer of 1, 2 or 4 bytes, read and written without the generic scalar wrapper (hot path). */
function uintCodec(bytes: 1 | 2 | 4): Codec<number> {
  const max = 2 ** (bytes * 8) - 1;
  return {
    size: bytes,
    meta: { kind: 'uint', bytes },
    read(r, field) {
      if (r.pos + bytes > r.end) r.need(bytes, field);
      const v = bytes === 1 ? r.view.getUint8(r.pos) : bytes === 2 ? r.view.getUint16(r.pos) : r.view.getUint32(r.pos);
      r.pos += bytes;
      return v;
    },
    write(w, v) {
      if (!(Number.isInteger(v) && v >= 0 && v <= max)) throw new EncodeError(`value ${String(v)} does not fit ${bytes} bytes`);
      if (bytes === 1) w.u8(v);
      else if (bytes === 2) w.u16(v);
      else w.u32(v);
    },
  };
}

export const u8: Codec<number> = uintCodec(1);
export const u16: Codec<number> = uintCodec(2);
export const u32: Codec<number> = uintCodec(4);
export const u64: Codec<bigint> = scalar(8, (r) => r.u64(), (w, v) => w.u64(v), (v) => typeof v === 'bigint' && v >= 0n && v < 1n << 64n, { kind: 'uint', bytes: 8 });

/** A fixed run of bytes kept as is. */
export function fixedBytes(n: number): Codec<Uint8Array> {
  return scalar(n, (r) => r.bytes(n), (w, v) => w.bytes(v), (v) => v instanceof Uint8Array && v.length === n, { kind: 'bytes', n });
}

/** A MAC address, written `aa:bb:cc:dd:ee:ff`. */
export const mac: Codec<string> = scalar(
  6,
  (r) => {
    const v = formatMac(new Uint8Array(r.view.buffer, r.view.byteOffset + r.pos, 6));
    r.pos += 6;
    return v;
  },
  (w, v) => w.mac(v),
  isMac,
  { kind: 'mac' },
);
const HEX2 = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));
/** `aa:bb:cc:dd:ee:ff` from 6 bytes (at `at`). */
export function formatMac(b: Uint8Array, at = 0): string {
  return `${HEX2[b[at]!]}:${HEX2[b[at + 1]!]}:${HEX2[b[at + 2]!]}:${HEX2[b[at + 3]!]}:${HEX2[b[at + 4]!]}:${HEX2[b[at + 5]!]}`;
}
const hexDigit = (c: number): number => (c <= 57 ? c - 48 : (c | 32) - 87);
/** The 6 bytes of `aa:bb:cc:dd:ee:ff` (already checked well-formed). */
export function parseMac(s: string, out = new Uint8Array(6), at = 0): Uint8Array {
  for (let i = 0; i < 6; i++) out[at + i] = (hexDigit(s.charCodeAt(i * 3)) << 4) | hexDigit(s.charCodeAt(i * 3 + 1));
  return out;
}
/** Is `s` a MAC address in lower-case colon form? */
export function isMac(s: unknown): s is string {
  if (typeof s !== 'string' || s.length !== 17) return false;
  for (let i = 0; i < 17; i++) {
    const c = s.charCodeAt(i);
    if (i % 3 === 2 ? c !== 58 : !((c >= 48 && c <= 57) || (c >= 97 && c <= 102))) return false;
  }
  return true;
}

/** A NUL-padded string in `n` bytes (the spec's `char name[n]`: n-1 characters and a NUL; a full one is read too). */
export function str(n: number): Codec<string> {
  return scalar(
    n,
    (r) => {
      const b = r.bytes(n);
      const nul = b.indexOf(0);
      return String.fromCharCode(...b.subarray(0, nul < 0 ? n : nul));
    },
    (w, v) => {
      const b = new Uint8Array(n);
      for (let i = 0; i < v.length; i++) b[i] = v.charCodeAt(i);
      w.bytes(b);
    },
    // Bytes map to characters one to one (Latin-1), so any name read writes back the same.
    // eslint-disable-next-line no-control-regex
    (v) => typeof v === 'string' && v.length <= n && /^[\x01-\xff]*$/.test(v),
    { kind: 'str', n },
  );
}

/** All bytes to the end of the enclosing element. */
export const rest: Codec<Uint8Array> = {
  size: undefined,
  meta: { kind: 'rest' },
  read: (r) => r.bytes(r.end - r.pos),
  write: (w, v) => w.bytes(v),
};

/**
 * An array item may carry its own writer under this key: a value made from state that
 * already holds the wire form's numbers (a flow entry answering OFPMP_FLOW) writes itself
 * without first becoming the codec's value. It must write exactly what the item's codec
 * writes for the value it stands for (its tests compare the two).
 */
export const writeSelf: unique symbol = Symbol('writeSelf');
export interface WritesSelf {
  [writeSelf](w: Writer): void;
}

/** Fixed-size elements repeated to the end of the enclosing element. */
export function array<T>(item: Codec<T>): Codec<T[]> {
  return {
    size: undefined,
    meta: { kind: 'array', item: item as Codec<unknown> },
    read(r, field) {
      const out: T[] = [];
      while (r.pos < r.end) out.push(item.read(r, field));
      return out;
    },
    write(w, v) {
      for (const x of v) {
        const self = (x as Partial<WritesSelf>)[writeSelf];
        if (self) self.call(x, w);
        else item.write(w, x);
      }
    },
  };
}

/** A named value: the wire number maps to a symbol; an unknown number is `error`. */
export function enumOf<const E extends Record<string, number>>(base: Codec<number>, values: E, error: OfpErrorName): Codec<keyof E & string> & { values: E; byNumber: ReadonlyMap<number, keyof E & string> } {
  const byNumber = new Map<number, keyof E & string>(Object.entries(values).map(([k, v]) => [v, k as keyof E & string]));
  return {
    size: base.size,
    meta: { kind: 'enum', values },
    values,
    byNumber,
    read(r, field) {
      const n = base.read(r, field);
      const name = byNumber.get(n);
      if (name === undefined) throw new OfpError(error, { field, why: `unknown value ${n}` });
      return name;
    },
    write(w, v) {
      const n = values[v];
      if (n === undefined) throw new EncodeError(`unknown ${field(values)} value ${v}`);
      base.write(w, n);
    },
  };
}
function field(values: Record<string, number>): string {
  return Object.keys(values).slice(0, 2).join('|');
}

/** A bitmap: bits outside `known` are `error` (spec: "unknown flags"). */
export function flags(base: Codec<number>, known: Record<string, number>, error: OfpErrorName): Codec<number> & { known: Record<string, number> } {
  const mask = Object.values(known).reduce((a, b) => a | b, 0) >>> 0;
  return {
    size: base.size,
    meta: { kind: 'flags', known },
    known,
    read(r, f) {
      const v = base.read(r, f);
      if ((v & ~mask) >>> 0) throw new OfpError(error, { field: f, why: `unknown bits 0x${((v & ~mask) >>> 0).toString(16)}` });
      return v;
    },
    write: (w, v) => base.write(w, v),
  };
}

// ---- struct ---------------------------------------------------------------------

type HiddenCodec = Codec<never> & { readonly role: 'pad' | 'hdr' | 'len' | 'lenOf'; readonly target?: string; readonly base?: Codec<number> };
export type Field = readonly [string, Codec<unknown>];

/** `n` bytes written as zero and ignored on read. */
export function pad(n: number): readonly ['', HiddenCodec] {
  return ['', { size: n, role: 'pad', read: () => undefined as never, write: () => undefined }];
}
/** `n` bytes of an enclosing header (type, length, experimenter) that the registry fills in. */
export function hdr(n: number): readonly ['', HiddenCodec] {
  return ['', { size: n, role: 'hdr', read: () => undefined as never, write: () => undefined }];
}
/** The length of the whole struct, this field included (padding excluded when `align8`). */
export function lenSelf(base: Codec<number>): readonly ['', HiddenCodec] {
  return ['', { size: base.size, role: 'len', base, read: () => undefined as never, write: () => undefined }];
}
/** The byte length of the later field `target`. */
export function lenOf(target: string, base: Codec<number>): readonly ['', HiddenCodec] {
  return ['', { size: base.size, role: 'lenOf', target, base, read: () => undefined as never, write: () => undefined }];
}

type Visible<F> = F extends readonly [infer N extends string, Codec<infer T>] ? (N extends '' ? never : readonly [N, T]) : never;
/** The TypeScript value of a struct: its named fields, hidden ones left out. */
export type Infer<Fs extends readonly Field[]> = { -readonly [E in Visible<Fs[number]> as E[0]]: E[1] };
export type ValueOf<C> = C extends Codec<infer T> ? T : never;

export interface Struct<T> extends Codec<T> {
  readonly name: string;
  /** Bytes before the first variable-size field: the spec's `sizeof`. */
  readonly fixedSize: number;
  readonly fields: readonly Field[];
  /** Reads the fields into `out` (a registry passes one already holding `type`). */
  readInto(r: Reader, out: object): void;
}

/**
 * Declares a wire struct. `size` is the spec's sizeof (the fixed part); a mismatch
 * with the fields throws when the module loads. `align8`: zero padding to a multiple
 * of 8 follows the struct and its length field does not count it (ofp_match, OXM
 * properties).
 */
export function struct<const Fs extends readonly Field[]>(name: string, size: number, fields: Fs, opts: { align8?: boolean } = {}): Struct<Infer<Fs>> {
  let fixed = 0;
  let variable = false;
  let selfLen: HiddenCodec | undefined;
  for (const [, c] of fields) {
    const hc = c as HiddenCodec;
    if (hc.role === 'len') selfLen = hc;
    if (variable) continue;
    if (c.size === undefined) variable = true;
    else fixed += c.size;
  }
  if (fixed !== size) throw new Error(`${name}: fields take ${fixed} bytes, spec says ${size}`);
  const lenTargets = new Map<string, HiddenCodec>();
  for (const [, c] of fields) {
    const hc = c as HiddenCodec;
    if (hc.role === 'lenOf') lenTargets.set(hc.target!, hc);
  }
  // Per-field facts worked out once, so reads and writes allocate nothing but the value.
  const plan = fields.map(([fname, c]) => {
    const hc = c as HiddenCodec;
    return {
      fname,
      codec: c,
      role: hc.role,
      size: c.size ?? 0,
      base: hc.base,
      label: `${name}.${hc.role === 'len' ? 'length' : hc.role === 'lenOf' ? `${hc.target}_len` : fname}`,
      lenSlot: hc.role === 'lenOf' ? [...lenTargets.keys()].indexOf(hc.target!) : fname !== '' && lenTargets.has(fname) ? [...lenTargets.keys()].indexOf(fname) : -1,
    };
  });
  const nLens = lenTargets.size;
  const totalSize = variable || opts.align8 ? undefined : size;
  const fixedSize = size;

  const readInto = compileRead(plan, { name, fixedSize, nLens, align8: !!opts.align8 });
  const write = compileWrite(plan, { nLens, align8: !!opts.align8, selfLen, lenTargets });

  return {
    name,
    meta: { kind: 'struct' },
    size: totalSize,
    fixedSize,
    fields,
    readInto: readInto as Struct<Infer<Fs>>['readInto'],
    read(r) {
      const out: Record<string, unknown> = {};
      readInto(r, out);
      return out as Infer<Fs>;
    },
    write: write as Struct<Infer<Fs>>['write'],
  };
}

function patch(w: Writer, c: HiddenCodec, at: number, n: number): void {
  if (c.base!.size === 1) w.patch8(at, n);
  else if (c.base!.size === 2) w.patch16(at, n);
  else w.patch32(at, n);
}

// ---- struct code, generated from the plan -------------------------------------------
// A struct's read and write are straight-line functions made once from its fields, so
// each field's store and codec call is a site of its own (monomorphic, as hand-written
// code would be) instead of one loop shared by every struct. They do exactly what the
// plan says, field by field, with the same checks and errors.

interface PlanStep {
  readonly fname: string;
  readonly codec: Codec<unknown>;
  readonly role: HiddenCodec['role'] | undefined;
  readonly size: number;
  readonly base: Codec<number> | undefined;
  readonly label: string;
  readonly lenSlot: number;
}

type ReadFn = (r: Reader, out: Record<string, unknown>) => void;
type WriteFn = (w: Writer, v: unknown) => void;

/** A property access `o["name"]` (a literal key: a named access to the engine). */
const prop = (o: string, fname: string): string => `${o}[${JSON.stringify(fname)}]`;

function compileRead(plan: readonly PlanStep[], k: { name: string; fixedSize: number; nLens: number; align8: boolean }): ReadFn {
  const lines: string[] = ['const start = r.pos;', 'r.need(fixedSize, name);', 'const savedEnd = r.end;', 'let stop = -1;'];
  for (let s = 0; s < k.nLens; s++) lines.push(`let len${s};`);
  plan.forEach((f, i) => {
    switch (f.role) {
      case 'pad':
      case 'hdr':
        lines.push(`r.need(${f.size}, P[${i}].label);`, `r.pos += ${f.size};`);
        return;
      case 'len':
        lines.push(
          `{ const n = P[${i}].base.read(r, P[${i}].label);`,
          `  if (n < fixedSize || start + n > savedEnd) throw new OfpError(r.lenError, { field: P[${i}].label, why: \`\${n}\` });`,
          '  stop = start + n; r.end = stop; }',
        );
        return;
      case 'lenOf':
        lines.push(`len${f.lenSlot} = P[${i}].base.read(r, P[${i}].label);`);
        return;
    }
    if (f.lenSlot < 0) {
      lines.push(`${prop('out', f.fname)} = C${i}.read(r, P[${i}].label);`);
      return;
    }
    lines.push(
      `{ const n = len${f.lenSlot}; r.need(n, P[${i}].label);`,
      '  const outer = r.end; const fieldEnd = r.pos + n; r.end = fieldEnd;',
      `  ${prop('out', f.fname)} = C${i}.read(r, P[${i}].label);`,
      `  if (r.pos !== fieldEnd) throw new OfpError(r.lenError, { field: P[${i}].label, why: \`\${fieldEnd - r.pos} bytes left over\` });`,
      '  r.end = outer; }',
    );
  });
  lines.push(
    'if (stop >= 0) {',
    '  if (r.pos !== stop) throw new OfpError(r.lenError, { field: name, why: `${stop - r.pos} bytes left over` });',
    '  r.end = savedEnd;',
    ...(k.align8
      ? ['  const padded = start + ((stop - start + 7) & ~7);', "  if (padded > r.end) throw new OfpError(r.lenError, { field: name, why: 'padding missing' });", '  r.pos = padded;']
      : []),
    '}',
  );
  const codecs = plan.map((_, i) => `C${i} = P[${i}].codec`).join(', ');
  const factory = new Function('P', 'OfpError', 'fixedSize', 'name', `${codecs ? `const ${codecs};` : ''}\nreturn function readInto(r, out) {\n${lines.join('\n')}\n};`) as (
    p: readonly PlanStep[],
    e: typeof OfpError,
    fixedSize: number,
    name: string,
  ) => ReadFn;
  return factory(plan, OfpError, k.fixedSize, k.name);
}

function compileWrite(plan: readonly PlanStep[], k: { nLens: number; align8: boolean; selfLen: HiddenCodec | undefined; lenTargets: ReadonlyMap<string, HiddenCodec> }): WriteFn {
  const lines: string[] = ['const start = w.pos;', 'let selfAt = -1;'];
  for (let s = 0; s < k.nLens; s++) lines.push(`let lenAt${s};`);
  const targets: HiddenCodec[] = [];
  plan.forEach((f, i) => {
    switch (f.role) {
      case 'pad':
      case 'hdr':
        lines.push(`w.zeros(${f.size});`);
        return;
      case 'len':
        lines.push('selfAt = w.pos;', `w.zeros(${f.size});`);
        return;
      case 'lenOf':
        lines.push(`lenAt${f.lenSlot} = w.pos;`, `w.zeros(${f.size});`);
        return;
    }
    lines.push(
      `{ const at = w.pos; const x = ${prop('v', f.fname)};`,
      `  if (x === undefined) throw new EncodeError(P[${i}].label + ' missing');`,
      `  C${i}.write(w, x);`,
    );
    if (f.lenSlot >= 0) {
      targets.push(k.lenTargets.get(f.fname)!);
      lines.push(`  patch(w, T[${targets.length - 1}], lenAt${f.lenSlot}, w.pos - at);`);
    }
    lines.push('}');
  });
  if (k.selfLen) lines.push('if (selfAt >= 0) patch(w, selfLen, selfAt, w.pos - start);');
  if (k.align8) lines.push('w.zeros(((w.pos - start + 7) & ~7) - (w.pos - start));');
  const codecs = plan.map((_, i) => `C${i} = P[${i}].codec`).join(', ');
  const factory = new Function('P', 'T', 'EncodeError', 'patch', 'selfLen', `${codecs ? `const ${codecs};` : ''}\nreturn function write(w, v) {\n${lines.join('\n')}\n};`) as (
    p: readonly PlanStep[],
    t: readonly HiddenCodec[],
    e: typeof EncodeError,
    patch: (w: Writer, c: HiddenCodec, at: number, n: number) => void,
    selfLen: HiddenCodec | undefined,
  ) => WriteFn;
  return factory(plan, targets, EncodeError, patch, k.selfLen);
}

// ---- TLV registries -------------------------------------------------------------

/** One kind of element in a registry: its tag, experimenter id and subtype, and its layout. */
export interface Row {
  readonly tag: number;
  readonly experimenter?: number;
  readonly subtype?: number;
  readonly body: Struct<object>;
  /** The element's length must be a multiple of 8 (OVS: messages whose tail is `uint8_t[8][]`). */
  readonly len8?: boolean;
}

/** The decoded values of a set of registry rows: `{ type: name, ...fields }`. */
export type Tagged<R extends Record<string, Row>> = { [K in keyof R & string]: { type: K } & ValueOf<R[K]['body']> }[keyof R & string];
/** The decoded value of one element of registry R. */
export type RegistryValue<R> = R extends Registry<infer V> ? V : never;

export interface RegistryLayout {
  /** What the elements are, for messages: `action`. */
  readonly what: string;
  /** Offset and width of the type tag. */
  readonly tagAt: number;
  readonly tagWidth: 1 | 2;
  /** Offset of the u16 length, if the element carries one (else it runs to the end). */
  readonly lenAt?: number;
  /** The tag value whose elements are keyed by an experimenter id at +4 (or expAt). */
  readonly expTag?: number;
  readonly expAt?: number;
  readonly subAt?: number;
  readonly subWidth?: 2 | 4;
  /** 'include': the length counts padding and is a multiple of 8; 'exclude': zero padding to 8 follows. */
  readonly align?: 'include' | 'exclude';
  readonly badType: OfpErrorName;
  readonly badLen: OfpErrorName;
  readonly badExperimenter?: OfpErrorName;
  readonly badExpType?: OfpErrorName;
  /** Elements of unknown type are kept as `{ type: 'UNKNOWN', tag, data }` instead of refused (HELLO elements). */
  readonly keepUnknown?: boolean;
}

export interface UnknownElement {
  type: 'UNKNOWN';
  tag: number;
  data: Uint8Array;
}

export interface Registry<V> extends Codec<V> {
  readonly layout: RegistryLayout;
  readonly rows: Readonly<Record<string, Row>>;
  /** Name of the row for a wire tag (non-experimenter rows). */
  readonly byTag: ReadonlyMap<number, string>;
  /** All elements to the end of the enclosing element. */
  readonly list: Codec<V[]>;
}

export function registry<const R extends Record<string, Row>, const L extends RegistryLayout>(
  layout: L,
  rows: R,
): Registry<Tagged<R> | (L['keepUnknown'] extends true ? UnknownElement : never)> {
  type V = Tagged<R> | (L['keepUnknown'] extends true ? UnknownElement : never);
  const byTag = new Map<number, string>();
  const byExp = new Map<string, string>();
  const experimenters = new Set<number>();
  for (const [name, row] of Object.entries(rows)) {
    if (row.experimenter !== undefined) {
      byExp.set(`${row.experimenter}/${row.subtype}`, name);
      experimenters.add(row.experimenter);
    } else {
      if (byTag.has(row.tag)) throw new Error(`${layout.what}: tag ${row.tag} declared twice`);
      byTag.set(row.tag, name);
    }
  }
  const expAt = layout.expAt ?? 4;
  const subAt = layout.subAt ?? 8;
  const subWidth = layout.subWidth ?? 4;

  const headerLen = layout.lenAt !== undefined ? layout.lenAt + 2 : layout.tagAt + layout.tagWidth;
  const headerLabel = `${layout.what} header`;

  const read = (r: Reader, field: string): V => {
    const start = r.pos;
    r.lenError = layout.badLen;
    r.need(headerLen, headerLabel);
    const tag = layout.tagWidth === 1 ? r.view.getUint8(start + layout.tagAt) : r.view.getUint16(start + layout.tagAt);
    let len = r.end - start;
    if (layout.lenAt !== undefined) {
      len = r.view.getUint16(start + layout.lenAt);
      if (len < headerLen || start + len > r.end || (layout.align === 'include' && len % 8 !== 0)) {
        throw new OfpError(layout.badLen, { field: `${field}.len`, why: `${len}` });
      }
    }
    let name: string | undefined;
    if (layout.expTag !== undefined && tag === layout.expTag) {
      if (len < subAt + subWidth) {
        if (len < expAt + 4) throw new OfpError(layout.badLen, { field, why: 'experimenter header truncated' });
      }
      const exp = r.view.getUint32(start + expAt);
      if (!experimenters.has(exp)) throw new OfpError(layout.badExperimenter ?? layout.badType, { field, why: `experimenter 0x${exp.toString(16)}` });
      if (len < subAt + subWidth) throw new OfpError(layout.badLen, { field, why: 'experimenter header truncated' });
      const sub = subWidth === 2 ? r.view.getUint16(start + subAt) : r.view.getUint32(start + subAt);
      name = byExp.get(`${exp}/${sub}`);
      if (name === undefined) throw new OfpError(layout.badExpType ?? layout.badType, { field, why: `experimenter 0x${exp.toString(16)} type ${sub}` });
    } else {
      name = byTag.get(tag);
    }
    if (name === undefined) {
      if (layout.keepUnknown) {
        r.pos = start + headerLen;
        const data = r.bytes(start + len - r.pos);
        if (layout.align === 'exclude') skipPad(r, start, len);
        return { type: 'UNKNOWN', tag, data } as unknown as V;
      }
      throw new OfpError(layout.badType, { field, why: `type ${tag}` });
    }
    const row = rows[name]!;
    const body = row.body;
    if (len < body.fixedSize || (body.size !== undefined && len !== body.size) || (row.len8 && len % 8 !== 0)) {
      throw new OfpError(layout.badLen, { field: `${body.name}.len`, why: `${len}` });
    }
    const outer = r.end;
    const savedLenError = r.lenError;
    const stop = start + len;
    r.end = stop;
    r.lenError = layout.badLen;
    const out = { type: name } as Record<string, unknown>;
    body.readInto(r, out);
    if (r.pos !== stop) throw new OfpError(layout.badLen, { field: body.name, why: `${stop - r.pos} bytes left over` });
    r.end = outer;
    r.lenError = savedLenError;
    if (layout.align === 'exclude') skipPad(r, start, len);
    return out as V;
  };

  const skipPad = (r: Reader, start: number, len: number) => {
    const padded = start + ((len + 7) & ~7);
    if (padded > r.end) throw new OfpError(layout.badLen, { field: layout.what, why: 'padding missing' });
    r.pos = padded;
  };

  const write = (w: Writer, v: V): void => {
    const value = v as unknown as { type: string } & Record<string, unknown>;
    const start = w.pos;
    if (value.type === 'UNKNOWN') {
      const u = v as unknown as UnknownElement;
      w.zeros(layout.lenAt !== undefined ? layout.lenAt + 2 : layout.tagAt + layout.tagWidth);
      w.bytes(u.data);
      finish(w, start, u.tag);
      return;
    }
    const row = rows[value.type];
    if (!row) throw new EncodeError(`unknown ${layout.what} ${value.type}`);
    row.body.write(w, value);
    if (row.experimenter !== undefined) {
      w.patch32(start + expAt, row.experimenter);
      if (subWidth === 2) w.patch16(start + subAt, row.subtype!);
      else w.patch32(start + subAt, row.subtype!);
    }
    finish(w, start, row.tag);
  };
  const finish = (w: Writer, start: number, tag: number) => {
    if (layout.tagWidth === 1) w.patch8(start + layout.tagAt, tag);
    else w.patch16(start + layout.tagAt, tag);
    const len = w.pos - start;
    if (layout.lenAt !== undefined) {
      if (len > 0xffff) throw new EncodeError(`${layout.what} longer than 65535 bytes`);
      w.patch16(start + layout.lenAt, len);
    }
    if (layout.align === 'include' && len % 8 !== 0) throw new EncodeError(`${layout.what} length ${len} is not a multiple of 8`);
    if (layout.align === 'exclude') w.zeros(((len + 7) & ~7) - len);
  };

  const self = {
    size: undefined,
    meta: { kind: 'registry' },
    layout,
    rows,
    byTag,
    list: undefined as unknown as Codec<V[]>,
    read(r: Reader, field: string) {
      const saved = r.lenError;
      const v = read(r, field);
      r.lenError = saved;
      return v;
    },
    write,
  } as Registry<V>;
  const list: Codec<V[]> = {
    size: undefined,
    meta: { kind: 'list', registry: self as Registry<unknown> },
    read(r, field) {
      const out: V[] = [];
      const saved = r.lenError;
      while (r.pos < r.end) out.push(read(r, field));
      r.lenError = saved;
      return out;
    },
    write(w, v) {
      for (const x of v) write(w, x);
    },
  };
  (self as { list: Codec<V[]> }).list = list;
  return self;
}

/** A registry's list, to the end of the enclosing element. */
export function list<V>(reg: Registry<V>): Codec<V[]> {
  return reg.list;
}

/** Defers to a codec declared later (nested actions inside an experimenter action). */
export function lazy<T>(get: () => Codec<T>, name = 'lazy'): Codec<T> {
  return {
    size: undefined,
    meta: { kind: 'custom', name },
    read: (r, f) => get().read(r, f),
    write: (w, v) => get().write(w, v),
  };
}
