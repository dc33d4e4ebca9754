// test/openflow/fuzz-endpoint.test.ts — hostile peers against a live endpoint: random
// well-framed messages (random type and body) and mutated real requests. The session
// must answer each with a reply or an OFPT_ERROR and still answer a BARRIER after; the
// process must not throw.
import fc from 'fast-check';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { encodeMessage, OpenFlowEndpoint, silentLogger, type Message } from '../../src/openflow/index.js';
import { messageArb, messageTypes } from './arbitrary.js';
import { RawClient } from './raw-client.js';
import { TestSwitch } from './test-switch.js';

let ep: OpenFlowEndpoint;
let port: number;
const errors: string[] = [];

beforeAll(async () => {
  ep = new OpenFlowEndpoint({
    handler: new TestSwitch(),
    probeIntervalMs: 0,
    log: { ...silentLogger, error: (m) => errors.push(m) },
  });
  port = (await ep.listen('ptcp:0:127.0.0.1')).port!;
});
afterAll(() => ep.close());

/** Sends frames, then a barrier; true if the barrier came back. */
async function survives(frames: Uint8Array[]): Promise<boolean> {
  const c = await RawClient.connect(port);
  try {
    for (const f of frames) c.sendBytes(f);
    c.send({ type: 'BARRIER_REQUEST', xid: 0xfeed });
    await c.next('BARRIER_REPLY', (m) => m.xid === 0xfeed, 5000);
    return true;
  } finally {
    c.close();
  }
}

const framed = (type: number, body: Uint8Array) => {
  const b = new Uint8Array(8 + body.length);
  b.set([4, type, (b.length >> 8) & 0xff, b.length & 0xff, 0, 0, 0, 9]);
  b.set(body, 8);
  return b;
};

test('random messages never take a session down', async () => {
  // Types 1..35: every message type and some past the last; HELLO has its own tests.
  const frame = fc.tuple(fc.integer({ min: 1, max: 35 }), fc.uint8Array({ maxLength: 120 })).map(([t, b]) => framed(t, b));
  await fc.assert(fc.asyncProperty(fc.array(frame, { minLength: 1, maxLength: 8 }), survives), { numRuns: 60 });
  expect(errors).toEqual([]);
});

test('mutated valid messages never take a session down', async () => {
  const mutated = fc
    .tuple(fc.constantFrom(...messageTypes.filter((t) => t !== 'HELLO')).chain(messageArb), fc.array(fc.tuple(fc.nat(), fc.nat(255)), { maxLength: 3 }))
    .map(([m, flips]) => {
      const b = encodeMessage({ ...(m as Message), xid: 9 } as Message);
      for (const [at, v] of flips) if (b.length > 8) b[8 + (at % (b.length - 8))] = v;
      return b;
    });
  await fc.assert(fc.asyncProperty(fc.array(mutated, { minLength: 1, maxLength: 6 }), survives), { numRuns: 60 });
  expect(errors).toEqual([]);
});
