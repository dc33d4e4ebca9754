// Shared by test/native/bpf*.test.ts: the self-test object, byte helpers, ifindexes and
// throwaway bpffs pin directories removed after each test.
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { afterEach } from 'vitest';
import { BpfObject, BPFFS_ROOT, ensureBpffs, type OpenOptions } from '../../src/native/bpf.js';
import { bpfObjectPath } from '../../src/native/paths.js';
import type { Host } from '../harness/topology.js';

export const SELFTEST = bpfObjectPath('selftest');

const objects: BpfObject[] = [];
const pinDirs: string[] = [];

/** Loads bpf/selftest.bpf.c's object; closed after the test. */
export function loadSelftest(opts: OpenOptions = {}): BpfObject {
  const obj = BpfObject.load(SELFTEST, opts);
  objects.push(obj);
  return obj;
}

/** A fresh directory under /sys/fs/bpf, removed with everything pinned in it after the test. */
export function tempPinDir(): string {
  ensureBpffs();
  const dir = `${BPFFS_ROOT}/xsw-test-${randomBytes(4).toString('hex')}`;
  pinDirs.push(dir);
  mkdirSync(dir, { mode: 0o700 });
  return dir;
}

afterEach(() => {
  for (const o of objects.splice(0)) o.close();
  for (const d of pinDirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** ifindex of a device in the root namespace. */
export function ifindex(name: string): number {
  return Number(readFileSync(`/sys/class/net/${name}/ifindex`, 'utf8').trim());
}

export function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(n);
  return b;
}

export function u64(n: bigint | number): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(BigInt(n));
  return b;
}

/** struct st_counter { u64 packets; u64 bytes; } */
export function counter(v: Buffer): { packets: bigint; bytes: bigint } {
  return { packets: v.readBigUInt64LE(0), bytes: v.readBigUInt64LE(8) };
}

function macBytes(mac: string): Buffer {
  return Buffer.from(mac.split(':').map((x) => parseInt(x, 16)));
}

function ipBytes(ip: string): Buffer {
  return Buffer.from(ip.split('.').map(Number));
}

/** An Ethernet/IPv4/UDP frame from `src` to `dst` (valid IP checksum, UDP checksum 0). */
export function udpFrame(src: Host, dst: Host, dport: number, payload: Buffer = Buffer.alloc(18)): Buffer {
  const ip = Buffer.alloc(20);
  ip[0] = 0x45;
  ip.writeUInt16BE(20 + 8 + payload.length, 2);
  ip[8] = 64; // TTL
  ip[9] = 17; // UDP
  ipBytes(src.ip).copy(ip, 12);
  ipBytes(dst.ip).copy(ip, 16);
  let sum = 0;
  for (let i = 0; i < 20; i += 2) sum += ip.readUInt16BE(i);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  ip.writeUInt16BE(~sum & 0xffff, 10);
  const udp = Buffer.alloc(8);
  udp.writeUInt16BE(40000, 0);
  udp.writeUInt16BE(dport, 2);
  udp.writeUInt16BE(8 + payload.length, 4);
  const eth = Buffer.concat([macBytes(dst.mac), macBytes(src.mac), Buffer.from([0x08, 0x00])]);
  return Buffer.concat([eth, ip, udp, payload]);
}

/** Runs iperf3 from `client` to `server` for `seconds`; resolves to bytes received. */
export async function iperf(client: Host, server: Host, seconds = 2): Promise<number> {
  const srv = server.spawn(['iperf3', '-s', '-1', '-B', server.ip, '--forceflush']);
  let out = '';
  srv.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  const deadline = Date.now() + 10_000;
  while (!out.includes('Server listening')) {
    if (Date.now() > deadline || srv.exitCode !== null) throw new Error(`iperf3 server did not start: ${out}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  const r = await client.exec(['iperf3', '-c', server.ip, '-t', String(seconds), '-J'], { timeoutMs: (seconds + 20) * 1000 });
  const j = JSON.parse(r.stdout) as { end: { sum_received: { bytes: number } } };
  return j.end.sum_received.bytes;
}
