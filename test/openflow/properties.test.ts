// test/openflow/properties.test.ts — fast-check: decode(encode(m)) = m for generated
// messages of every declared type, and hostile bytes (random, truncated, mutated)
// give a message or an OfpError, never an exception.
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { decodeMessage, encodeMessage, OfpError } from '../../proto/openflow/index.js';
import { messageArb, messageTypes } from './arbitrary.js';

const runs = { numRuns: 150 };

describe('decode(encode(m)) = m', () => {
  test.each(messageTypes)('%s', (type) => {
    fc.assert(
      fc.property(messageArb(type), (m) => {
        const bytes = encodeMessage(m);
        expect(decodeMessage(bytes)).toEqual(m);
      }),
      runs,
    );
  });
});

/** Decodes to an OfpError, or to a message that encodes again (whatever a peer sends, we can echo). */
function neverThrows(bytes: Uint8Array): boolean {
  const got = decodeMessage(bytes);
  if (!(got instanceof OfpError)) encodeMessage(got);
  return true;
}

describe('hostile bytes', () => {
  test('random bytes with a plausible header', () => {
    fc.assert(
      fc.property(fc.nat(40), fc.uint8Array({ maxLength: 200 }), (type, body) => {
        const b = new Uint8Array(8 + body.length);
        b.set([4, type, (b.length >> 8) & 0xff, b.length & 0xff, 0, 0, 0, 1]);
        b.set(body, 8);
        return neverThrows(b);
      }),
      { numRuns: 3000 },
    );
  });

  test('truncated and mutated valid messages', () => {
    const any = fc.constantFrom(...messageTypes).chain(messageArb);
    fc.assert(
      fc.property(any, fc.nat(), fc.array(fc.tuple(fc.nat(), fc.nat(255)), { maxLength: 4 }), (m, cut, flips) => {
        const full = encodeMessage(m);
        const len = 8 + (cut % (full.length - 7));
        const b = full.slice(0, len);
        for (const [at, v] of flips) if (len > 8) b[8 + (at % (len - 8))] = v;
        b[2] = len >> 8;
        b[3] = len & 0xff;
        return neverThrows(b);
      }),
      { numRuns: 3000 },
    );
  });
});
