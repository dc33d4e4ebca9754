// Datums as text: the direct writer of log records gives the bytes that serializing
// the datum's JSON form gives, for every atomic type, in atoms, sets and maps.
import { describe, test } from 'vitest';
import fc from 'fast-check';
import { datumToJson, datumToText, type Atom } from '../../src/ovsdb/data.js';
import { stringify } from '../../src/ovsdb/json.js';
import { BaseType, OvsdbType } from '../../src/ovsdb/types.js';
import type { AtomicType } from '../../src/ovsdb/types.js';

const atoms: Record<AtomicType, fc.Arbitrary<Atom>> = {
  integer: fc.oneof(fc.integer(), fc.bigInt(-(2n ** 63n), 2n ** 63n - 1n).filter((b) => b > BigInt(Number.MAX_SAFE_INTEGER) || b < BigInt(Number.MIN_SAFE_INTEGER))),
  real: fc.double({ noNaN: true, noDefaultInfinity: true }),
  boolean: fc.boolean(),
  string: fc.string({ unit: 'binary' }),
  uuid: fc.uuid(),
};
const kinds = Object.keys(atoms) as AtomicType[];

describe('datumToText', () => {
  test.each(kinds)('equals stringify(datumToJson()) for %s keys, with every value type', (kt) => {
    for (const vt of [null, ...kinds]) {
      const type = new OvsdbType(new BaseType(kt), vt ? new BaseType(vt) : null, 0, Infinity);
      const datum = vt
        ? fc.array(fc.tuple(atoms[kt], atoms[vt]), { maxLength: 5 }).map((pairs) => pairs.flat())
        : fc.array(atoms[kt], { maxLength: 5 });
      fc.assert(fc.property(datum, (d) => datumToText(d, type) === stringify(datumToJson(d, type))), { numRuns: 200 });
    }
  });
});
