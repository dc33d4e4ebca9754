// npm run gen: writes bpf/gen/maps.h and src/datapath/gen/maps.ts from proto/datapath.
// Both outputs are committed; check-gen.sh fails CI when they drift from the source.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type CEnum, type CType, isPerCpu, type MapDecl, type ScalarType, type StructType } from '../proto/lib/cstruct.js';
import * as dp from '../proto/datapath/maps.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const marker = 'Generated from proto/datapath/maps.ts by npm run gen; edit the source.';

const camel = (s: string) => s.replace(/(^|_)([a-z0-9])/g, (_, __, c: string) => c.toUpperCase());

function cDecl(name: string, t: CType): string {
  if (t.kind === 'scalar') return `${t.c} ${name}`;
  if (t.kind === 'array') return `${t.elem.c} ${name}[${t.length}]`;
  return `struct ${t.name} ${name}`;
}

function cMapType(t: ScalarType | StructType): string {
  return t.kind === 'scalar' ? t.c : `struct ${t.name}`;
}

function header(): string {
  const out: string[] = [`/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */`, `/* ${marker} */`];
  out.push('#pragma once', '', `#define XSW_LAYOUT_VERSION ${dp.LAYOUT_VERSION}`, `#define XSW_UPCALL_CAP ${dp.UPCALL_CAP}`);
  for (const [k, v] of Object.entries(dp.limits)) out.push(`#define XSW_${k} ${v}`);
  out.push('');
  for (const e of dp.enums as CEnum[]) {
    if (e.comment) out.push(`/* ${e.comment} */`);
    out.push(`enum ${e.name} {`, ...Object.entries(e.values).map(([k, v]) => `\t${k} = ${v},`), '};', '');
  }
  for (const s of dp.structs as StructType[]) {
    out.push(`struct ${s.name} {`);
    for (const f of s.fields) out.push(`\t${cDecl(f.name, f.type)};${f.comment ? ` /* ${f.comment} */` : ''}`);
    out.push('};');
    out.push(`_Static_assert(sizeof(struct ${s.name}) == ${s.size}, "struct ${s.name} size");`);
    for (const f of s.fields)
      out.push(`_Static_assert(__builtin_offsetof(struct ${s.name}, ${f.name}) == ${f.offset}, "${s.name}.${f.name} offset");`);
    out.push('');
  }
  out.push('#ifdef XSW_DEFINE_MAPS', '/* Map definitions, included once by the object that owns the maps. */');
  for (const [name, m] of Object.entries(dp.maps) as [string, MapDecl][]) {
    out.push(`/* ${m.comment} */`, 'struct {', `\t__uint(type, BPF_MAP_TYPE_${m.type});`, `\t__uint(max_entries, ${m.maxEntries});`);
    if (m.flags) out.push(`\t__uint(map_flags, BPF_F_${m.flags});`);
    if (m.key) out.push(`\t__type(key, ${cMapType(m.key)});`);
    if (m.value) out.push(`\t__type(value, ${cMapType(m.value)});`);
    out.push(`} ${name} SEC(".maps");`, '');
    if (m.record) {
      // Records are only reserved by size, so clang would leave their type out of the
      // BTF; this anchor keeps it there for the layout check (test/datapath/layout).
      out.push(`__attribute__((used)) static const struct ${m.record.name} ${name}_record_btf;`, '');
    }
  }
  out.push('#endif /* XSW_DEFINE_MAPS */', '');
  return out.join('\n');
}

function tsType(t: CType): string {
  if (t.kind === 'scalar') return t.size === 8 ? 'bigint' : 'number';
  if (t.kind === 'array') return t.elem.size === 1 ? 'Uint8Array' : `${tsType(t.elem)}[]`;
  return camel(t.name);
}

function scalarRW(t: ScalarType, off: string): { get: string; set: (v: string) => string } {
  const le = t.bigEndian ? 'false' : 'true';
  const fn = t.size === 1 ? 'Uint8' : t.size === 2 ? 'Uint16' : t.size === 4 ? (t.signed ? 'Int32' : 'Uint32') : t.signed ? 'BigInt64' : 'BigUint64';
  const leArg = t.size === 1 ? '' : `, ${le}`;
  return { get: `dv.get${fn}(${off}${leArg})`, set: (v) => `dv.set${fn}(${off}, ${v}${leArg})` };
}

function codec(s: StructType): string {
  const T = camel(s.name);
  const out: string[] = [];
  out.push(`export interface ${T} {`);
  for (const f of s.fields) out.push(`  ${f.name}: ${tsType(f.type)};${f.comment ? ` // ${f.comment}` : ''}`);
  out.push('}', '', `export const ${s.name.toUpperCase()}_SIZE = ${s.size};`, '');
  out.push(`export function encode${T}(v: ${T}, buf: Buffer = Buffer.alloc(${s.size}), off = 0): Buffer {`);
  out.push('  const dv = new DataView(buf.buffer, buf.byteOffset + off, ' + s.size + ');');
  for (const f of s.fields) {
    const t = f.type;
    if (t.kind === 'scalar') out.push(`  ${scalarRW(t, String(f.offset)).set(`v.${f.name}`)};`);
    else if (t.kind === 'array' && t.elem.size === 1) out.push(`  buf.set(v.${f.name}.subarray(0, ${t.length}), off + ${f.offset});`);
    else if (t.kind === 'array')
      out.push(`  for (let i = 0; i < ${t.length}; i++) ${scalarRW(t.elem, `${f.offset} + i * ${t.elem.size}`).set(`v.${f.name}[i] ?? 0`)};`);
    else out.push(`  encode${camel(t.name)}(v.${f.name}, buf, off + ${f.offset});`);
  }
  out.push('  return buf;', '}', '');
  out.push(`export function decode${T}(buf: Uint8Array, off = 0): ${T} {`);
  out.push(`  if (buf.length - off < ${s.size}) throw new RangeError('${s.name}: need ${s.size} bytes, have ' + (buf.length - off));`);
  out.push('  const dv = new DataView(buf.buffer, buf.byteOffset + off, ' + s.size + ');');
  out.push('  return {');
  for (const f of s.fields) {
    const t = f.type;
    if (t.kind === 'scalar') out.push(`    ${f.name}: ${scalarRW(t, String(f.offset)).get},`);
    else if (t.kind === 'array' && t.elem.size === 1) out.push(`    ${f.name}: buf.slice(off + ${f.offset}, off + ${f.offset + t.length}),`);
    else if (t.kind === 'array')
      out.push(`    ${f.name}: Array.from({ length: ${t.length} }, (_, i) => ${scalarRW(t.elem, `${f.offset} + i * ${t.elem.size}`).get}),`);
    else out.push(`    ${f.name}: decode${camel(t.name)}(buf, off + ${f.offset}),`);
  }
  out.push('  };', '}', '');
  return out.join('\n');
}

function tsModule(): string {
  const out: string[] = [`// ${marker}`, ''];
  out.push(`export const LAYOUT_VERSION = ${dp.LAYOUT_VERSION};`, `export const UPCALL_CAP = ${dp.UPCALL_CAP};`);
  for (const [k, v] of Object.entries(dp.limits)) out.push(`export const ${k} = ${v};`);
  out.push('');
  for (const e of dp.enums as CEnum[]) {
    out.push(`export const ${camel(e.name)} = {`, ...Object.entries(e.values).map(([k, v]) => `  ${k}: ${v},`), '} as const;', '');
  }
  for (const s of dp.structs as StructType[]) out.push(codec(s));
  out.push('export interface MapSpec {', '  type: string;', '  maxEntries: number;', '  keySize: number;', '  valueSize: number;', '  perCpu: boolean;', '}', '');
  out.push('export const maps = {');
  for (const [name, m] of Object.entries(dp.maps) as [string, MapDecl][]) {
    const ks = m.key ? (m.key.kind === 'scalar' ? m.key.size : m.key.size) : 0;
    const vs = m.value ? (m.value.kind === 'scalar' ? m.value.size : m.value.size) : 0;
    out.push(`  ${name}: { type: '${m.type}', maxEntries: ${m.maxEntries}, keySize: ${ks}, valueSize: ${vs}, perCpu: ${isPerCpu(m)} }, // ${m.comment}`);
  }
  out.push('} as const satisfies Record<string, MapSpec>;', '');
  return out.join('\n');
}

function write(rel: string, text: string): void {
  const path = join(root, rel);
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, text);
}

write('bpf/gen/maps.h', header());
write('src/datapath/gen/maps.ts', tsModule());
