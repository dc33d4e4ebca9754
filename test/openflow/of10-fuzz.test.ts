// test/openflow/of10-fuzz.test.ts — hostile OpenFlow 1.0 peers against a live endpoint:
// random well-framed 1.0 messages and mutated valid ones. Each session must keep
// answering (a BARRIER after them comes back), everything the switch sends must be
// valid 1.0, and nothing may reach the endpoint's error log.
import net from 'node:net';
import fc from 'fast-check';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { decodeMessage10, encodeMessage10, Framer, message10Registry, OfpError, OpenFlowEndpoint, silentLogger, type Message10 } from '../../src/openflow/index.js';
import { rowArb } from './arbitrary.js';
import { TestSwitch } from './test-switch.js';

let ep: OpenFlowEndpoint;
let port: number;
const errors: string[] = [];

beforeAll(async () => {
  ep = new OpenFlowEndpoint({ handler: new TestSwitch(), probeIntervalMs: 0, log: { ...silentLogger, error: (m) => errors.push(m) } });
  port = (await ep.listen('ptcp:0:127.0.0.1')).port!;
});
afterAll(() => ep.close());

/** Speaks 1.0 (a HELLO of version 1, no bitmap), sends `frames` and a barrier; true if the barrier came back. */
async function survives(frames: Uint8Array[]): Promise<boolean> {
  const s = net.connect(port, '127.0.0.1');
  const framer = new Framer();
  const got: Message10[] = [];
  const bad: string[] = [];
  let closed = false;
  let wake = () => undefined as void;
  s.on('data', (chunk) => {
    for (const f of framer.push(new Uint8Array(chunk))) {
      // The switch's HELLO carries its highest version and a bitmap, as OVS's does.
      if (f[1] === 0) continue;
      const m = decodeMessage10(f);
      if (m instanceof OfpError) bad.push(`${m.message}: ${Buffer.from(f).toString('hex')}`);
      else got.push(m);
    }
    wake();
  });
  s.on('close', () => ((closed = true), wake()));
  s.on('error', () => undefined);
  try {
    await new Promise<void>((res, rej) => s.once('connect', res).once('error', rej));
    s.write(encodeMessage10({ type: 'HELLO', xid: 1, elements: new Uint8Array(0) }));
    for (const f of frames) s.write(f);
    s.write(encodeMessage10({ type: 'BARRIER_REQUEST', xid: 0xfeed }));
    const deadline = Date.now() + 5000;
    while (!got.some((m) => m.type === 'BARRIER_REPLY' && m.xid === 0xfeed)) {
      if (closed || Date.now() > deadline) return false;
      await new Promise<void>((res) => {
        wake = res;
        setTimeout(res, 50);
      });
    }
    expect(bad).toEqual([]);
    return true;
  } finally {
    s.destroy();
  }
}

const framed = (type: number, body: Uint8Array) => {
  const b = new Uint8Array(8 + body.length);
  b.set([1, type, (b.length >> 8) & 0xff, b.length & 0xff, 0, 0, 0, 9]);
  b.set(body, 8);
  return b;
};

test('random 1.0 messages never take a session down', async () => {
  // Types 1..24: every 1.0 message type and some past the last; HELLO belongs to the handshake.
  const frame = fc.tuple(fc.integer({ min: 1, max: 24 }), fc.uint8Array({ maxLength: 120 })).map(([t, b]) => framed(t, b));
  await fc.assert(fc.asyncProperty(fc.array(frame, { minLength: 1, maxLength: 8 }), survives), { numRuns: 60 });
  expect(errors).toEqual([]);
});

test('mutated valid 1.0 messages never take a session down', async () => {
  const types = Object.keys(message10Registry.rows).filter((t) => t !== 'HELLO');
  const mutated = fc
    .tuple(fc.constantFrom(...types).chain((t) => rowArb(t, message10Registry.rows[t]!) as fc.Arbitrary<Message10>), fc.array(fc.tuple(fc.nat(), fc.nat(255)), { maxLength: 3 }))
    .map(([m, flips]) => {
      const b = encodeMessage10({ ...m, xid: 9 });
      for (const [at, v] of flips) if (b.length > 8) b[8 + (at % (b.length - 8))] = v;
      return b;
    });
  await fc.assert(fc.asyncProperty(fc.array(mutated, { minLength: 1, maxLength: 6 }), survives), { numRuns: 60 });
  expect(errors).toEqual([]);
});
