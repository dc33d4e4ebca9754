// ovsdb_parser (lib/ovsdb-parser.c): reads the members of a JSON object by expected
// type and reports the first problem, and any member left unread, in OVS's words.
import { syntaxError, type OvsdbError } from './error.js';
import { isInteger, isObject, type Json, type JsonObject } from './json.js';
import { objectOrder } from './shash.js';

/** Member type masks, one bit per JSON type as lib/ovsdb-parser.h has them. */
export const OP = {
  NULL: 1 << 0,
  FALSE: 1 << 1,
  TRUE: 1 << 2,
  OBJECT: 1 << 3,
  ARRAY: 1 << 4,
  INTEGER: 1 << 5,
  REAL: 1 << 6,
  STRING: 1 << 7,
  BOOLEAN: (1 << 1) | (1 << 2),
  NUMBER: (1 << 5) | (1 << 6),
  ANY: 0xff,
  /** A string that is an <id>. */
  ID: 1 << 9,
  OPTIONAL: 1 << 10,
} as const;

function typeBit(v: Json): number {
  if (v === null) return OP.NULL;
  if (v === false) return OP.FALSE;
  if (v === true) return OP.TRUE;
  if (typeof v === 'string') return OP.STRING;
  if (Array.isArray(v)) return OP.ARRAY;
  if (typeof v === 'object') return OP.OBJECT;
  return isInteger(v) ? OP.INTEGER : OP.REAL;
}

/** RFC 7047 <id>: a letter or "_", then letters, digits or "_". */
export function isId(s: string): boolean {
  return /^[A-Za-z_][A-Za-z0-9_]*$/.test(s);
}

export class OvsdbParser {
  private readonly obj: JsonObject | null;
  private readonly used: string[] = [];
  private error: OvsdbError | null = null;

  constructor(
    json: Json | undefined,
    /** What is being parsed, for messages; a function when costly to build. */
    private readonly name: string | (() => string),
  ) {
    this.obj = json !== undefined && isObject(json) ? json : null;
    if (!this.obj) this.raise('Object expected.');
  }

  get json(): JsonObject | null {
    return this.obj;
  }

  member(name: string, types: number): Json | undefined {
    if (!this.obj) return undefined;
    if (!Object.prototype.hasOwnProperty.call(this.obj, name)) {
      if (!(types & OP.OPTIONAL)) this.raise(`Required '${name}' member is missing.`);
      return undefined;
    }
    const v = this.obj[name] as Json;
    if (types & typeBit(v) || (types & OP.ID && typeof v === 'string' && isId(v))) {
      this.used.push(name);
      return v;
    }
    this.raise(`Type mismatch for member '${name}'.`);
    return undefined;
  }

  raise(message: string): void {
    if (this.error) return;
    const name = typeof this.name === 'string' ? this.name : this.name();
    this.error = syntaxError(this.obj ?? undefined, null, `Parsing ${name} failed: ${message}`);
  }

  put(error: OvsdbError): void {
    if (!this.error) this.error = error;
  }

  hasError(): boolean {
    return this.error !== null;
  }

  getError(): OvsdbError | null {
    return this.error;
  }

  /** Checks for unread members; returns the first error, if any. */
  finish(): OvsdbError | null {
    if (!this.error && this.obj) {
      let nKeys = 0;
      for (const _k in this.obj) nKeys++;
      const nUnused = nKeys - this.used.length;
      if (nUnused > 0) {
        const first = objectOrder(this.obj).find((k) => !this.used.includes(k)) as string;
        if (nUnused > 1) {
          this.raise(`Member '${first}' and ${nUnused - 1} other member${nUnused > 2 ? 's' : ''} are present but not allowed here.`);
        } else {
          this.raise(`Member '${first}' is present but not allowed here.`);
        }
      }
    }
    return this.error;
  }
}
