// Mutations (RFC 7047 §5.1 <mutation>; ovsdb/mutation.c): arithmetic on integers and
// reals with the RFC's overflow and domain errors, insert and delete on sets and maps.
import {
  canonicalInteger,
  checkAtomConstraints,
  datumFromJson,
  datumSize,
  datumSubtract,
  datumUnion,
  sortDatum,
  type Atom,
  type Datum,
  type SymbolTable,
} from './data.js';
import { ovsdbError, syntaxError, OvsdbError } from './error.js';
import type { Json } from './json.js';
import type { Column, TableSchema } from './schema.js';
import { DBL_MAX, INT64_MAX, INT64_MIN, OvsdbType, UINT_MAX } from './types.js';

export const MUTATORS = ['+=', '-=', '*=', '/=', '%=', 'insert', 'delete'] as const;
export type Mutator = (typeof MUTATORS)[number];

export interface Mutation {
  column: Column;
  mutator: Mutator;
  /** The argument's type: the column's, relaxed as the mutator allows. */
  type: OvsdbType;
  arg: Datum;
  /** For "delete" on a map: the argument is a set of keys. */
  keysOnly: boolean;
}

function typeMismatch(column: Column, mutator: Mutator, json: Json): OvsdbError {
  return syntaxError(
    json,
    null,
    `Type mismatch: "${mutator}" operator may not be applied to column ${column.name} of type ${column.type.toEnglish()}.`,
  );
}

function mutationFromJson(ts: TableSchema, json: Json, symtab: SymbolTable | null): Mutation {
  if (!Array.isArray(json) || json.length !== 3 || typeof json[0] !== 'string' || typeof json[1] !== 'string') {
    throw syntaxError(json, null, 'Parse error in mutation.');
  }
  const column = ts.column(json[0]);
  if (!column) throw syntaxError(json, 'unknown column', `No column ${json[0]} in table ${ts.name}.`);
  if (!column.mutable) {
    throw syntaxError(json, 'constraint violation', `Cannot mutate immutable column ${json[0]} in table ${ts.name}.`);
  }
  const mutator = json[1] as Mutator;
  if (!MUTATORS.includes(mutator)) throw syntaxError(undefined, 'unknown mutator', `No mutator named ${json[1]}.`);
  const ct = column.type;
  const argJson = json[2] as Json;
  switch (mutator) {
    case '+=':
    case '-=':
    case '*=':
    case '/=':
    case '%=': {
      if (
        (!ct.isScalar && !ct.isSet) ||
        (ct.key.type !== 'integer' && ct.key.type !== 'real') ||
        (mutator === '%=' && ct.key.type === 'real')
      ) {
        throw typeMismatch(column, mutator, json);
      }
      const type = new OvsdbType(ct.key.unconstrained(), null, 1, 1);
      return { column, mutator, type, arg: datumFromJson(type, argJson, symtab), keysOnly: false };
    }
    default: {
      if (!ct.isSet && !ct.isMap) throw typeMismatch(column, mutator, json);
      const type = ct.withBounds(0, mutator === 'delete' ? UINT_MAX : ct.max);
      try {
        return { column, mutator, type, arg: datumFromJson(type, argJson, symtab), keysOnly: false };
      } catch (e) {
        if (!(e instanceof OvsdbError) || !ct.isMap || mutator !== 'delete') throw e;
        // "delete" on a map also takes a set of keys.
        const keys = new OvsdbType(ct.key, null, 0, UINT_MAX);
        return { column, mutator, type: keys, arg: datumFromJson(keys, argJson, symtab), keysOnly: true };
      }
    }
  }
}

export function mutationsFromJson(ts: TableSchema, json: Json[], symtab: SymbolTable | null): Mutation[] {
  return json.map((m) => mutationFromJson(ts, m, symtab));
}

const I64_MIN = INT64_MIN;
const I64_MAX = INT64_MAX;

function rangeError(mutator: Mutator): OvsdbError {
  return ovsdbError('range error', `Result of "${mutator}" operation is out of range.`);
}

function mutateInteger(x: number | bigint, y: number | bigint, mutator: Mutator): number | bigint {
  const a = BigInt(x);
  const b = BigInt(y);
  if ((mutator === '/=' || mutator === '%=') && b === 0n) throw ovsdbError('domain error', 'Division by zero.');
  if ((mutator === '/=' || mutator === '%=') && a === I64_MIN && b === -1n) throw rangeError(mutator);
  let r: bigint;
  switch (mutator) {
    case '+=':
      r = a + b;
      break;
    case '-=':
      r = a - b;
      break;
    case '*=':
      r = a * b;
      break;
    case '/=':
      r = a / b;
      break;
    default:
      r = a % b;
  }
  if (r < I64_MIN || r > I64_MAX) throw rangeError(mutator);
  return canonicalInteger(r);
}

function mutateReal(x: number, y: number, mutator: Mutator): number {
  let r: number;
  switch (mutator) {
    case '+=':
      r = x + y;
      break;
    case '-=':
      r = x - y;
      break;
    case '*=':
      r = x * y;
      break;
    default:
      if (y === 0) throw ovsdbError('domain error', 'Division by zero.');
      r = x / y;
  }
  if (!(r >= -DBL_MAX && r <= DBL_MAX)) throw rangeError(mutator);
  return r === 0 ? 0 : r;
}

/** Applies `m` to datum `dst` of `m.column`; returns the new datum. */
export function applyMutation(dst: Datum, m: Mutation): Datum {
  const ct = m.column.type;
  switch (m.mutator) {
    case 'insert': {
      const out = datumUnion(dst, m.arg, ct);
      checkCount(out, ct);
      return out;
    }
    case 'delete': {
      const out = datumSubtract(dst, ct, m.arg, m.keysOnly);
      checkCount(out, ct);
      return out;
    }
    default: {
      const y = m.arg[0] as Atom;
      const out: Atom[] = new Array(dst.length);
      for (let i = 0; i < dst.length; i++) {
        out[i] =
          ct.key.type === 'integer'
            ? mutateInteger(dst[i] as number | bigint, y as number | bigint, m.mutator)
            : mutateReal(dst[i] as number, Number(y), m.mutator);
      }
      for (const a of out) {
        const e = checkAtomConstraints(a, ct.key);
        if (e) throw e;
      }
      try {
        return sortDatum(out, ct);
      } catch {
        throw ovsdbError('constraint violation', `Result of "${m.mutator}" operation contains duplicates.`);
      }
    }
  }
}

function checkCount(d: Datum, type: OvsdbType): void {
  const n = datumSize(d, type);
  if (n < type.min || n > type.max) {
    throw ovsdbError('constraint violation', `Attempted to store ${n} elements in ${type.toEnglish()}.`);
  }
}
