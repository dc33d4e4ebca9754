// The iteration order of OVS's string hash maps (lib/shash.c over lib/hmap.c, hashed
// with lib/hash.c's murmur-based hash_bytes). ovsdb-server walks JSON objects and
// schemas in this order, which decides the key order of what it sends and which of
// several problems it reports first; reproducing it keeps replies byte-identical.

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

function mhashAdd(hash: number, data: number): number {
  if (data !== 0) {
    data = Math.imul(data, 0xcc9e2d51);
    data = rotl(data, 15);
    data = Math.imul(data, 0x1b873593);
    hash ^= data;
  }
  hash = rotl(hash, 13);
  return (Math.imul(hash, 5) + 0xe6546b64) | 0;
}

function mhashFinish(hash: number): number {
  hash ^= hash >>> 16;
  hash = Math.imul(hash, 0x85ebca6b);
  hash ^= hash >>> 13;
  hash = Math.imul(hash, 0xc2b2ae35);
  hash ^= hash >>> 16;
  return hash >>> 0;
}

/** hash_string(s, 0) over the UTF-8 bytes of `s`. */
export function hashString(s: string): number {
  const b = Buffer.from(s, 'utf8');
  let hash = 0;
  let i = 0;
  for (; i + 4 <= b.length; i += 4) hash = mhashAdd(hash, b.readUInt32LE(i));
  if (i < b.length) {
    let tmp = 0;
    for (let j = b.length - 1; j >= i; j--) tmp = (tmp << 8) | (b[j] as number);
    hash = mhashAdd(hash, tmp);
  }
  return mhashFinish(hash ^ b.length);
}

function calcMask(capacity: number): number {
  let mask = Math.floor(capacity / 2);
  mask |= mask >>> 1;
  mask |= mask >>> 2;
  mask |= mask >>> 4;
  mask |= mask >>> 8;
  mask |= mask >>> 16;
  mask |= (mask & 1) << 1;
  return mask;
}

const cache = new Map<string, readonly string[]>();

/**
 * The order in which an shash filled by adding `keys` in turn (each key once) hands
 * them back. Cached by key list; callers pass the same few lists again and again.
 */
export function shashOrder(keys: readonly string[]): readonly string[] {
  if (keys.length < 2) return keys;
  const sig = keys.join('\0');
  const hit = cache.get(sig);
  if (hit) return hit;
  let mask = 0;
  let buckets: { key: string; hash: number }[][] = [[]];
  let n = 0;
  for (const key of keys) {
    const hash = hashString(key);
    (buckets[hash & mask] as { key: string; hash: number }[]).unshift({ key, hash });
    n++;
    if (Math.floor(n / 2) > mask) {
      const newMask = calcMask(n);
      if (newMask > mask) {
        const next: { key: string; hash: number }[][] = Array.from({ length: newMask + 1 }, () => []);
        for (const bucket of buckets) for (const node of bucket) (next[node.hash & newMask] as typeof bucket).unshift(node);
        buckets = next;
        mask = newMask;
      }
    }
  }
  const order: string[] = [];
  for (const bucket of buckets) for (const node of bucket) order.push(node.key);
  if (cache.size > 4096) cache.clear();
  cache.set(sig, order);
  return order;
}

/** The keys of a parsed JSON object in the order OVS would walk them. */
export function objectOrder(obj: object): readonly string[] {
  return shashOrder(Object.keys(obj));
}

/**
 * Rebuilds `obj` (whose keys were added in OVS's insertion order) with its keys in the
 * order ovsdb-server would serialize them.
 */
export function ovsOrdered<T extends object>(obj: T): T {
  const keys = Object.keys(obj);
  if (keys.length < 2) return obj;
  const order = shashOrder(keys);
  const out = {} as Record<string, unknown>;
  for (const k of order) out[k] = (obj as Record<string, unknown>)[k];
  return out as T;
}
