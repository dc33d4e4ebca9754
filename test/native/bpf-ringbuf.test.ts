// Ring-buffer records reach JS callbacks through the event loop: from a frame sent by a
// host in a namespace, and from BPF_PROG_RUN; a throwing callback does not kill the process.
import { describe, expect, test } from 'vitest';
import type { BpfMap } from '../../src/native/bpf.js';
import { attachXdp, progRun, RingBuffer, XdpAction } from '../../src/native/bpf.js';
import { Topology } from '../harness/topology.js';
import { ifindex, loadSelftest, udpFrame } from './bpf-helpers.js';

/** struct st_event { u32 ifindex; u32 len; u8 head[64]; } */
function event(r: Buffer): { ifindex: number; len: number; head: Buffer } {
  return { ifindex: r.readUInt32LE(0), len: r.readUInt32LE(4), head: r.subarray(8, 72) };
}

function nextRecords(map: BpfMap, n: number): { records: Promise<Buffer[]>; rb: RingBuffer } {
  const got: Buffer[] = [];
  let rb!: RingBuffer;
  const records = new Promise<Buffer[]>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`only ${got.length} of ${n} ring-buffer records arrived`)), 5000);
    rb = new RingBuffer(map, (r) => {
      got.push(r);
      if (got.length === n) {
        clearTimeout(timer);
        resolve(got);
      }
    });
  });
  return { records, rb };
}

describe('BPF ring buffer', () => {
  test('a frame sent in a namespace becomes a record delivered to a JS callback', async () => {
    const topo = await Topology.create();
    const [a, b] = await topo.hosts(2, '10.68.1.0/24');
    const obj = loadSelftest();
    const port = ifindex(a!.port);
    attachXdp(port, obj.program('xsw_st_event'));
    const { records, rb } = nextRecords(obj.map('st_events'), 1);
    const frame = udpFrame(a!, b!, 7777, Buffer.alloc(100, 0x5a));
    await a!.sendFrames([frame]);
    const [rec] = await records;
    rb.close();
    expect(event(rec!)).toEqual({ ifindex: port, len: frame.length, head: frame.subarray(0, 64) });
  });

  test('records from BPF_PROG_RUN arrive in order; consume() drains synchronously', async () => {
    const obj = loadSelftest();
    const prog = obj.program('xsw_st_event');
    const lens: number[] = [];
    const rb = new RingBuffer(obj.map('st_events'), (r) => lens.push(event(r).len));
    rb.unref();
    for (const n of [60, 61, 62]) expect((await progRun(prog, Buffer.alloc(n))).retval).toBe(XdpAction.PASS);
    rb.consume();
    expect(lens).toEqual([60, 61, 62]);
    rb.close();
    expect(() => rb.consume()).toThrow(/closed/);
  });

  test('a callback that throws reaches uncaughtException, the consumer and the process go on', async () => {
    const obj = loadSelftest();
    const prog = obj.program('xsw_st_event');
    const seen: number[] = [];
    const rb = new RingBuffer(obj.map('st_events'), (r) => {
      seen.push(event(r).len);
      if (seen.length === 1) throw new Error('callback failed on purpose');
    });
    const caught = new Promise<Error>((resolve) => process.once('uncaughtException', resolve));
    await progRun(prog, Buffer.alloc(70));
    expect((await caught).message).toBe('callback failed on purpose');
    await progRun(prog, Buffer.alloc(71));
    for (let i = 0; i < 100 && seen.length < 2; i++) await new Promise((r) => setTimeout(r, 20));
    rb.close();
    expect(seen).toEqual([70, 71]);
  });
});
