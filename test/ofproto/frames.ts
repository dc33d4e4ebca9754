// test/ofproto/frames.ts — a small frame builder for tests (eth().vlan(10).ipv4(a, b).udp(1, 2))
// and an independent full checksum verifier, so the interpreter's incremental updates
// are checked against first principles.

const ip4 = (s: string) => s.split('.').map(Number);
function ip6(s: string): number[] {
  const [h, t = ''] = s.split('::');
  const g = (x: string) => (x ? x.split(':').map((v) => parseInt(v, 16)) : []);
  const head = g(h!);
  const tail = g(t);
  const words = s.includes('::') ? [...head, ...Array(8 - head.length - tail.length).fill(0), ...tail] : head;
  return words.flatMap((w) => [w >> 8, w & 0xff]);
}
const mac = (s: string) => s.split(':').map((x) => parseInt(x, 16));
const be16 = (v: number) => [(v >> 8) & 0xff, v & 0xff];

export function onesSum(bytes: number[] | Uint8Array, acc = 0): number {
  for (let i = 0; i < bytes.length; i += 2) acc += (bytes[i]! << 8) | (bytes[i + 1] ?? 0);
  while (acc > 0xffff) acc = (acc & 0xffff) + (acc >>> 16);
  return acc;
}
const csum = (bytes: number[], acc = 0) => ~onesSum(bytes, acc) & 0xffff;

interface L3 {
  kind: 'ipv4' | 'ipv6';
  src: number[];
  dst: number[];
  tos: number;
  ttl: number;
}

export class Frame {
  private l2: number[];
  private tags: number[][] = [];
  private l3?: L3;
  private l4?: { proto: number; build: (l3: L3) => number[] };
  private payload: number[] = [];
  private ethType = 0x0800;

  constructor(dst = '22:22:22:22:22:22', src = '12:11:11:11:11:11') {
    this.l2 = [...mac(dst), ...mac(src)];
  }
  vlan(vid: number, pcp = 0, tpid = 0x8100): this {
    this.tags.push([...be16(tpid), ...be16((pcp << 13) | vid)]);
    return this;
  }
  ipv4(src: string, dst: string, o: { tos?: number; ttl?: number } = {}): this {
    this.l3 = { kind: 'ipv4', src: ip4(src), dst: ip4(dst), tos: o.tos ?? 0, ttl: o.ttl ?? 64 };
    this.ethType = 0x0800;
    return this;
  }
  ipv6(src: string, dst: string, o: { tc?: number; hlim?: number } = {}): this {
    this.l3 = { kind: 'ipv6', src: ip6(src), dst: ip6(dst), tos: o.tc ?? 0, ttl: o.hlim ?? 64 };
    this.ethType = 0x86dd;
    return this;
  }
  tcp(sport: number, dport: number): this {
    this.l4 = { proto: 6, build: () => [...be16(sport), ...be16(dport), 0, 0, 0, 1, 0, 0, 0, 0, 0x50, 0x02, 0xff, 0xff, 0, 0, 0, 0] };
    return this;
  }
  udp(sport: number, dport: number): this {
    this.l4 = { proto: 17, build: () => [...be16(sport), ...be16(dport), 0, 0, 0, 0] };
    return this;
  }
  icmp6(type: number, code: number): this {
    this.l4 = { proto: 58, build: () => [type, code, 0, 0, 0, 0, 0, 0] };
    return this;
  }
  data(bytes: number[]): this {
    this.payload = bytes;
    return this;
  }
  build(): Buffer {
    // Each tag's TPID sits where the ethertype would; the real ethertype follows the last.
    const l2 = [...this.l2];
    for (const t of this.tags) l2.push(...t);
    l2.push(...be16(this.ethType));
    if (!this.l3) return Buffer.from([...l2, ...this.payload]);
    const seg = this.l4 ? [...this.l4.build(this.l3), ...this.payload] : this.payload;
    const proto = this.l4?.proto ?? 59;
    let l3: number[];
    const l3d = this.l3;
    if (l3d.kind === 'ipv4') {
      const total = 20 + seg.length;
      l3 = [0x45, l3d.tos, ...be16(total), 0, 1, 0, 0, l3d.ttl, proto, 0, 0, ...l3d.src, ...l3d.dst];
      const c = csum(l3);
      l3[10] = c >> 8;
      l3[11] = c & 0xff;
    } else {
      l3 = [0x60 | (l3d.tos >> 4), (l3d.tos & 0xf) << 4, 0, 0, ...be16(seg.length), proto, l3d.ttl, ...l3d.src, ...l3d.dst];
    }
    if (this.l4) {
      const at = proto === 6 ? 16 : proto === 17 ? 6 : 2;
      if (proto === 17) [seg[4], seg[5]] = be16(seg.length);
      const c = csum(seg, pseudo(l3d, proto, seg.length));
      [seg[at], seg[at + 1]] = be16(proto === 17 && c === 0 ? 0xffff : c);
    }
    return Buffer.from([...l2, ...l3, ...seg]);
  }
}

function pseudo(l3: Pick<L3, 'src' | 'dst'>, proto: number, len: number): number {
  return onesSum([...l3.src, ...l3.dst, ...(l3.src.length === 4 ? [0, proto, ...be16(len)] : [0, 0, ...be16(len), 0, 0, 0, proto])]);
}

export const eth = (dst?: string, src?: string) => new Frame(dst, src);

/** Checks every checksum in an untagged or tagged IPv4/IPv6 frame from first principles. */
export function checksumsValid(f: Uint8Array): { ip: boolean; l4: boolean } {
  let o = 12;
  while (((f[o]! << 8) | f[o + 1]!) === 0x8100 || ((f[o]! << 8) | f[o + 1]!) === 0x88a8) o += 4;
  const type = (f[o]! << 8) | f[o + 1]!;
  o += 2;
  let ipOk = true;
  let src: number[], dst: number[], proto: number, seg: number[];
  if (type === 0x0800) {
    const ihl = (f[o]! & 0xf) * 4;
    ipOk = onesSum(f.subarray(o, o + ihl)) === 0xffff;
    src = [...f.subarray(o + 12, o + 16)];
    dst = [...f.subarray(o + 16, o + 20)];
    proto = f[o + 9]!;
    seg = [...f.subarray(o + ihl, o + ((f[o + 2]! << 8) | f[o + 3]!))];
  } else if (type === 0x86dd) {
    src = [...f.subarray(o + 8, o + 24)];
    dst = [...f.subarray(o + 24, o + 40)];
    proto = f[o + 6]!;
    seg = [...f.subarray(o + 40, o + 40 + ((f[o + 4]! << 8) | f[o + 5]!))];
  } else return { ip: true, l4: true };
  if (proto === 17 && seg[6] === 0 && seg[7] === 0 && type === 0x0800) return { ip: ipOk, l4: true };
  const l4 = proto === 6 || proto === 17 || proto === 58 ? onesSum(seg, pseudo({ src, dst }, proto, seg.length)) === 0xffff : true;
  return { ip: ipOk, l4 };
}
