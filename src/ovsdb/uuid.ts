// Random (version 4) UUIDs as flat strings. crypto.randomUUID() returns a rope of
// concatenated pieces that costs several hundred bytes per UUID until the GC
// flattens it; every row holds two UUIDs, so they are written into a buffer here
// and turned into a string in one step (56 bytes).
import { randomFillSync } from 'node:crypto';

const HEX = Buffer.from('0123456789abcdef', 'latin1');
const pool = Buffer.allocUnsafe(16 * 512);
let poolPos = pool.length;
const out = Buffer.allocUnsafe(36);

export function newUuid(): string {
  if (poolPos === pool.length) {
    randomFillSync(pool);
    poolPos = 0;
  }
  const p = poolPos;
  poolPos += 16;
  pool[p + 6] = ((pool[p + 6] as number) & 0x0f) | 0x40; // version 4
  pool[p + 8] = ((pool[p + 8] as number) & 0x3f) | 0x80; // RFC 4122 variant
  let o = 0;
  for (let i = 0; i < 16; i++) {
    if (i === 4 || i === 6 || i === 8 || i === 10) out[o++] = 0x2d;
    const b = pool[p + i] as number;
    out[o++] = HEX[b >> 4] as number;
    out[o++] = HEX[b & 15] as number;
  }
  return out.toString('latin1');
}
