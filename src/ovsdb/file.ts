// The OVSDB standalone file format (ovsdb/log.c, file.c): records framed as
// "OVSDB JSON <length> <sha1>\n<json>\n", the schema first, then one record per
// transaction. Appends are batched per event-loop turn and on disk before their
// promises resolve; a torn tail is cut off when the file is opened; compaction
// replaces the file through a temporary file and rename(), so a crash leaves either
// the old or the new file.
import { createHash, hash } from 'node:crypto';
import { closeSync, constants, fdatasyncSync, ftruncateSync, lstatSync, mkdirSync, openSync, readFileSync, readlinkSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { truncate } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { ioError, OvsdbError, syntaxError } from './error.js';
import { isObject, parseJson, stringify, type Json, type JsonObject } from './json.js';
import type { Storage } from './database.js';

export const MAGIC = 'JSON';

export interface Logger {
  info(msg: string): void;
  warn(msg: string): void;
  err(msg: string): void;
}

/** One framed record as text: the header line and the body (JSON text plus a newline). */
export function recordFrame(json: Json | string, magic = MAGIC): string {
  const body = (typeof json === 'string' ? json : stringify(json)) + '\n';
  // One-shot hash of the string's UTF-8 bytes: no Hash object, no Buffer of the body.
  return `OVSDB ${magic} ${Buffer.byteLength(body, 'utf8')} ${hash('sha1', body, 'hex')}\n${body}`;
}

/** One framed record: the header line and the body (JSON text plus a newline). */
export function composeRecord(json: Json | string, magic = MAGIC): Buffer {
  return Buffer.from(recordFrame(json, magic), 'utf8');
}

export interface ReadResult {
  /** Parsed records in order (the schema first). */
  records: JsonObject[];
  /** Byte offset just past each record. */
  ends: number[];
  /** Why reading stopped early, if it did (the tail past ends[-1] is bad). */
  error: OvsdbError | null;
  size: number;
}

/** Reads every record of a standalone database file (ovsdb_log_read() in a loop). */
export function readRecords(path: string, displayName = path): ReadResult {
  let data: Buffer;
  try {
    data = readFileSync(path);
  } catch (e) {
    throw ioError(`${displayName}: open failed`, e as NodeJS.ErrnoException);
  }
  const records: JsonObject[] = [];
  const ends: number[] = [];
  let offset = 0;
  let error: OvsdbError | null = null;
  if (data.length) {
    const nl = data.indexOf(0x0a);
    const first = parseHeader(data.toString('latin1', 0, nl < 0 ? Math.min(data.length, 128) : nl + 1));
    if (!first) throw new OvsdbError('ovsdb error', `${displayName}: unexpected file format`);
    if (first.magic !== MAGIC) throw new OvsdbError('ovsdb error', `${displayName}: cannot identify file type`);
  }
  while (offset < data.length) {
    const nl = data.indexOf(0x0a, offset);
    const headerText = data.toString('latin1', offset, nl < 0 || nl - offset > 127 ? Math.min(data.length, offset + 127) : nl + 1);
    const h = parseHeader(headerText);
    if (!h || h.magic !== MAGIC) {
      error = syntaxError(
        undefined,
        null,
        `${displayName}: parse error at offset ${offset} in header line "${headerText.split('\n')[0] as string}"`,
      );
      break;
    }
    const dataOffset = offset + headerText.length;
    if (dataOffset + h.length > data.length) {
      error = new OvsdbError(
        'I/O error',
        `${displayName}: error reading ${h.length} bytes starting at offset ${dataOffset}`,
        undefined,
        'End of file',
      );
      break;
    }
    const body = data.subarray(dataOffset, dataOffset + h.length);
    const sha1 = createHash('sha1').update(body).digest('hex');
    if (sha1 !== h.sha1) {
      error = syntaxError(
        undefined,
        null,
        `${displayName}: ${h.length} bytes starting at offset ${dataOffset} have SHA-1 hash ${sha1} but should have hash ${h.sha1}`,
      );
      break;
    }
    let json: Json;
    try {
      json = parseJson(body.toString('utf8'), true);
    } catch (e) {
      error = syntaxError(
        undefined,
        null,
        `${displayName}: ${h.length} bytes starting at offset ${dataOffset} are not valid JSON (${(e as Error).message})`,
      );
      break;
    }
    if (!isObject(json)) {
      error = syntaxError(undefined, null, `${displayName}: ${h.length} bytes starting at offset ${dataOffset} are not a JSON object`);
      break;
    }
    records.push(json);
    offset = dataOffset + h.length;
    ends.push(offset);
  }
  return { records, ends, error, size: data.length };
}

function parseHeader(line: string): { magic: string; length: number; sha1: string } | null {
  const m = /^OVSDB (\S+) (\d+) ([0-9a-fA-F]{40})\n$/.exec(line);
  if (!m) return null;
  const length = Number(m[2]);
  if (!length) return null;
  return { magic: m[1] as string, length, sha1: (m[3] as string).toLowerCase() };
}

/** Creates a new database file holding only `schema` (ovsdb-tool create). */
/**
 * The file a path names, through symbolic links even when the last one dangles (as
 * OVS's follow_symlinks() does): Debian ships /etc/openvswitch/conf.db as a link to
 * /var/lib/openvswitch/conf.db, which does not exist until a database is created, and
 * compaction must replace the file, not the link.
 */
export function followSymlinks(path: string): string {
  let p = path;
  for (let i = 0; i < 10; i++) {
    let target: string;
    try {
      if (!lstatSync(p).isSymbolicLink()) return p;
      target = readlinkSync(p);
    } catch {
      return p;
    }
    p = resolve(dirname(p), target);
  }
  return p;
}

export function createFile(path: string, schema: JsonObject): void {
  mkdirSync(dirname(resolve(path)), { recursive: true });
  const fd = openSync(path, 'wx', 0o660);
  try {
    writeSync(fd, composeRecord(schema));
    fdatasyncSync(fd);
  } finally {
    closeSync(fd);
  }
  fsyncDir(path);
}

function fsyncDir(path: string): void {
  try {
    const fd = openSync(dirname(resolve(path)), 'r');
    try {
      fdatasyncSync(fd);
    } finally {
      closeSync(fd);
    }
  } catch {
    // Not all filesystems allow syncing a directory; the rename is still atomic.
  }
}

/** The records of one event-loop turn and the promise all their commits share. */
interface Batch {
  text: string;
  count: number;
  done: Promise<void>;
  resolve(): void;
  reject(e: Error): void;
}

function newBatch(): Batch {
  let resolve!: () => void;
  let reject!: (e: Error) => void;
  const done = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { text: '', count: 0, done, resolve, reject };
}

/**
 * An open database file accepting appends (the storage of one Database).
 *
 * Group commit: records appended during one turn of the event loop are written
 * together by one pwrite() on a file opened O_DSYNC, just after that turn's I/O
 * callbacks (setImmediate); their shared promise resolves once it returns, so every
 * reply follows its record onto the disk and concurrent clients share the sync.
 * The write runs on the event loop's own thread: no thread-pool round trip.
 */
export class FileStorage implements Storage {
  private fd: number | null = null;
  private offset: number;
  /** Size after the last compaction (or at open), for ovsdb_log_grew_lots(). */
  private base: number;
  private pending: Batch | null = null;
  private broken: OvsdbError | null = null;
  /** Records written since open or the last compaction. */
  nWritten = 0;
  closed = false;

  private constructor(
    readonly path: string,
    size: number,
    /** Records read at open, the schema included. */
    readonly nRead: number,
  ) {
    this.offset = size;
    this.base = size;
  }

  /**
   * Opens `path` for appending after `goodSize` bytes. A tail past that (a torn or
   * corrupt last record) is truncated away now.
   */
  static async open(path: string, goodSize: number, fileSize: number, nRead: number): Promise<FileStorage> {
    if (goodSize < fileSize) await truncate(path, goodSize);
    const s = new FileStorage(path, goodSize, nRead);
    // O_DSYNC: each write returns once its data is on disk, one syscall instead of two.
    s.fd = openSync(path, constants.O_RDWR | constants.O_DSYNC);
    return s;
  }

  get size(): number {
    return this.offset;
  }

  /** ovsdb_storage_should_snapshot(): the log grew past 10 MB and doubled. */
  grewLots(): boolean {
    return this.offset > 10 * 1024 * 1024 && this.offset / 2 > this.base && this.nRead + this.nWritten >= 100;
  }

  /** Queues a record; the promise (shared by the turn's records) settles once it is on disk. */
  append(recordText: string): Promise<void> {
    if (this.broken) return Promise.reject(this.broken);
    let b = this.pending;
    if (!b) {
      b = this.pending = newBatch();
      setImmediate(() => this.flush());
    }
    b.text += recordFrame(recordText);
    b.count++;
    return b.done;
  }

  /** Writes every pending record (one pwrite), then settles their promise. */
  flush(): void {
    const b = this.pending;
    if (!b) return;
    this.pending = null;
    try {
      if (this.broken) throw this.broken;
      if (this.fd === null) throw new OvsdbError('I/O error', `${this.path}: file is closed`);
      const buf = Buffer.from(b.text, 'utf8');
      let done = 0;
      while (done < buf.length) done += writeSync(this.fd, buf, done, buf.length - done, this.offset + done);
      this.offset += buf.length;
      this.nWritten += b.count;
    } catch (e) {
      // Drop what may have been half written, as ovsdb_log_write() does.
      try {
        if (this.fd !== null) ftruncateSync(this.fd, this.offset);
      } catch {
        // The file stays broken either way.
      }
      this.broken ??= e instanceof OvsdbError ? e : ioError(`${this.path}: write failed`, e as NodeJS.ErrnoException);
      b.reject(this.broken);
      return;
    }
    b.resolve();
  }

  /**
   * Replaces the file by one holding `snapshot()` (schema and data records), taken
   * once every earlier append is on disk. Synchronous, as ovsdb-server's own
   * compaction of a standalone database is.
   */
  compact(snapshot: () => (JsonObject | string)[]): Promise<void> {
    try {
      this.flush();
      this.compactNow(snapshot());
      return Promise.resolve();
    } catch (e) {
      return Promise.reject(e as Error);
    }
  }

  /** Writes what is pending, then replaces the file by `records`; throws an OvsdbError. */
  compactNow(records: (JsonObject | string)[]): void {
    this.flush();
    if (this.broken) throw this.broken;
    this.replaceWith(records);
  }

  private replaceWith(records: (JsonObject | string)[]): void {
    const tmp = `${this.path}.tmp`;
    try {
      unlinkSync(tmp);
    } catch {
      // Usually absent.
    }
    const data = Buffer.from(records.map((r) => recordFrame(r)).join(''), 'utf8');
    const fd = openSync(tmp, constants.O_RDWR | constants.O_CREAT | constants.O_EXCL | constants.O_DSYNC, 0o660);
    try {
      let done = 0;
      while (done < data.length) done += writeSync(fd, data, done, data.length - done, done);
    } catch (e) {
      closeSync(fd);
      unlinkQuietly(tmp);
      throw ioError(`${tmp}: write failed`, e as NodeJS.ErrnoException);
    }
    try {
      renameSync(tmp, this.path);
    } catch (e) {
      closeSync(fd);
      unlinkQuietly(tmp);
      throw ioError(`failed to rename "${tmp}" to "${this.path}"`, e as NodeJS.ErrnoException);
    }
    fsyncDir(this.path);
    if (this.fd !== null) closeSync(this.fd);
    this.fd = fd;
    this.offset = data.length;
    this.base = data.length;
    this.nWritten = 0;
  }

  /** Writes pending appends, then closes the file. */
  close(): Promise<void> {
    this.flush();
    this.closed = true;
    if (this.fd !== null) closeSync(this.fd);
    this.fd = null;
    return Promise.resolve();
  }
}

function unlinkQuietly(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // Already gone.
  }
}
