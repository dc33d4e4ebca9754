// OVSDB types (RFC 7047 §3.2): atomic types, base types with their constraints (enum,
// integer/real ranges, string lengths, refTable/refType) and column types with min/max.
// Parsed from schema JSON and printed back as ovsdb-server prints them (lib/ovsdb-types.c).
import { OvsdbError, syntaxError } from './error.js';
import { isInteger, isObject, type Json, type JsonObject } from './json.js';
import { OvsdbParser, OP } from './parser.js';
import type { Table } from './table.js';
import type { Datum } from './data.js';

export type AtomicType = 'integer' | 'real' | 'boolean' | 'string' | 'uuid';
export type RefType = 'strong' | 'weak';

export const INT64_MIN = -(1n << 63n);
export const INT64_MAX = (1n << 63n) - 1n;
export const DBL_MAX = Number.MAX_VALUE;
export const UINT_MAX = 4294967295;

const atomicTypes: readonly AtomicType[] = ['integer', 'real', 'boolean', 'string', 'uuid'];

export function isAtomicType(s: string): s is AtomicType {
  return (atomicTypes as readonly string[]).includes(s);
}

function atomicTypeFromJson(json: Json): AtomicType {
  if (typeof json === 'string') {
    if (isAtomicType(json)) return json;
    throw syntaxError(json, null, `"${json}" is not an atomic-type`);
  }
  throw syntaxError(json, null, 'atomic-type expected');
}

/** An atomic type plus its constraints. */
export class BaseType {
  /** Sorted allowed values, or null. */
  enum: Datum | null = null;
  minInteger: number | bigint = INT64_MIN;
  maxInteger: number | bigint = INT64_MAX;
  minReal = -DBL_MAX;
  maxReal = DBL_MAX;
  minLength = 0;
  maxLength = UINT_MAX;
  refTableName: string | null = null;
  refType: RefType = 'strong';
  /** Bound by Database when the schema is instantiated. */
  refTable: Table | null = null;

  constructor(readonly type: AtomicType) {}

  get isRef(): boolean {
    return this.type === 'uuid' && this.refTableName !== null;
  }
  get isStrongRef(): boolean {
    return this.isRef && this.refType === 'strong';
  }
  get isWeakRef(): boolean {
    return this.isRef && this.refType === 'weak';
  }

  hasConstraints(): boolean {
    if (this.enum) return true;
    switch (this.type) {
      case 'integer':
        return this.minInteger !== INT64_MIN || this.maxInteger !== INT64_MAX;
      case 'real':
        return this.minReal !== -DBL_MAX || this.maxReal !== DBL_MAX;
      case 'string':
        return this.minLength !== 0 || this.maxLength !== UINT_MAX;
      case 'uuid':
        return this.refTableName !== null;
      default:
        return false;
    }
  }

  /** The same atomic type with no constraints (for arithmetic mutators). */
  unconstrained(): BaseType {
    return new BaseType(this.type);
  }

  static fromJson(json: Json, enumFromJson: (type: OvsdbType, json: Json) => Datum): BaseType {
    if (typeof json === 'string') return new BaseType(atomicTypeFromJson(json));
    const parser = new OvsdbParser(json, 'ovsdb type');
    const typeJson = parser.member('type', OP.STRING);
    if (parser.hasError()) throw parser.finish();
    const base = new BaseType(atomicTypeFromJson(typeJson as Json));
    let error: OvsdbError | null = null;
    const enumJson = parser.member('enum', OP.ANY | OP.OPTIONAL);
    if (enumJson !== undefined) {
      try {
        base.enum = enumFromJson(enumType(base.type), enumJson);
      } catch (e) {
        if (!(e instanceof OvsdbError)) throw e;
        error = e;
      }
    } else if (base.type === 'integer') {
      const min = parser.member('minInteger', OP.INTEGER | OP.OPTIONAL);
      const max = parser.member('maxInteger', OP.INTEGER | OP.OPTIONAL);
      if (min !== undefined) base.minInteger = min as number | bigint;
      if (max !== undefined) base.maxInteger = max as number | bigint;
      if (base.minInteger > base.maxInteger) error = syntaxError(json, null, 'minInteger exceeds maxInteger');
    } else if (base.type === 'real') {
      const min = parser.member('minReal', OP.NUMBER | OP.OPTIONAL);
      const max = parser.member('maxReal', OP.NUMBER | OP.OPTIONAL);
      if (min !== undefined) base.minReal = Number(min);
      if (max !== undefined) base.maxReal = Number(max);
      if (base.minReal > base.maxReal) error = syntaxError(json, null, 'minReal exceeds maxReal');
    } else if (base.type === 'string') {
      for (const [member, field] of [
        ['minLength', 'minLength'],
        ['maxLength', 'maxLength'],
      ] as const) {
        if (error) break;
        const v = parser.member(member, OP.INTEGER | OP.OPTIONAL) as number | bigint | undefined;
        if (v !== undefined) {
          if (v < 0 || v > UINT_MAX) error = syntaxError(v as Json, null, `${member} out of valid range 0 to ${UINT_MAX}`);
          else base[field] = Number(v);
        }
      }
      if (!error && base.minLength > base.maxLength) error = syntaxError(json, null, 'minLength exceeds maxLength');
    } else if (base.type === 'uuid') {
      const refTable = parser.member('refTable', OP.ID | OP.OPTIONAL);
      if (refTable !== undefined) {
        base.refTableName = refTable as string;
        const refType = parser.member('refType', OP.ID | OP.OPTIONAL);
        if (refType !== undefined) {
          if (refType === 'strong' || refType === 'weak') base.refType = refType;
          else error = syntaxError(json, null, `refType must be "strong" or "weak" (not "${refType as string}")`);
        }
      }
    }
    const finish = parser.finish();
    if (error) throw error;
    if (finish) throw finish;
    return base;
  }

  toJson(enumToJson: (type: OvsdbType, d: Datum) => Json): Json {
    if (!this.hasConstraints()) return this.type;
    const o: JsonObject = { type: this.type };
    if (this.enum) o.enum = enumToJson(enumType(this.type), this.enum);
    switch (this.type) {
      case 'integer':
        if (this.minInteger !== INT64_MIN) o.minInteger = this.minInteger;
        if (this.maxInteger !== INT64_MAX) o.maxInteger = this.maxInteger;
        break;
      case 'real':
        if (this.minReal !== -DBL_MAX) o.minReal = this.minReal;
        if (this.maxReal !== DBL_MAX) o.maxReal = this.maxReal;
        break;
      case 'string':
        if (this.minLength !== 0) o.minLength = this.minLength;
        if (this.maxLength !== UINT_MAX) o.maxLength = this.maxLength;
        break;
      case 'uuid':
        if (this.refTableName !== null) {
          o.refTable = this.refTableName;
          if (this.refType === 'weak') o.refType = 'weak';
        }
        break;
    }
    return o;
  }
}

/** A column type: key, optional value, and bounds on the number of elements. */
export class OvsdbType {
  /** Cached by data.ts defaultDatum(). */
  dflt: Datum | null = null;

  constructor(
    readonly key: BaseType,
    readonly value: BaseType | null = null,
    readonly min = 1,
    readonly max = 1,
  ) {}

  get isScalar(): boolean {
    return this.min === 1 && this.max === 1 && this.value === null;
  }
  get isOptional(): boolean {
    return this.min === 0 && this.max === 1;
  }
  get isOptionalScalar(): boolean {
    return this.min === 0 && this.max === 1 && this.value === null;
  }
  get isComposite(): boolean {
    return this.max > 1;
  }
  get isSet(): boolean {
    return this.value === null && (this.min !== 1 || this.max !== 1);
  }
  get isMap(): boolean {
    return this.value !== null;
  }
  get hasRefs(): boolean {
    return this.key.isRef || (this.value?.isRef ?? false);
  }
  get hasStrongRefs(): boolean {
    return this.key.isStrongRef || (this.value?.isStrongRef ?? false);
  }
  get hasWeakRefs(): boolean {
    return this.key.isWeakRef || (this.value?.isWeakRef ?? false);
  }

  /** The same type with other bounds (conditions and mutations relax them). */
  withBounds(min: number, max: number): OvsdbType {
    return new OvsdbType(this.key, this.value, min, max);
  }

  /** ovsdb_type_to_english(). */
  toEnglish(): string {
    const key = this.key.type;
    if (this.isScalar) return key;
    let s = this.value === null ? 'set' : 'map';
    if (this.max === UINT_MAX) s += this.min ? ` of ${this.min} or more` : ' of';
    else if (this.min) s += ` of ${this.min} to ${this.max}`;
    else s += ` of up to ${this.max}`;
    s += this.value === null ? ` ${key}s` : ` (${key}, ${this.value.type}) pairs`;
    return s;
  }

  static fromJson(json: Json, enumFromJson: (type: OvsdbType, json: Json) => Datum): OvsdbType {
    if (typeof json === 'string') return new OvsdbType(BaseType.fromJson(json, enumFromJson));
    if (!isObject(json)) throw syntaxError(json, null, 'ovsdb type expected');
    const parser = new OvsdbParser(json, 'ovsdb type');
    const keyJson = parser.member('key', OP.STRING | OP.OBJECT);
    const valueJson = parser.member('value', OP.STRING | OP.OBJECT | OP.OPTIONAL);
    const minJson = parser.member('min', OP.INTEGER | OP.OPTIONAL);
    const maxJson = parser.member('max', OP.INTEGER | OP.STRING | OP.OPTIONAL);
    const error = parser.finish();
    if (error) throw error;
    const key = BaseType.fromJson(keyJson as Json, enumFromJson);
    const value = valueJson !== undefined ? BaseType.fromJson(valueJson, enumFromJson) : null;
    const n = (v: Json | undefined, dflt: number): number => {
      if (v === undefined) return dflt;
      if (isInteger(v) && v >= 0 && v < UINT_MAX) return Number(v);
      throw syntaxError(v, null, 'bad min or max value');
    };
    const min = n(minJson, 1);
    const max = maxJson === 'unlimited' ? UINT_MAX : n(maxJson, 1);
    if (min > 1 || max < 1) throw syntaxError(json, null, 'ovsdb type fails constraint checks');
    return new OvsdbType(key, value, min, max);
  }

  toJson(enumToJson: (type: OvsdbType, d: Datum) => Json): Json {
    if (this.isScalar && !this.key.hasConstraints()) return this.key.toJson(enumToJson);
    const o: JsonObject = { key: this.key.toJson(enumToJson) };
    if (this.value) o.value = this.value.toJson(enumToJson);
    if (this.min !== 1) o.min = this.min;
    if (this.max === UINT_MAX) o.max = 'unlimited';
    else if (this.max !== 1) o.max = this.max;
    return o;
  }
}

const enumTypes = new Map<AtomicType, OvsdbType>();

/** The type of an "enum" datum: a set of one or more atoms of `t`. */
export function enumType(t: AtomicType): OvsdbType {
  let e = enumTypes.get(t);
  if (!e) enumTypes.set(t, (e = new OvsdbType(new BaseType(t), null, 1, UINT_MAX)));
  return e;
}

export const uuidType = new OvsdbType(new BaseType('uuid'));
