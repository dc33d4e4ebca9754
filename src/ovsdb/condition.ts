// Conditions (RFC 7047 §5.1 <condition>; ovsdb/condition.c): clauses parsed against a
// table schema, sorted as ovsdb-server sorts them, evaluated on a row's fields.
import {
  compareAtoms,
  compareDatums,
  datumEquals,
  datumFromJson,
  excludesAll,
  includesAll,
  type Atom,
  type Datum,
  type SymbolTable,
} from './data.js';
import { syntaxError } from './error.js';
import type { Json } from './json.js';
import { COL_UUID, type Column, type TableSchema } from './schema.js';
import { UINT_MAX, type OvsdbType } from './types.js';

/** In ovsdb-server's order, which is also its preference when sorting clauses. */
export const FUNCTIONS = ['false', 'true', '==', 'includes', '<=', '<', '>=', '>', 'excludes', '!='] as const;
export type ConditionFunction = (typeof FUNCTIONS)[number];
const F_FALSE = 0;
const F_TRUE = 1;
const F_EQ = 2;
const F_INCLUDES = 3;
const F_LE = 4;
const F_LT = 5;
const F_GE = 6;
const F_GT = 7;
const F_EXCLUDES = 8;
const F_NE = 9;

export interface Clause {
  fn: number;
  column: Column;
  arg: Datum;
}

function clauseFromJson(ts: TableSchema, json: Json, symtab: SymbolTable | null): Clause {
  if (json === true || json === false) {
    return { fn: json ? F_TRUE : F_FALSE, column: ts.column('_uuid') as Column, arg: [] };
  }
  if (!Array.isArray(json) || json.length !== 3 || typeof json[0] !== 'string' || typeof json[1] !== 'string') {
    throw syntaxError(json, null, 'Parse error in condition.');
  }
  const column = ts.column(json[0]);
  if (!column) throw syntaxError(json, 'unknown column', `No column ${json[0]} in table ${ts.name}.`);
  const fn = FUNCTIONS.indexOf(json[1] as ConditionFunction);
  if (fn < 0) throw syntaxError(undefined, 'unknown function', `No function named ${json[1]}.`);
  let type: OvsdbType = column.type;
  switch (fn) {
    case F_LT:
    case F_LE:
    case F_GT:
    case F_GE:
      if (!(type.isScalar || type.isOptionalScalar) || (type.key.type !== 'integer' && type.key.type !== 'real')) {
        throw syntaxError(
          json,
          null,
          `Type mismatch: "${FUNCTIONS[fn]}" operator may not be applied to column ${column.name} of type ${type.toEnglish()}.`,
        );
      }
      type = type.withBounds(1, type.max);
      break;
    case F_EXCLUDES:
      if (!type.isScalar) type = type.withBounds(0, UINT_MAX);
      break;
    case F_INCLUDES:
      if (!type.isScalar) type = type.withBounds(0, type.max);
      break;
  }
  return { fn, column, arg: datumFromJson(type, json[2] as Json, symtab) };
}

function compareClauses(a: Clause, b: Clause): number {
  if (a.fn !== b.fn) return a.fn < b.fn ? -1 : 1;
  if (a.column.index !== b.column.index) {
    if (a.column.index < 2 || b.column.index < 2) return a.column.index < b.column.index ? -1 : 1;
    return a.column.name < b.column.name ? -1 : a.column.name > b.column.name ? 1 : 0;
  }
  return compareDatums(a.arg, b.arg, a.column.type);
}

/** ovsdb_condition_from_json(); `json` is the "where" array. */
export function conditionFromJson(ts: TableSchema, json: Json[], symtab: SymbolTable | null): Clause[] {
  const clauses = json.map((c) => clauseFromJson(ts, c, symtab));
  return clauses.sort(compareClauses);
}

export function conditionsEqual(a: Clause[], b: Clause[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (compareClauses(a[i] as Clause, b[i] as Clause)) return false;
  return true;
}

/** What a clause reads: a row's datum by column index. */
export interface Fields {
  get(i: number): Datum;
}

export function evaluateClause(row: Fields, c: Clause): boolean {
  if (c.fn <= F_TRUE) return c.fn === F_TRUE;
  const field = row.get(c.column.index);
  const arg = c.arg;
  const type = c.column.type;
  const scalarish = type.isScalar || type.isOptionalScalar;
  if (scalarish && field.length === 0 && c.fn >= F_LE && c.fn <= F_GT) return false;
  if (scalarish && field.length === 1 && arg.length === 1) {
    const cmp = compareAtoms(field[0] as Atom, arg[0] as Atom);
    switch (c.fn) {
      case F_LT:
        return cmp < 0;
      case F_LE:
        return cmp <= 0;
      case F_EQ:
      case F_INCLUDES:
        return cmp === 0;
      case F_NE:
      case F_EXCLUDES:
        return cmp !== 0;
      case F_GE:
        return cmp >= 0;
      default:
        return cmp > 0;
    }
  }
  switch (c.fn) {
    case F_EQ:
      return datumEquals(field, arg);
    case F_NE:
      return !datumEquals(field, arg);
    case F_INCLUDES:
      return includesAll(arg, field, type);
    case F_EXCLUDES:
      return excludesAll(arg, field, type);
    default:
      return false;
  }
}

export function matchesAll(row: Fields, clauses: Clause[]): boolean {
  for (const c of clauses) if (!evaluateClause(row, c)) return false;
  return true;
}

/** ovsdb_condition_empty_or_match_any(): monitor_cond's reading of a condition. */
export function matchesAny(row: Fields, clauses: Clause[]): boolean {
  if (clauses.length === 0) return true;
  for (const c of clauses) if (evaluateClause(row, c)) return true;
  return false;
}

/** ovsdb_condition_is_true(). */
export function conditionIsTrue(clauses: Clause[]): boolean {
  return clauses.length === 0 || clauses[0]?.fn === F_TRUE || clauses[1]?.fn === F_TRUE;
}

/** The UUID a condition pins down, when its first clause is `_uuid == X`. */
export function uuidLookup(clauses: Clause[]): string | null {
  const c = clauses[0];
  return c && c.fn === F_EQ && c.column.index === COL_UUID ? (c.arg[0] as string) : null;
}

/** An `==` clause on a one-column index, for an index lookup. */
export function indexLookup(ts: TableSchema, clauses: Clause[]): { index: number; clause: Clause } | null {
  for (const c of clauses) {
    if (c.fn !== F_EQ) continue;
    for (let i = 0; i < ts.indexes.length; i++) {
      const idx = ts.indexes[i] as Column[];
      if (idx.length === 1 && idx[0] === c.column) return { index: i, clause: c };
    }
  }
  return null;
}
