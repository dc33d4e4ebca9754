// A C struct layout declared once as data: field order, types, padding and the spec
// size. scripts/gen.ts derives the C header for bpf/ and the TypeScript codecs from it,
// and a test checks each layout against the BTF that clang emitted for the object.

export interface ScalarType {
  kind: 'scalar';
  /** C spelling in the generated header. */
  c: string;
  size: 1 | 2 | 4 | 8;
  signed: boolean;
  /** Network byte order (C type __be16/__be32); host order otherwise. */
  bigEndian: boolean;
}

export interface ArrayType {
  kind: 'array';
  elem: ScalarType;
  length: number;
}

export interface StructType {
  kind: 'struct';
  name: string;
  size: number;
  align: number;
  fields: Field[];
}

export type CType = ScalarType | ArrayType | StructType;

export interface Field {
  name: string;
  type: CType;
  offset: number;
  comment?: string;
}

const scalar = (c: string, size: 1 | 2 | 4 | 8, signed = false, bigEndian = false): ScalarType => ({
  kind: 'scalar',
  c,
  size,
  signed,
  bigEndian,
});

export const u8 = scalar('__u8', 1);
export const u16 = scalar('__u16', 2);
export const u32 = scalar('__u32', 4);
export const u64 = scalar('__u64', 8);
export const s32 = scalar('__s32', 4, true);
export const s64 = scalar('__s64', 8, true);
export const be16 = scalar('__be16', 2, false, true);
export const be32 = scalar('__be32', 4, false, true);

/** A fixed-length array; `array(u8, 6)` for a MAC address. */
export const array = (elem: ScalarType, length: number): ArrayType => ({ kind: 'array', elem, length });

export function sizeOf(t: CType): number {
  return t.kind === 'scalar' ? t.size : t.kind === 'array' ? t.elem.size * t.length : t.size;
}

export function alignOf(t: CType): number {
  return t.kind === 'scalar' ? t.size : t.kind === 'array' ? t.elem.size : t.align;
}

/** [name, type, comment?] — the comment gives unit and byte order, as style.md asks. */
export type FieldSpec = readonly [name: string, type: CType, comment?: string];

/**
 * A struct with natural C alignment. Declaring the spec size makes a wrong field list a
 * load-time error here rather than a silent mismatch with the BPF object. Padding the
 * compiler would add must be written out as `reserved_N` fields (u8 arrays), so C and
 * TypeScript see the same bytes and nothing is left uninitialised in map values.
 */
export function cstruct(name: string, size: number, specs: readonly FieldSpec[]): StructType {
  const fields: Field[] = [];
  let off = 0;
  let align = 1;
  for (const [fname, type, comment] of specs) {
    const a = alignOf(type);
    if (off % a !== 0) throw new Error(`${name}.${fname}: offset ${off} not aligned to ${a}; add an explicit reserved field`);
    fields.push({ name: fname, type, offset: off, ...(comment ? { comment } : {}) });
    off += sizeOf(type);
    align = Math.max(align, a);
  }
  if (off % align !== 0) throw new Error(`${name}: size ${off} leaves tail padding to ${align}; add an explicit reserved field`);
  if (off !== size) throw new Error(`${name}: fields add up to ${off} bytes, declared ${size}`);
  return { kind: 'struct', name, size, align, fields };
}

/** A C enum whose values are shared by BPF and TypeScript. */
export interface CEnum {
  name: string;
  values: Readonly<Record<string, number>>;
  comment?: string;
}

export function cenum(name: string, values: Readonly<Record<string, number>>, comment?: string): CEnum {
  return { name, values, ...(comment ? { comment } : {}) };
}

export type MapKind =
  | 'HASH'
  | 'ARRAY'
  | 'PERCPU_HASH'
  | 'PERCPU_ARRAY'
  | 'LRU_HASH'
  | 'LRU_PERCPU_HASH'
  | 'DEVMAP'
  | 'DEVMAP_HASH'
  | 'RINGBUF'
  | 'PROG_ARRAY';

export interface MapDecl {
  type: MapKind;
  maxEntries: number;
  key?: ScalarType | StructType;
  value?: ScalarType | StructType;
  /** BPF_F_* map flags, e.g. NO_PREALLOC for a large hash filled from userspace. */
  flags?: 'NO_PREALLOC';
  /** For RINGBUF: the struct of each record (the map itself has no key or value). */
  record?: StructType;
  comment: string;
}

export function isPerCpu(m: MapDecl): boolean {
  return m.type.startsWith('PERCPU') || m.type === 'LRU_PERCPU_HASH';
}
