// Map updates per second from TypeScript (one at a time, and batched off the JS thread)
// beside the same updates from a C loop over libbpf (bench/maps-ref.c, built here into
// build/bench/). Same object, same map (st_big: key 8 B, value 16 B), same keys.
// C and TS alternate, each giving a median of rounds; the median of those is reported.
// Prints `name value unit` lines, then a markdown table with ratios. Goal: batched TS
// within 1.5x of the C batch loop.
import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BPF_ANY, BpfObject } from '../src/native/bpf.js';
import { bpfObjectPath } from '../src/native/paths.js';

const ENTRIES = 100_000;
const ROUNDS = 3;
/** C and TS take turns this many times, so load from elsewhere hits both alike. */
const TURNS = 3;
const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const object = bpfObjectPath('selftest');

function median(v: number[]): number {
  return [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)]!;
}

function buildReference(): string {
  const out = join(root, 'build', 'bench', 'maps-ref');
  mkdirSync(dirname(out), { recursive: true });
  execFileSync('cc', ['-O2', '-Wall', '-o', out, join(root, 'bench', 'maps-ref.c'), '-lbpf'], { stdio: 'inherit' });
  return out;
}

async function measureTs(): Promise<{ single: number; batch: number }> {
  const obj = BpfObject.load(object);
  const map = obj.map('st_big');
  const keys = Buffer.alloc(ENTRIES * 8);
  const values = Buffer.alloc(ENTRIES * 16);
  for (let i = 0; i < ENTRIES; i++) {
    keys.writeUInt32LE(i, i * 8);
    values.writeBigUInt64LE(BigInt(i), i * 16);
  }
  const single: number[] = [];
  const batch: number[] = [];
  for (let r = 0; r <= ROUNDS; r++) {
    // Round 0 warms up (JIT, map allocation), as in the C reference.
    let t = performance.now();
    for (let i = 0; i < ENTRIES; i++) map.update(keys.subarray(i * 8, i * 8 + 8), values.subarray(i * 16, i * 16 + 16), BPF_ANY);
    if (r) single.push(ENTRIES / ((performance.now() - t) / 1000));
    t = performance.now();
    const n = await map.updateBatch(keys, values);
    if (r) batch.push(n / ((performance.now() - t) / 1000));
  }
  map.close();
  obj.close();
  return { single: median(single), batch: median(batch) };
}

function measureC(bin: string): { single: number; batch: number } {
  const out = execFileSync(bin, [object, String(ENTRIES), String(ROUNDS)], { encoding: 'utf8' });
  const get = (name: string) => {
    const m = new RegExp(`^${name.replace(/\./g, '\\.')} (\\d+)`, 'm').exec(out);
    if (!m) throw new Error(`maps-ref printed no ${name}:\n${out}`);
    return Number(m[1]);
  };
  return { single: get('c.update.single'), batch: get('c.update.batch') };
}

const bin = buildReference();
const cs: { single: number; batch: number }[] = [];
const tss: { single: number; batch: number }[] = [];
for (let i = 0; i < TURNS; i++) {
  cs.push(measureC(bin));
  tss.push(await measureTs());
}
const pick = (v: { single: number; batch: number }[]) => ({ single: median(v.map((x) => x.single)), batch: median(v.map((x) => x.batch)) });
const c = pick(cs);
const ts = pick(tss);
const lines: [string, number, string][] = [
  ['maps.ts.update.single', ts.single, 'updates/s'],
  ['maps.ts.update.batch', ts.batch, 'updates/s'],
  ['maps.c.update.single', c.single, 'updates/s'],
  ['maps.c.update.batch', c.batch, 'updates/s'],
  ['maps.ratio.single.c_over_ts', c.single / ts.single, 'x'],
  ['maps.ratio.batch.c_over_ts', c.batch / ts.batch, 'x'],
];
for (const [name, value, unit] of lines) console.log(`${name} ${value >= 100 ? Math.round(value) : value.toFixed(2)} ${unit}`);
const fmt = (v: number) => Math.round(v).toLocaleString('en-US');
console.log('');
console.log(`| ${ENTRIES.toLocaleString('en-US')} updates, median of ${ROUNDS}×${TURNS} | TypeScript | C (libbpf) | C / TS |`);
console.log('|---|---:|---:|---:|');
console.log(`| one at a time | ${fmt(ts.single)}/s | ${fmt(c.single)}/s | ${(c.single / ts.single).toFixed(2)}x |`);
console.log(`| one batch call | ${fmt(ts.batch)}/s | ${fmt(c.batch)}/s | ${(c.batch / ts.batch).toFixed(2)}x |`);
const goal = c.batch / ts.batch <= 1.5;
console.log('');
console.log(`goal (batched TS within 1.5x of the C loop): ${goal ? 'met' : 'NOT met'}`);
