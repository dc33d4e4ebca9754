// OVSDB error objects (RFC 7047 §3.1): a tag from proto/ovsdb/errors.ts, a details
// string worded as ovsdb-server words it, and the offending JSON as "syntax".
import type { OvsdbErrorTag } from '../../proto/ovsdb/errors.js';
import { stringifySorted, type Json, type JsonObject } from './json.js';

export class OvsdbError extends Error {
  constructor(
    readonly tag: OvsdbErrorTag,
    readonly details?: string,
    readonly syntax?: string,
    readonly ioError?: string,
  ) {
    super(details === undefined ? tag : `${tag}: ${details}`);
    this.name = 'OvsdbError';
  }

  toJson(): JsonObject {
    const o: JsonObject = { error: this.tag };
    if (this.details !== undefined) o.details = this.details;
    if (this.syntax !== undefined) o.syntax = this.syntax;
    if (this.ioError !== undefined) o['io-error'] = this.ioError;
    return o;
  }

  /** ovsdb_error_to_string(): the form ovsdb-server logs and ovsdb-tool prints. */
  override toString(): string {
    let s = this.syntax !== undefined ? `syntax "${this.syntax}": ` : '';
    s += this.tag;
    if (this.details !== undefined) s += `: ${this.details}`;
    if (this.ioError !== undefined) s += ` (${this.ioError})`;
    return s;
  }

  /** ovsdb_wrap_error(): prefixes the details. */
  wrap(prefix: string): OvsdbError {
    return new OvsdbError(this.tag, this.details === undefined ? prefix : `${prefix}: ${this.details}`, this.syntax, this.ioError);
  }
}

export function ovsdbError(tag: OvsdbErrorTag, details?: string): OvsdbError {
  return new OvsdbError(tag, details);
}

/** ovsdb_syntax_error(): tag defaults to "syntax error"; `json` becomes "syntax". */
export function syntaxError(json: Json | undefined, tag: OvsdbErrorTag | null, details: string): OvsdbError {
  return new OvsdbError(tag ?? 'syntax error', details, json === undefined ? undefined : stringifySorted(json));
}

export function ioError(details: string, err?: NodeJS.ErrnoException): OvsdbError {
  return new OvsdbError('I/O error', details, undefined, err ? errnoText(err) : undefined);
}

/** ovs_retval_to_string(): strerror() text for an errno. */
export function errnoText(err: NodeJS.ErrnoException): string {
  const texts: Record<string, string> = {
    ENOENT: 'No such file or directory',
    EACCES: 'Permission denied',
    EEXIST: 'File exists',
    ENOSPC: 'No space left on device',
    EIO: 'Input/output error',
    EROFS: 'Read-only file system',
    EAGAIN: 'Resource temporarily unavailable',
    EISDIR: 'Is a directory',
    ECONNREFUSED: 'Connection refused',
    ECONNRESET: 'Connection reset by peer',
    ETIMEDOUT: 'Connection timed out',
    EPIPE: 'Broken pipe',
    EHOSTUNREACH: 'No route to host',
    ENETUNREACH: 'Network is unreachable',
  };
  return (err.code && texts[err.code]) ?? err.message;
}
