// JSON as OVSDB sees it: integers are 64-bit (bigint past 2^53), a stream is a run of
// concatenated values (RFC 7047 §2), and error "syntax" strings are OVS's sorted form.
// Used by the JSON-RPC layer (jsonrpc.ts) and the file storage (file.ts).

export type Json = null | boolean | number | bigint | string | Json[] | JsonObject;
export interface JsonObject {
  [key: string]: Json;
}

/** OVS's limit on nesting (lib/json.c JSON_MAX_HEIGHT). */
export const JSON_MAX_DEPTH = 1000;

export function isObject(v: Json | undefined): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** An OVSDB integer: what OVS's parser types JSON_INTEGER (exact, within int64). */
export function isInteger(v: Json | undefined): v is number | bigint {
  return typeof v === 'bigint' || (typeof v === 'number' && Number.isSafeInteger(v));
}

export function isNumber(v: Json | undefined): v is number | bigint {
  return typeof v === 'number' || typeof v === 'bigint';
}

// ---------------------------------------------------------------------------------
// Serialization.

/** C's "%.*g" with DBL_DIG (15) digits, as OVS prints reals. */
export function formatReal(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  if (v === 0) return '0';
  const [mant, expStr] = v.toExponential(14).split('e') as [string, string];
  const exp = Number(expStr);
  if (exp < -4 || exp >= 15) {
    const m = mant.includes('.') ? mant.replace(/0+$/, '').replace(/\.$/, '') : mant;
    return `${m}e${exp < 0 ? '-' : '+'}${String(Math.abs(exp)).padStart(2, '0')}`;
  }
  const fixed = v.toFixed(Math.max(0, 14 - exp));
  return fixed.includes('.') ? fixed.replace(/0+$/, '').replace(/\.$/, '') : fixed;
}

function bigintReplacer(_k: string, v: unknown): unknown {
  return typeof v === 'bigint' ? { __ovsdb_bigint__: v.toString() } : v;
}

/** Compact JSON text for the wire or the file; bigints are written as bare digits. */
export function stringify(v: Json): string {
  try {
    return JSON.stringify(v);
  } catch (e) {
    if (!(e instanceof TypeError)) throw e;
    return JSON.stringify(v, bigintReplacer).replace(/\{"__ovsdb_bigint__":"(-?\d+)"\}/g, '$1');
  }
}

/** json_to_string(json, JSSF_SORT): keys in byte order, reals as "%.15g". */
export function stringifySorted(v: Json): string {
  const out: string[] = [];
  writeSorted(v, out);
  return out.join('');
}

function writeSorted(v: Json, out: string[]): void {
  if (v === null || typeof v === 'boolean' || typeof v === 'string') {
    out.push(JSON.stringify(v));
  } else if (typeof v === 'bigint') {
    out.push(v.toString());
  } else if (typeof v === 'number') {
    out.push(Number.isSafeInteger(v) ? String(v === 0 ? 0 : v) : formatReal(v));
  } else if (Array.isArray(v)) {
    out.push('[');
    for (let i = 0; i < v.length; i++) {
      if (i) out.push(',');
      writeSorted(v[i] as Json, out);
    }
    out.push(']');
  } else {
    out.push('{');
    const keys = Object.keys(v).sort(compareBytes);
    for (let i = 0; i < keys.length; i++) {
      const k = keys[i] as string;
      if (i) out.push(',');
      out.push(JSON.stringify(k), ':');
      writeSorted(v[k] as Json, out);
    }
    out.push('}');
  }
}

export function compareBytes(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

// ---------------------------------------------------------------------------------
// Exact parsing: used when a text holds numbers that JSON.parse would round.

export class JsonSyntaxError extends Error {}

const INT64_MAX = (1n << 63n) - 1n;
const ULLONG_MAX = (1n << 64n) - 1n;

/** Parses one JSON text the way lib/json.c types its numbers. */
export function parseExact(text: string): Json {
  let i = 0;
  const n = text.length;
  const ws = (): void => {
    while (i < n) {
      const c = text.charCodeAt(i);
      if (c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d) i++;
      else break;
    }
  };
  const fail = (msg: string): never => {
    throw new JsonSyntaxError(msg);
  };
  const value = (depth: number): Json => {
    if (depth > JSON_MAX_DEPTH) fail(`input exceeds maximum nesting depth ${JSON_MAX_DEPTH}`);
    ws();
    const c = text[i];
    if (c === '{') {
      i++;
      const obj: JsonObject = {};
      ws();
      if (text[i] === '}') {
        i++;
        return obj;
      }
      for (;;) {
        ws();
        if (text[i] !== '"') fail('syntax error parsing object expecting string');
        const k = str();
        ws();
        if (text[i] !== ':') fail("syntax error parsing object expecting ':'");
        i++;
        const v = value(depth + 1);
        // As JSON.parse does: "__proto__" is a member like any other.
        if (k === '__proto__') Object.defineProperty(obj, k, { value: v, enumerable: true, writable: true, configurable: true });
        else obj[k] = v;
        ws();
        if (text[i] === ',') i++;
        else if (text[i] === '}') {
          i++;
          return obj;
        } else fail("syntax error expecting '}' or ','");
      }
    }
    if (c === '[') {
      i++;
      const arr: Json[] = [];
      ws();
      if (text[i] === ']') {
        i++;
        return arr;
      }
      for (;;) {
        arr.push(value(depth + 1));
        ws();
        if (text[i] === ',') i++;
        else if (text[i] === ']') {
          i++;
          return arr;
        } else fail("syntax error expecting ']' or ','");
      }
    }
    if (c === '"') return str();
    if (c === '-' || (c !== undefined && c >= '0' && c <= '9')) return num();
    const m = /^[a-z]+/.exec(text.slice(i, i + 16));
    if (m) {
      i += m[0].length;
      if (m[0] === 'true') return true;
      if (m[0] === 'false') return false;
      if (m[0] === 'null') return null;
      fail(`invalid keyword '${m[0]}'`);
    }
    return fail('syntax error expecting value');
  };
  const str = (): string => {
    const start = i;
    i++;
    for (;;) {
      const q = text.indexOf('"', i);
      if (q < 0) fail('unexpected end of input in quoted string');
      let bs = 0;
      for (let j = q - 1; j > start && text.charCodeAt(j) === 0x5c; j--) bs++;
      i = q + 1;
      if (bs % 2 === 0) break;
    }
    try {
      return JSON.parse(text.slice(start, i)) as string;
    } catch {
      return fail('invalid string');
    }
  };
  const num = (): number | bigint => {
    const m = /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/.exec(text.slice(i, i + 4096));
    if (!m) return fail('syntax error in number');
    i += m[0].length;
    return parseNumber(m[0]);
  };
  const v = value(0);
  ws();
  if (i !== n) fail('trailing garbage at end of input');
  return v;
}

/** lib/json.c json_lex_number(): exact integers within int64, everything else a double. */
function parseNumber(s: string): number | bigint {
  const neg = s.startsWith('-');
  const m = /^-?(\d+)(?:\.(\d+))?(?:[eE]([+-]?\d+))?$/.exec(s);
  if (!m) return Number(s);
  const intDigits = m[1] as string;
  const fracDigits = m[2] ?? '';
  let significand = 0n;
  let pow10 = 0;
  let imprecise = false;
  for (const d of intDigits) {
    if (significand <= ULLONG_MAX / 10n) significand = significand * 10n + BigInt(d);
    else {
      pow10++;
      if (d !== '0') imprecise = true;
    }
  }
  for (const d of fracDigits) {
    if (significand <= ULLONG_MAX / 10n) {
      significand = significand * 10n + BigInt(d);
      pow10--;
    } else if (d !== '0') imprecise = true;
  }
  if (m[3]) pow10 += Number(m[3]);
  if (significand === 0n) return 0;
  if (!imprecise) {
    while (pow10 > 0 && significand < ULLONG_MAX / 10n) {
      significand *= 10n;
      pow10--;
    }
    while (pow10 < 0 && significand % 10n === 0n) {
      significand /= 10n;
      pow10++;
    }
    if (pow10 === 0 && significand <= (neg ? INT64_MAX + 1n : INT64_MAX)) {
      const v = neg ? -significand : significand;
      return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
    }
  }
  return Number(s);
}

/** Parses a complete JSON text; numbers are exact only when `exact` asks for it. */
export function parseJson(text: string, exact = false): Json {
  return exact ? parseExact(text) : (JSON.parse(text) as Json);
}

// ---------------------------------------------------------------------------------
// Streams of concatenated JSON values.

// Scanner states: what the grammar allows next.
const S_VALUE = 0; // a value (after '[', ',' in an array, ':' or at the start)
const S_VALUE_OR_CLOSE = 1; // right after '[': a value or ']'
const S_KEY = 2; // a key string (after ',' in an object)
const S_KEY_OR_CLOSE = 3; // right after '{': a key or '}'
const S_COLON = 4;
const S_COMMA_OR_CLOSE = 5; // after a value inside a container
const S_LITERAL = 6; // inside true/false/null or a number

const NUMBER_RE = /^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][-+]?[0-9]+)?$/;

/**
 * Splits a byte stream into complete top-level JSON texts, keeping its place across
 * partial reads. It checks the grammar as bytes arrive, so a malformed message is
 * refused at the byte where ovsdb-server refuses it, not when it ends; string bodies
 * are skipped with indexOf. The text itself is parsed by JSON.parse, or exactly when
 * it holds a number JSON.parse could round.
 */
export class JsonStream {
  private chunks: Buffer[] = [];
  private state = S_VALUE;
  /** Open containers: 0x7b '{' or 0x5b '['. */
  private readonly stack = new Uint8Array(JSON_MAX_DEPTH + 1);
  private depth = 0;
  private inString = false;
  private escape = false;
  private started = false;
  private exact = false;
  private literal = '';
  /** Bytes received since the stream began. */
  received = 0;

  /** Feeds bytes; returns the complete values (or throws JsonSyntaxError). */
  feed(data: Buffer, out: Json[] = []): Json[] {
    this.received += data.length;
    const buf = data;
    let i = 0;
    while (i < buf.length) {
      const end = this.scan(buf, i);
      if (end < 0) {
        this.chunks.push(i === 0 ? buf : buf.subarray(i));
        return out;
      }
      let text: string;
      if (this.chunks.length) {
        this.chunks.push(buf.subarray(i, end));
        text = Buffer.concat(this.chunks).toString('utf8');
        this.chunks = [];
      } else {
        text = buf.toString('utf8', i, end);
      }
      const exact = this.exact;
      this.reset();
      let v: Json;
      try {
        v = parseJson(text, exact);
      } catch (e) {
        throw e instanceof JsonSyntaxError ? e : new JsonSyntaxError((e as Error).message);
      }
      out.push(v);
      i = end;
    }
    return out;
  }

  /** True while part of a value is buffered (for "unexpected end of input"). */
  get pending(): boolean {
    return this.started || this.chunks.length > 0;
  }

  private reset(): void {
    this.state = S_VALUE;
    this.depth = 0;
    this.inString = false;
    this.escape = false;
    this.started = false;
    this.exact = false;
    this.literal = '';
  }

  /** A value just ended: what may follow it. Returns true if it was the top level. */
  private valueDone(): boolean {
    if (this.depth === 0) return true;
    this.state = S_COMMA_OR_CLOSE;
    return false;
  }

  private endLiteral(): void {
    const t = this.literal;
    this.literal = '';
    if (t === 'true' || t === 'false' || t === 'null') return;
    if (/^[a-z]+$/.test(t)) throw new JsonSyntaxError(`invalid keyword '${t}'`);
    if (!NUMBER_RE.test(t)) throw new JsonSyntaxError('syntax error in number');
    const digits = t.replace(/[^0-9]/g, '').length;
    if (digits >= 16 || /[.eE]/.test(t)) this.exact = true;
  }

  /** Scans from `i`; returns the offset just past a complete value, or -1. */
  private scan(buf: Buffer, i: number): number {
    const n = buf.length;
    while (i < n) {
      if (this.inString) {
        // Only a quote can end a string, and it does unless an odd run of
        // backslashes precedes it; no need to look at anything else.
        if (this.escape) {
          this.escape = false;
          i++;
          continue;
        }
        const q = buf.indexOf(0x22, i);
        if (q < 0) {
          let k = 0;
          while (n - 1 - k >= i && buf[n - 1 - k] === 0x5c) k++;
          this.escape = k % 2 === 1;
          return -1;
        }
        let k = 0;
        while (q - 1 - k >= i && buf[q - 1 - k] === 0x5c) k++;
        i = q + 1;
        if (k % 2 === 1) continue;
        this.inString = false;
        if (this.state === S_COLON) continue; // that string was a key
        if (this.valueDone()) return i;
        continue;
      }
      const c = buf[i] as number;
      if (this.state === S_LITERAL) {
        if ((c >= 0x61 && c <= 0x7a) || (c >= 0x30 && c <= 0x39) || c === 0x2d || c === 0x2b || c === 0x2e || c === 0x45) {
          this.literal += String.fromCharCode(c);
          i++;
          continue;
        }
        this.endLiteral();
        if (this.valueDone()) throw new JsonSyntaxError('syntax error at beginning of input');
        continue; // look at `c` again in the new state
      }
      i++;
      if (c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d) continue;
      switch (this.state) {
        case S_VALUE:
        case S_VALUE_OR_CLOSE:
          if (c === 0x5d && this.state === S_VALUE_OR_CLOSE) {
            this.depth--;
            if (this.valueDone()) return i;
          } else if (c === 0x7b || c === 0x5b) {
            this.started = true;
            if (this.depth >= JSON_MAX_DEPTH) throw new JsonSyntaxError(`input exceeds maximum nesting depth ${JSON_MAX_DEPTH}`);
            this.stack[this.depth++] = c;
            this.state = c === 0x7b ? S_KEY_OR_CLOSE : S_VALUE_OR_CLOSE;
          } else if (!this.started) {
            throw new JsonSyntaxError('syntax error at beginning of input');
          } else if (c === 0x22) {
            this.inString = true;
          } else if ((c >= 0x61 && c <= 0x7a) || (c >= 0x30 && c <= 0x39) || c === 0x2d) {
            this.state = S_LITERAL;
            this.literal = String.fromCharCode(c);
          } else {
            throw new JsonSyntaxError('syntax error expecting value');
          }
          break;
        case S_KEY:
        case S_KEY_OR_CLOSE:
          if (c === 0x22) {
            this.inString = true;
            this.state = S_COLON;
          } else if (c === 0x7d && this.state === S_KEY_OR_CLOSE) {
            this.depth--;
            if (this.valueDone()) return i;
          } else {
            throw new JsonSyntaxError('syntax error parsing object expecting string');
          }
          break;
        case S_COLON:
          if (c !== 0x3a) throw new JsonSyntaxError("syntax error parsing object expecting ':'");
          this.state = S_VALUE;
          break;
        case S_COMMA_OR_CLOSE: {
          const top = this.stack[this.depth - 1];
          if (c === 0x2c) {
            this.state = top === 0x7b ? S_KEY : S_VALUE;
          } else if ((c === 0x7d && top === 0x7b) || (c === 0x5d && top === 0x5b)) {
            this.depth--;
            if (this.valueDone()) return i;
          } else {
            throw new JsonSyntaxError(top === 0x7b ? "syntax error expecting '}' or ','" : "syntax error expecting ']' or ','");
          }
          break;
        }
      }
    }
    return -1;
  }
}
