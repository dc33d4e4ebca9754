// Atoms and datums (RFC 7047 §5.1; lib/ovsdb-data.c). A datum is an immutable sorted
// array: a set's atoms, or a map's pairs flattened as [k0, v0, k1, v1, ...]. Rows
// share datums between versions, so nothing here mutates its arguments.
import { ovsdbError, syntaxError, type OvsdbError } from './error.js';
import { formatReal, isInteger, isNumber, stringify, type Json } from './json.js';
import { isId } from './parser.js';
import { enumType, INT64_MAX, INT64_MIN, DBL_MAX, UINT_MAX, type AtomicType, type BaseType, type OvsdbType } from './types.js';

/** integer: number (or bigint past 2^53); real: number; boolean; string; uuid: string. */
export type Atom = number | bigint | boolean | string;
export type Datum = readonly Atom[];

export const EMPTY: Datum = Object.freeze([]) as Datum;

const UUID_RE = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;
export const UUID_ZERO = '00000000-0000-0000-0000-000000000000';

export function isUuid(s: string): boolean {
  return s.length === 36 && UUID_RE.test(s);
}

/** Canonical form of a parsed integer: a number whenever it is exact as one. */
export function canonicalInteger(v: number | bigint): number | bigint {
  if (typeof v === 'bigint' && v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER)) return Number(v);
  return typeof v === 'number' && Object.is(v, -0) ? 0 : v;
}

// ---------------------------------------------------------------------------------
// Symbols: "named-uuid" names within one transaction.

export interface UuidSymbol {
  uuid: string;
  /** An insert created a row with this name. */
  created: boolean;
  strongRef: boolean;
  weakRef: boolean;
}

export class SymbolTable {
  private readonly symbols = new Map<string, UuidSymbol>();
  constructor(private readonly newUuid: () => string) {}

  get(name: string): UuidSymbol | undefined {
    return this.symbols.get(name);
  }

  insert(name: string): UuidSymbol {
    let s = this.symbols.get(name);
    if (!s) this.symbols.set(name, (s = { uuid: this.newUuid(), created: false, strongRef: false, weakRef: false }));
    return s;
  }

  entries(): IterableIterator<[string, UuidSymbol]> {
    return this.symbols.entries();
  }
}

// ---------------------------------------------------------------------------------
// Atoms.

export function defaultAtom(t: AtomicType): Atom {
  switch (t) {
    case 'integer':
    case 'real':
      return 0;
    case 'boolean':
      return false;
    case 'string':
      return '';
    case 'uuid':
      return UUID_ZERO;
  }
}

export function compareAtoms(a: Atom, b: Atom): number {
  // Numbers (mixed with bigints), strings and uuids all order with < and >.
  if (typeof a === 'boolean') return Number(a) - Number(b as boolean);
  return a < b ? -1 : a > b ? 1 : 0;
}

function unwrapError(json: Json, name: string, valueType: string): OvsdbError {
  return syntaxError(json, null, `expected ["${name}", <${valueType}>]`);
}

function parseUuidAtom(json: Json, base: BaseType, symtab: SymbolTable | null): string {
  if (Array.isArray(json) && json.length === 2 && typeof json[0] === 'string' && typeof json[1] === 'string') {
    if (json[0] === 'uuid') {
      const s = json[1];
      if (!isUuid(s)) throw syntaxError(json, null, `"${s}" is not a valid UUID`);
      return s.toLowerCase();
    }
    if (symtab && json[0] === 'named-uuid') {
      const name = json[1];
      if (!isId(name)) throw syntaxError(json, null, 'named-uuid string is not a valid <id>');
      const sym = symtab.insert(name);
      if (base.refTableName !== null) {
        if (base.refType === 'strong') sym.strongRef = true;
        else sym.weakRef = true;
      }
      return sym.uuid;
    }
  }
  throw unwrapError(json, 'uuid', 'string');
}

/** ovsdb_atom_from_json(), constraints included. */
export function atomFromJson(base: BaseType, json: Json, symtab: SymbolTable | null): Atom {
  let atom: Atom;
  switch (base.type) {
    case 'integer':
      if (!isInteger(json)) throw syntaxError(json, null, 'expected integer');
      atom = canonicalInteger(json);
      break;
    case 'real':
      if (!isNumber(json)) throw syntaxError(json, null, 'expected real');
      atom = Number(json);
      if (Object.is(atom, -0)) atom = 0;
      break;
    case 'boolean':
      if (typeof json !== 'boolean') throw syntaxError(json, null, 'expected boolean');
      atom = json;
      break;
    case 'string':
      if (typeof json !== 'string') throw syntaxError(json, null, 'expected string');
      atom = json;
      break;
    case 'uuid':
      return parseUuidAtom(json, base, symtab);
  }
  const error = checkAtomConstraints(atom, base);
  if (error) throw error;
  return atom;
}

export function atomToJson(atom: Atom, t: AtomicType): Json {
  if (t === 'uuid') return ['uuid', atom as string];
  if (t === 'real') {
    const r = atom as number;
    return Number.isInteger(r) && Math.abs(r) < 1e15 ? r : Number(r.toPrecision(15));
  }
  return atom as Json;
}

/** True if `s` must be quoted to read back as a string (ovsdb_atom_to_string()). */
function stringNeedsQuotes(s: string): boolean {
  if (!/^[A-Za-z_][A-Za-z0-9_.-]*$/.test(s)) return true;
  return s === 'true' || s === 'false' || isUuid(s);
}

/** ovsdb_atom_to_string(): the form ovs-vsctl reads and error messages show. */
export function atomToString(atom: Atom, t: AtomicType): string {
  switch (t) {
    case 'real':
      return formatReal(atom as number);
    case 'string':
      return stringNeedsQuotes(atom as string) ? JSON.stringify(atom) : (atom as string);
    default:
      return String(atom);
  }
}

/** ovsdb_datum_to_string(). */
export function datumToString(d: Datum, type: OvsdbType): string {
  const isMap = type.value !== null;
  const parts: string[] = [];
  if (isMap) {
    for (let i = 0; i < d.length; i += 2) {
      parts.push(`${atomToString(d[i] as Atom, type.key.type)}=${atomToString(d[i + 1] as Atom, (type.value as BaseType).type)}`);
    }
  } else {
    for (const a of d) parts.push(atomToString(a, type.key.type));
  }
  const s = parts.join(', ');
  return type.max > 1 || d.length === 0 ? (isMap ? `{${s}}` : `[${s}]`) : s;
}

function countChars(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0xd800 || c > 0xdbff) n++;
  }
  return n;
}

/** ovsdb_atom_check_constraints(); references are checked at commit. */
export function checkAtomConstraints(atom: Atom, base: BaseType): OvsdbError | null {
  if (base.enum && findKey(base.enum, atom, 1) < 0) {
    return ovsdbError(
      'constraint violation',
      `${atomToString(atom, base.type)} is not one of the allowed values (${datumToString(base.enum, enumType(base.type))})`,
    );
  }
  switch (base.type) {
    case 'integer': {
      const v = atom as number | bigint;
      if (v >= base.minInteger && v <= base.maxInteger) return null;
      if (base.minInteger !== INT64_MIN) {
        if (base.maxInteger !== INT64_MAX) {
          return ovsdbError('constraint violation', `${v} is not in the valid range ${base.minInteger} to ${base.maxInteger} (inclusive)`);
        }
        return ovsdbError('constraint violation', `${v} is less than minimum allowed value ${base.minInteger}`);
      }
      return ovsdbError('constraint violation', `${v} is greater than maximum allowed value ${base.maxInteger}`);
    }
    case 'real': {
      const v = atom as number;
      if (v >= base.minReal && v <= base.maxReal) return null;
      const f = formatReal;
      if (base.minReal !== -DBL_MAX) {
        if (base.maxReal !== DBL_MAX) {
          return ovsdbError('constraint violation', `${f(v)} is not in the valid range ${f(base.minReal)} to ${f(base.maxReal)} (inclusive)`);
        }
        return ovsdbError('constraint violation', `${f(v)} is less than minimum allowed value ${f(base.minReal)}`);
      }
      return ovsdbError('constraint violation', `${f(v)} is greater than maximum allowed value ${f(base.maxReal)}`);
    }
    case 'string': {
      if (base.minLength === 0 && base.maxLength === UINT_MAX) return null;
      const s = atom as string;
      const n = countChars(s);
      if (n < base.minLength) {
        return ovsdbError('constraint violation', `"${s}" length ${n} is less than minimum allowed length ${base.minLength}`);
      }
      if (n > base.maxLength) {
        return ovsdbError('constraint violation', `"${s}" length ${n} is greater than maximum allowed length ${base.maxLength}`);
      }
      return null;
    }
    default:
      return null;
  }
}

// ---------------------------------------------------------------------------------
// Datums.

/** RFC 7047 default: empty if min is 0, else one default atom (or pair). */
export function defaultDatum(type: OvsdbType): Datum {
  if (type.dflt) return type.dflt;
  if (type.min === 0) return (type.dflt = EMPTY);
  return (type.dflt = Object.freeze(
    type.value ? [defaultAtom(type.key.type), defaultAtom(type.value.type)] : [defaultAtom(type.key.type)],
  ));
}

export function isDefaultDatum(d: Datum, type: OvsdbType): boolean {
  return datumEquals(d, defaultDatum(type));
}

/** Number of elements (pairs, for a map). */
export function datumSize(d: Datum, type: OvsdbType): number {
  return type.value ? d.length >> 1 : d.length;
}

export function datumEquals(a: Datum, b: Datum): boolean {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** ovsdb_datum_compare_3way(): by size, then keys, then values. */
export function compareDatums(a: Datum, b: Datum, type: OvsdbType): number {
  if (a.length !== b.length) return a.length < b.length ? -1 : 1;
  const step = type.value ? 2 : 1;
  for (let i = 0; i < a.length; i += step) {
    const c = compareAtoms(a[i] as Atom, b[i] as Atom);
    if (c) return c;
  }
  if (step === 2) {
    for (let i = 1; i < a.length; i += 2) {
      const c = compareAtoms(a[i] as Atom, b[i] as Atom);
      if (c) return c;
    }
  }
  return 0;
}

/** Binary search for `key`; returns its element index, or -(insertion point) - 1. */
export function findKey(d: Datum, key: Atom, step: number): number {
  let lo = 0;
  let hi = d.length / step;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    const c = compareAtoms(key, d[mid * step] as Atom);
    if (c < 0) hi = mid;
    else if (c > 0) lo = mid + 1;
    else return mid;
  }
  return -lo - 1;
}

/** Sorts a freshly parsed datum; duplicates are an error (ovsdb_datum_sort()). */
export function sortDatum(d: Atom[], type: OvsdbType): Datum {
  if (type.value) {
    const n = d.length >> 1;
    if (n < 2) return d;
    let sorted = true;
    for (let i = 2; i < d.length; i += 2) {
      const c = compareAtoms(d[i - 2] as Atom, d[i] as Atom);
      if (c === 0) throw ovsdbError('ovsdb error', 'map contains duplicate key');
      if (c > 0) sorted = false;
    }
    if (sorted) return d;
    const idx = Array.from({ length: n }, (_, i) => i);
    idx.sort((x, y) => compareAtoms(d[x * 2] as Atom, d[y * 2] as Atom));
    const out: Atom[] = new Array(d.length);
    for (let i = 0; i < n; i++) {
      out[i * 2] = d[(idx[i] as number) * 2] as Atom;
      out[i * 2 + 1] = d[(idx[i] as number) * 2 + 1] as Atom;
      if (i && compareAtoms(out[i * 2 - 2] as Atom, out[i * 2] as Atom) === 0) {
        throw ovsdbError('ovsdb error', 'map contains duplicate key');
      }
    }
    return out;
  }
  if (d.length < 2) return d;
  let sorted = true;
  for (let i = 1; i < d.length; i++) {
    const c = compareAtoms(d[i - 1] as Atom, d[i] as Atom);
    if (c === 0) throw ovsdbError('ovsdb error', 'set contains duplicate');
    if (c > 0) sorted = false;
  }
  if (sorted) return d;
  d.sort(compareAtoms);
  for (let i = 1; i < d.length; i++) {
    if (compareAtoms(d[i - 1] as Atom, d[i] as Atom) === 0) throw ovsdbError('ovsdb error', 'set contains duplicate');
  }
  return d;
}

/** ovsdb_datum_from_json(): parses, checks the element count and constraints, sorts. */
export function datumFromJson(type: OvsdbType, json: Json, symtab: SymbolTable | null): Datum {
  const isMap = type.value !== null;
  if (isMap || (Array.isArray(json) && json.length > 0 && json[0] === 'set')) {
    const cls = isMap ? 'map' : 'set';
    if (!Array.isArray(json) || json.length !== 2 || json[0] !== cls || !Array.isArray(json[1])) {
      throw unwrapError(json, cls, 'array');
    }
    const inner = json[1];
    const n = inner.length;
    if (n < type.min || n > type.max) {
      if (type.min === 1 && type.max === 1) {
        throw syntaxError(json, null, `${cls} must have exactly one member but ${n} are present`);
      }
      throw syntaxError(json, null, `${cls} must have ${type.min} to ${type.max} members but ${n} are present`);
    }
    if (n === 0) return EMPTY;
    const out: Atom[] = new Array(isMap ? n * 2 : n);
    for (let i = 0; i < n; i++) {
      const el = inner[i] as Json;
      if (isMap) {
        if (!Array.isArray(el) || el.length !== 2) throw syntaxError(el, null, 'expected 2-element array');
        out[i * 2] = atomFromJson(type.key, el[0] as Json, symtab);
        out[i * 2 + 1] = atomFromJson(type.value as BaseType, el[1] as Json, symtab);
      } else {
        out[i] = atomFromJson(type.key, el, symtab);
      }
    }
    return sortDatum(out, type);
  }
  return [atomFromJson(type.key, json, symtab)];
}

export function datumToJson(d: Datum, type: OvsdbType): Json {
  const kt = type.key.type;
  if (type.value) {
    const vt = type.value.type;
    const pairs: Json[] = new Array(d.length >> 1);
    for (let i = 0; i < d.length; i += 2) pairs[i >> 1] = [atomToJson(d[i] as Atom, kt), atomToJson(d[i + 1] as Atom, vt)];
    return ['map', pairs];
  }
  if (d.length === 1) return atomToJson(d[0] as Atom, kt);
  const elems: Json[] = new Array(d.length);
  for (let i = 0; i < d.length; i++) elems[i] = atomToJson(d[i] as Atom, kt);
  return ['set', elems];
}

/** stringify(atomToJson(atom, t)) without the intermediate JSON. */
function atomText(atom: Atom, t: AtomicType): string {
  if (typeof atom === 'string') return t === 'uuid' ? `["uuid","${atom}"]` : JSON.stringify(atom);
  if (typeof atom === 'number') return JSON.stringify(t === 'real' ? atomToJson(atom, t) : atom);
  if (typeof atom === 'bigint') return atom.toString();
  return atom ? 'true' : 'false';
}

/** stringify(datumToJson(d, type)), written straight to text (log records hold one per column). */
export function datumToText(d: Datum, type: OvsdbType): string {
  const kt = type.key.type;
  if (type.value) {
    const vt = type.value.type;
    let s = '["map",[';
    for (let i = 0; i < d.length; i += 2) {
      s += `${i ? ',' : ''}[${atomText(d[i] as Atom, kt)},${atomText(d[i + 1] as Atom, vt)}]`;
    }
    return s + ']]';
  }
  if (d.length === 1) return atomText(d[0] as Atom, kt);
  let s = '["set",[';
  for (let i = 0; i < d.length; i++) s += (i ? ',' : '') + atomText(d[i] as Atom, kt);
  return s + ']]';
}

/** ovsdb_datum_check_constraints() for a datum built without atomFromJson(). */
export function checkDatumConstraints(d: Datum, type: OvsdbType): OvsdbError | null {
  const step = type.value ? 2 : 1;
  for (let i = 0; i < d.length; i += step) {
    const e = checkAtomConstraints(d[i] as Atom, type.key);
    if (e) return e;
  }
  if (type.value) {
    for (let i = 1; i < d.length; i += 2) {
      const e = checkAtomConstraints(d[i] as Atom, type.value);
      if (e) return e;
    }
  }
  return null;
}

/** "includes": every element of `a` is in `b` (pairs match on key and value). */
export function includesAll(a: Datum, b: Datum, type: OvsdbType): boolean {
  if (a.length > b.length) return false;
  return a.length === 0 || everyFound(a, b, type, true);
}

/** "excludes": no element of `a` is in `b`. */
export function excludesAll(a: Datum, b: Datum, type: OvsdbType): boolean {
  return a.length === 0 || everyFound(a, b, type, false);
}

function everyFound(a: Datum, b: Datum, type: OvsdbType, want: boolean): boolean {
  const step = type.value ? 2 : 1;
  for (let i = 0; i < a.length; i += step) {
    const j = findKey(b, a[i] as Atom, step);
    const found = j >= 0 && (step === 1 || b[j * 2 + 1] === a[i + 1]);
    if (found !== want) return false;
  }
  return true;
}

/** ovsdb_datum_union(): adds the elements of `b` whose keys `a` lacks. */
export function datumUnion(a: Datum, b: Datum, type: OvsdbType): Datum {
  const step = type.value ? 2 : 1;
  let out: Atom[] | null = null;
  let ai = 0;
  for (let bi = 0; bi < b.length; bi += step) {
    const key = b[bi] as Atom;
    const pos = findKey(a, key, step);
    if (pos >= 0) continue;
    const at = (-pos - 1) * step;
    if (!out) out = [];
    while (ai < at) out.push(a[ai++] as Atom);
    out.push(key);
    if (step === 2) out.push(b[bi + 1] as Atom);
  }
  if (!out) return a;
  while (ai < a.length) out.push(a[ai++] as Atom);
  return out;
}

/**
 * ovsdb_datum_subtract(): removes from `a` the elements of `b`. If `b` is a set of
 * keys (bIsKeys) a map loses those keys; otherwise pairs must match exactly.
 */
export function datumSubtract(a: Datum, type: OvsdbType, b: Datum, bIsKeys: boolean): Datum {
  const aStep = type.value ? 2 : 1;
  const bStep = type.value && !bIsKeys ? 2 : 1;
  const drop = new Set<number>();
  for (let bi = 0; bi < b.length; bi += bStep) {
    const j = findKey(a, b[bi] as Atom, aStep);
    if (j < 0) continue;
    if (bStep === 2 && a[j * 2 + 1] !== b[bi + 1]) continue;
    drop.add(j);
  }
  if (!drop.size) return a;
  const out: Atom[] = [];
  for (let i = 0; i < a.length / aStep; i++) {
    if (drop.has(i)) continue;
    out.push(a[i * aStep] as Atom);
    if (aStep === 2) out.push(a[i * 2 + 1] as Atom);
  }
  return out.length ? out : EMPTY;
}

/** ovsdb_datum_added_removed(): what to add to and remove from `old` to get `nu`. */
export function addedRemoved(old: Datum, nu: Datum, type: OvsdbType): { added: Datum; removed: Datum } {
  if (!type.isComposite) return { added: nu, removed: old };
  const step = type.value ? 2 : 1;
  const added: Atom[] = [];
  const removed: Atom[] = [];
  let oi = 0;
  let ni = 0;
  const push = (to: Atom[], d: Datum, i: number): void => {
    to.push(d[i] as Atom);
    if (step === 2) to.push(d[i + 1] as Atom);
  };
  while (oi < old.length && ni < nu.length) {
    const c = compareAtoms(old[oi] as Atom, nu[ni] as Atom);
    if (c < 0) {
      push(removed, old, oi);
      oi += step;
    } else if (c > 0) {
      push(added, nu, ni);
      ni += step;
    } else {
      if (step === 2 && old[oi + 1] !== nu[ni + 1]) {
        push(removed, old, oi);
        push(added, nu, ni);
      }
      oi += step;
      ni += step;
    }
  }
  for (; oi < old.length; oi += step) push(removed, old, oi);
  for (; ni < nu.length; ni += step) push(added, nu, ni);
  return { added, removed };
}

/** ovsdb_datum_diff(): what the "modify" of update2 and the file's diffs carry. */
export function datumDiff(old: Datum, nu: Datum, type: OvsdbType): Datum {
  if (!type.isComposite) return nu;
  const step = type.value ? 2 : 1;
  const diff: Atom[] = [];
  let oi = 0;
  let ni = 0;
  while (oi < old.length && ni < nu.length) {
    const c = compareAtoms(old[oi] as Atom, nu[ni] as Atom);
    if (c < 0) {
      diff.push(old[oi] as Atom);
      if (step === 2) diff.push(old[oi + 1] as Atom);
      oi += step;
    } else if (c > 0) {
      diff.push(nu[ni] as Atom);
      if (step === 2) diff.push(nu[ni + 1] as Atom);
      ni += step;
    } else {
      if (step === 2 && old[oi + 1] !== nu[ni + 1]) diff.push(nu[ni] as Atom, nu[ni + 1] as Atom);
      oi += step;
      ni += step;
    }
  }
  for (; oi < old.length; oi++) diff.push(old[oi] as Atom);
  for (; ni < nu.length; ni++) diff.push(nu[ni] as Atom);
  return diff;
}

/** ovsdb_datum_apply_diff_in_place(). */
export function applyDiff(a: Datum, diff: Datum, type: OvsdbType): Datum {
  if (!type.isComposite) return diff;
  const step = type.value ? 2 : 1;
  let out: Atom[] = a.slice();
  for (let i = 0; i < diff.length; i += step) {
    const key = diff[i] as Atom;
    const pos = findKey(out, key, step);
    if (pos < 0) {
      const at = (-pos - 1) * step;
      if (step === 2) out.splice(at, 0, key, diff[i + 1] as Atom);
      else out.splice(at, 0, key);
    } else if (step === 2 && out[pos * 2 + 1] !== diff[i + 1]) {
      out[pos * 2 + 1] = diff[i + 1] as Atom;
    } else {
      out.splice(pos * step, step);
    }
  }
  const n = out.length / step;
  if (n < type.min || n > type.max) throw ovsdbError('ovsdb error', 'Datum crated by diff has size error');
  if (!out.length) out = EMPTY as Atom[];
  return out;
}

/** A string that is equal for equal datums of one type (index and hash keys). */
export function datumKey(d: Datum): string {
  const a = d[0];
  if (d.length === 1 && typeof a === 'string' && a[0] !== '[') return a;
  return stringify(d as Json);
}
