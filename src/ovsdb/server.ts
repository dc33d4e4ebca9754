// The OVSDB server (ovsdb/ovsdb-server.c, jsonrpc-server.c, server.c, trigger.c): serves
// databases over JSON-RPC on passive and active remotes, with transactions as triggers
// (so "wait" can block), monitors, locks and the _Server database, replying with the
// same results and errors as ovsdb-server. startOvsdbServer() is the whole server.
import { newUuid } from './uuid.js';
import { existsSync, unlinkSync, readFileSync } from 'node:fs';
import net from 'node:net';
import type * as Tls from 'node:tls';
import { serverSchemaText } from '../../proto/ovsdb/server-schema.js';
import { datumFromJson } from './data.js';
import { Database } from './database.js';
import { errnoText, OvsdbError, syntaxError } from './error.js';
import { executeTransaction, type LockHolder } from './execution.js';
import { convertDatabase } from './convert.js';
import { createFile, FileStorage, followSymlinks, readRecords } from './file.js';
import { parseJson, stringify, stringifySorted, type Json } from './json.js';
import { Connection, DEFAULT_PROBE_INTERVAL, errorJson, notifyJson, replyJson, type Message } from './jsonrpc.js';
import { Monitor, type MonitorVersion } from './monitor.js';
import { isId } from './parser.js';
import { DEFAULT_SCHEMA_PATH } from '../../proto/ovsdb/protocol.js';
import { DatabaseSchema } from './schema.js';
import { shashOrder } from './shash.js';
import type { Row, Table } from './table.js';
import { Logger, nullSink, type LogSink } from './vlog.js';
import { warmUp } from './warmup.js';

const ZERO_UUID = '00000000-0000-0000-0000-000000000000';

let tlsModule: typeof Tls | null = null;

export interface SslOptions {
  privateKey: string;
  certificate: string;
  caCert?: string;
  /** Accept any client certificate (ovsdb-server's --bootstrap-ca-cert, loosely). */
  bootstrap?: boolean;
  protocols?: string;
  ciphers?: string;
}

export interface OvsdbServerOptions {
  /** Database files to serve; each is created from `schema` if missing. */
  databases: string[];
  /** Schema for databases that do not exist yet (default: the system's vswitch.ovsschema). */
  schema?: string;
  /** punix:, ptcp:, pssl:, unix:, tcp:, ssl: or db:DB,TABLE,COLUMN remotes. */
  remotes?: string[];
  ssl?: SslOptions;
  /** Where log lines go (default: nowhere). */
  log?: LogSink;
  /** Run synthetic operations on a scratch copy of each schema first, to warm the JIT (default: true). */
  warmUp?: boolean;
}

interface ServedDb {
  name: string;
  filename: string;
  db: Database;
  storage: FileStorage | null;
  triggers: Set<Trigger>;
  nextCompaction: number;
}

interface Trigger {
  session: Session;
  id: Json;
  idKey: string;
  served: ServedDb;
  params: Json[];
  created: number;
  timer: NodeJS.Timeout | null;
  /** Committed, waiting for its write to reach the disk. */
  committing: boolean;
}

interface LockWaiter {
  session: Session;
  name: string;
  mode: 'wait' | 'steal';
  /** Null once removed from the lock's queue (a stolen steal). */
  queued: boolean;
}

/** One JSON-RPC client of the server. */
class Session implements LockHolder {
  readonly triggers = new Map<string, Trigger>();
  readonly monitors = new Map<string, Monitor>();
  readonly waiters = new Map<string, LockWaiter>();
  dbChangeAware = false;
  closed = false;

  constructor(
    readonly server: OvsdbServer,
    readonly conn: Connection,
    readonly readOnly: boolean,
    /** The remote (e.g. "ptcp:6640") this session came in on or went out to. */
    readonly remote: string,
  ) {
    conn.on('message', (m) => this.onMessage(m));
    conn.on('protocolError', (why) => server.log.warn(`${conn.name}: ${why}`));
    conn.on('drain', () => this.flushMonitors());
    conn.on('close', () => this.close());
  }

  holdsLock(name: string): boolean {
    const w = this.waiters.get(name);
    return !!w && this.server.lockOwner(name) === w;
  }

  /** ovsdb_jsonrpc_session_send(): pending monitor updates always go first. */
  send(json: Json): void {
    this.flushMonitors();
    this.conn.send(json);
  }

  flushMonitors(): void {
    if (this.closed || this.conn.backlog > 0) return;
    let out = '';
    for (const m of this.monitors.values()) {
      if (!m.hasPending) continue;
      const text = this.server.composeShared(m);
      if (text !== null) out += m.notificationText(text, ZERO_UUID);
    }
    if (out) this.conn.sendText(out);
  }

  private onMessage(msg: Message): void {
    if (this.closed) return;
    switch (msg.type) {
      case 'request':
        this.onRequest(msg);
        break;
      case 'notify':
        if (msg.method === 'cancel') this.cancel(msg.params ?? []);
        break;
      default:
        // A reply to our inactivity probe; anything else is a protocol error.
        if (msg.type === 'reply' && msg.id === 'echo') return;
        this.server.log.warn(`${this.conn.name}: received unexpected ${msg.type} message`);
        this.conn.close();
    }
  }

  private onRequest(req: Message): void {
    const id = req.id as Json;
    const params = req.params as Json[];
    const server = this.server;
    let reply: Json | null;
    let text: string | null = null;
    switch (req.method) {
      case 'transact': {
        const served = this.lookupDb(req);
        if (served instanceof OvsdbError) reply = errorJson(served.toJson(), id);
        else reply = this.transact(served, req);
        break;
      }
      case 'monitor':
      case 'monitor_cond':
      case 'monitor_cond_since': {
        const served = this.lookupDb(req);
        if (served instanceof OvsdbError) reply = errorJson(served.toJson(), id);
        else {
          const r = this.monitor(served, params, req.method === 'monitor' ? 1 : req.method === 'monitor_cond' ? 2 : 3, id);
          if (typeof r === 'string') {
            reply = null;
            text = r;
          } else reply = r;
        }
        break;
      }
      case 'convert': {
        const served = this.lookupDb(req);
        reply = served instanceof OvsdbError ? errorJson(served.toJson(), id) : server.convert(this, served, params, id);
        break;
      }
      case 'monitor_cond_change':
        reply = this.monitorCondChange(params, id);
        break;
      case 'monitor_cancel':
        reply = this.monitorCancel(params, id);
        break;
      case 'get_schema': {
        const served = this.lookupDb(req);
        reply = null;
        if (served instanceof OvsdbError) reply = errorJson(served.toJson(), id);
        else text = `{"id":${stringify(id)},"result":${served.db.schemaText},"error":null}`;
        break;
      }
      case 'list_dbs':
        reply = replyJson([...server.dbNames()], id);
        break;
      case 'get_server_id':
        reply = replyJson(server.serverId, id);
        break;
      case 'lock':
      case 'steal':
        reply = this.lock(req, req.method === 'lock' ? 'wait' : 'steal');
        break;
      case 'unlock':
        reply = this.unlock(req);
        break;
      case 'set_db_change_aware':
        if (params.length !== 1 || typeof params[0] !== 'boolean') {
          reply = errorJson(syntaxError(params, null, `${req.method}: true or false parameter expected`).toJson(), id);
        } else {
          this.dbChangeAware = params[0];
          reply = replyJson({}, id);
        }
        break;
      case 'echo':
        reply = replyJson(params, id);
        break;
      default:
        reply = errorJson('unknown method', id);
    }
    if (reply !== null) this.send(reply);
    else if (text !== null) {
      this.flushMonitors();
      this.conn.sendText(text);
    }
  }

  private lookupDb(req: Message): ServedDb | OvsdbError {
    const params = req.params as Json[];
    if (!params.length || typeof params[0] !== 'string') {
      return syntaxError(params, null, `${req.method as string} request params must begin with <db-name>`);
    }
    const served = this.server.served(params[0]);
    if (!served) return syntaxError(params, 'unknown database', `${req.method as string} request specifies unknown database ${params[0]}`);
    return served;
  }

  // ---------------------------------------------------------------------------
  // Transactions as triggers.

  private transact(served: ServedDb, req: Message): Json | null {
    const id = req.id as Json;
    const idKey = stringify(id);
    if (this.triggers.has(idKey)) {
      return errorJson(syntaxError(req.params as Json[], null, `${req.method as string}: duplicate request ID`).toJson(), id);
    }
    const t: Trigger = {
      session: this,
      id,
      idKey,
      served,
      params: req.params as Json[],
      created: Date.now(),
      timer: null,
      committing: false,
    };
    this.triggers.set(idKey, t);
    served.triggers.add(t);
    this.server.tryTrigger(t);
    return null;
  }

  completeTrigger(t: Trigger, reply: Json | null): void {
    if (t.timer) clearTimeout(t.timer);
    t.served.triggers.delete(t);
    this.triggers.delete(t.idKey);
    if (reply !== null && !this.closed) this.send(reply);
  }

  private cancel(params: Json[]): void {
    if (params.length !== 1) return;
    const t = this.triggers.get(stringify(params[0] as Json));
    if (!t || t.committing) return;
    // ovsdb-server answers "canceled" only to clients that said they are change-aware.
    this.completeTrigger(t, this.dbChangeAware ? errorJson('canceled', t.id) : null);
  }

  // ---------------------------------------------------------------------------
  // Monitors.

  private monitor(served: ServedDb, params: Json[], version: MonitorVersion, id: Json): Json | string {
    try {
      if ((version === 2 && params.length !== 3) || (version === 3 && params.length !== 4) || params.length < 3) {
        throw syntaxError(params, null, 'invalid parameters');
      }
      const monitorId = params[1] as Json;
      const key = stringify(monitorId);
      if (this.monitors.has(key)) throw syntaxError(monitorId, null, 'duplicate monitor ID');
      const m = Monitor.create(served.db, version, monitorId, params[2] as Json);
      if (version === 3) {
        const last = params[3] as Json;
        if (typeof last !== 'string') throw syntaxError(last, null, 'last-txn-id must be string');
        if (!/^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/.test(last)) {
          throw syntaxError(last, null, 'last-txn-id must be UUID format.');
        }
      }
      this.monitors.set(key, m);
      served.db.listeners.add(m);
      const initial = this.server.composeInitialShared(m);
      // Standalone databases keep no transaction history, so "since" never matches.
      const result = version === 3 ? `[false,"${ZERO_UUID}",${initial}]` : initial;
      return `{"id":${stringify(id)},"result":${result},"error":null}`;
    } catch (e) {
      if (!(e instanceof OvsdbError)) throw e;
      return errorJson(e.toJson(), id);
    }
  }

  private monitorCondChange(params: Json[], id: Json): Json {
    try {
      if (params.length !== 3) throw syntaxError(params, null, 'invalid parameters');
      const m = this.monitors.get(stringify(params[0] as Json));
      if (!m) throw syntaxError(params[0] as Json, null, 'unknown monitor session');
      const newId = params[1] as Json;
      const changingId = stringify(newId) !== stringify(m.id);
      if (changingId && this.monitors.has(stringify(newId))) throw syntaxError(newId, null, 'duplicate monitor ID');
      if (m.version === 1) throw syntaxError(params, null, 'invalid parameters');
      // Pending changes go out under the old condition first.
      this.flushMonitors();
      m.changeConditions(params[2] as Json);
      if (changingId) {
        this.monitors.delete(stringify(m.id));
        (m as { id: Json }).id = newId;
        m.renamed();
        this.monitors.set(stringify(newId), m);
      }
      const update = m.composeConditionChange();
      if (update) this.conn.sendText(m.notificationText(stringify(update), ZERO_UUID));
      return replyJson({}, id);
    } catch (e) {
      if (!(e instanceof OvsdbError)) throw e;
      return errorJson(e.toJson(), id);
    }
  }

  private monitorCancel(params: Json[], id: Json): Json {
    if (params.length !== 1) return errorJson('invalid parameters', id);
    const key = stringify(params[0] as Json);
    const m = this.monitors.get(key);
    if (!m) return errorJson('unknown monitor', id);
    this.removeMonitor(key, m);
    return replyJson({}, id);
  }

  /**
   * Drops the monitors of `db` (its schema changed); a change-aware client is told
   * with "monitor_canceled" (ovsdb_monitor_prereplace_db()).
   */
  cancelMonitors(db: Database): void {
    for (const [key, m] of [...this.monitors]) {
      if (m.db !== db) continue;
      this.removeMonitor(key, m);
      if (this.dbChangeAware) this.send(notifyJson('monitor_canceled', [m.id]));
    }
  }

  private removeMonitor(key: string, m: Monitor): void {
    this.monitors.delete(key);
    m.db.listeners.delete(m);
  }

  // ---------------------------------------------------------------------------
  // Locks.

  private lockName(req: Message): string | OvsdbError {
    const params = req.params as Json[];
    if (params.length !== 1 || typeof params[0] !== 'string' || !isId(params[0])) {
      return syntaxError(params, null, `${req.method as string} request params must be <id>`);
    }
    return params[0];
  }

  private lock(req: Message, mode: 'wait' | 'steal'): Json {
    const id = req.id as Json;
    if (this.readOnly) return errorJson('lock and unlock methods not allowed, DB server is read only.', id);
    const name = this.lockName(req);
    if (name instanceof OvsdbError) return errorJson(name.toJson(), id);
    if (this.waiters.has(name)) {
      return errorJson(syntaxError(req.params as Json[], null, `must issue "unlock" before new "${req.method as string}"`).toJson(), id);
    }
    const w = this.server.lock(this, name, mode);
    return replyJson({ locked: this.server.lockOwner(name) === w }, id);
  }

  private unlock(req: Message): Json {
    const id = req.id as Json;
    if (this.readOnly) return errorJson('lock and unlock methods not allowed, DB server is read only.', id);
    const name = this.lockName(req);
    if (name instanceof OvsdbError) return errorJson(name.toJson(), id);
    const w = this.waiters.get(name);
    if (!w) {
      return errorJson(syntaxError(req.params as Json[], null, `${req.method as string}: "unlock" without "lock" or "steal"`).toJson(), id);
    }
    this.server.unlock(w);
    return replyJson({}, id);
  }

  notify(method: string, params: Json[]): void {
    this.send(notifyJson(method, params));
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const [key, m] of [...this.monitors]) this.removeMonitor(key, m);
    for (const w of [...this.waiters.values()]) this.server.unlock(w);
    for (const t of [...this.triggers.values()]) this.completeTrigger(t, null);
    this.conn.close();
    this.server.sessionClosed(this);
  }
}

/** A parsed remote name (lib/stream.c, pstream). */
export interface Remote {
  kind: 'punix' | 'ptcp' | 'pssl' | 'unix' | 'tcp' | 'ssl';
  path?: string;
  host?: string;
  port?: number;
}

export function parseRemote(name: string): Remote | null {
  const m = /^(punix|unix):(.+)$/.exec(name);
  if (m) return { kind: m[1] as 'punix' | 'unix', path: m[2] as string };
  const p = /^(ptcp|pssl):(\d*)(?::(.*))?$/.exec(name);
  if (p) {
    const host = (p[3] ?? '').replace(/^\[(.*)\]$/, '$1');
    return { kind: p[1] as 'ptcp' | 'pssl', port: p[2] ? Number(p[2]) : 6640, host: host || undefined };
  }
  const a = /^(tcp|ssl):(\[[^\]]+\]|[^:]+)(?::(\d+))?$/.exec(name);
  if (a) return { kind: a[1] as 'tcp' | 'ssl', host: (a[2] as string).replace(/^\[(.*)\]$/, '$1'), port: a[3] ? Number(a[3]) : 6640 };
  return null;
}

interface ActiveRemote {
  name: string;
  socket: net.Socket | null;
  timer: NodeJS.Timeout | null;
  backoff: number;
  session: Session | null;
  probeInterval: number;
  stopped: boolean;
  /** reconnect.c's state name for the Manager row's status. */
  state: 'CONNECTING' | 'ACTIVE' | 'BACKOFF';
  connectedAt: number | null;
  disconnectedAt: number | null;
  lastError: string | null;
}

/** What ovsdb-server reports in a Manager row (ovsdb_jsonrpc_remote_status). */
interface RemoteStatus {
  isConnected: boolean;
  status: [string, string][];
}

export class OvsdbServer {
  readonly log: Logger;
  readonly serverId = newUuid();
  private readonly dbs = new Map<string, ServedDb>();
  private readonly sessions = new Set<Session>();
  private readonly listeners = new Map<string, net.Server>();
  private readonly active = new Map<string, ActiveRemote>();
  private readonly locks = new Map<string, LockWaiter[]>();
  private readonly shared = new Map<string, string | null>();
  private readonly dbRemotes: string[] = [];
  private statusTimer: NodeJS.Timeout | null = null;
  private readonly staticRemotes: string[] = [];
  private remotesTimer: NodeJS.Timeout | null = null;
  private closed = false;

  constructor(private readonly opts: OvsdbServerOptions) {
    this.log = new Logger('ovsdb_server', opts.log ?? nullSink);
  }

  /** Listening addresses, by remote name (ptcp:0 resolves to the real port). */
  readonly addresses = new Map<string, net.AddressInfo | string>();

  // ---------------------------------------------------------------------------
  // Databases.

  async openDatabase(name: string): Promise<ServedDb> {
    const filename = followSymlinks(name);
    if (!existsSync(filename)) {
      const schema = DatabaseSchema.fromFile(this.opts.schema ?? DEFAULT_SCHEMA_PATH);
      createFile(filename, schema.toJson());
      this.log.info(`${filename}: created from schema ${this.opts.schema ?? DEFAULT_SCHEMA_PATH}`);
    }
    const read = readRecords(filename);
    if (!read.records.length) {
      if (read.error) throw read.error;
      throw new OvsdbError('ovsdb error', `${filename}: unexpected end of file reading schema`);
    }
    const schema = DatabaseSchema.fromJson(read.records[0] as Json);
    const db = new Database(schema);
    let good = read.ends[0] as number;
    let error = read.error;
    for (let i = 1; i < read.records.length; i++) {
      try {
        db.replay(read.records[i] as Json);
        good = read.ends[i] as number;
      } catch (e) {
        if (!(e instanceof OvsdbError)) throw e;
        error = e;
        break;
      }
    }
    if (error) {
      // As ovsdb-server does: log it and serve what was read; the bad tail goes.
      this.log.err(error.toString());
      this.log.warn(`${filename}: truncating to ${good} bytes (dropping ${read.size - good} bytes of unreadable data)`);
    }
    if (schema.name.startsWith('_')) throw new OvsdbError('ovsdb error', `${schema.name}: names beginning with "_" are reserved`);
    if (this.dbs.has(schema.name)) throw new OvsdbError('ovsdb error', `${schema.name}: duplicate database name`);
    const storage = await FileStorage.open(filename, good, read.size, read.records.length);
    db.storage = storage;
    const served: ServedDb = { name: schema.name, filename, db, storage, triggers: new Set(), nextCompaction: nextCompactionTime() };
    this.addDb(served);
    return served;
  }

  private addDb(served: ServedDb): void {
    this.dbs.set(served.name, served);
    served.db.listeners.add({ onCommit: () => this.afterCommit(served) });
  }

  served(name: string): ServedDb | undefined {
    return this.dbs.get(name);
  }

  database(name: string): Database | undefined {
    return this.dbs.get(name)?.db;
  }

  dbNames(): readonly string[] {
    return shashOrder([...this.dbs.keys()]);
  }

  private addServerDb(): void {
    const schema = DatabaseSchema.fromJson(parseJson(serverSchemaText));
    const db = new Database(schema);
    this.addDb({ name: '_Server', filename: '<internal>', db, storage: null, triggers: new Set(), nextCompaction: Infinity });
  }

  /** update_server_status(): one _Server.Database row per database. */
  private updateServerStatus(): void {
    const served = this.dbs.get('_Server') as ServedDb;
    const table = served.db.table('Database') as Table;
    const txn = served.db.newTxn();
    const byName = new Map<string, string>();
    for (const row of table.rows.values()) {
      const name = row.get(table.schema.column('name')!.index)[0] as string;
      if (!this.dbs.has(name)) txn.rowDelete(row);
      else byName.set(name, row.uuid);
    }
    const set = (row: Row, col: string, json: Json): void => {
      const c = table.schema.column(col)!;
      row.set(c.index, datumFromJson(c.type, json, null));
    };
    for (const s of this.dbs.values()) {
      const existing = byName.get(s.name);
      const row = existing ? txn.rowModify(table.rows.get(existing)!) : table.newRow(newUuid());
      set(row, 'name', s.name);
      set(row, 'model', 'standalone');
      set(row, 'connected', true);
      set(row, 'leader', true);
      // As update_database_status() does: the schema is written with a new row only,
      // so after "convert" the row still shows the schema the database opened with.
      if (!existing) {
        set(row, 'schema', ['set', [stringifySorted(s.db.schema.toJson())]]);
        txn.rowInsert(row);
      }
    }
    try {
      served.db.commit(txn);
    } catch (e) {
      txn.abort();
      throw e;
    }
  }

  // ---------------------------------------------------------------------------
  // Triggers.

  /** ovsdb_trigger_try(); `elapsed` is given when the trigger's own timer fired. */
  tryTrigger(t: Trigger, elapsed?: number): void {
    const now = Date.now();
    const r = executeTransaction(t.served.db, t.session, t.params, t.session.readOnly, elapsed ?? now - t.created);
    if (r.kind === 'wait') {
      if (r.timeoutMs < Number.MAX_SAFE_INTEGER && !t.timer) {
        const timeoutMs = r.timeoutMs;
        t.timer = setTimeout(() => {
          t.timer = null;
          // ovsdb-server wakes exactly at the deadline; report that, not timer jitter.
          if (t.session.triggers.get(t.idKey) === t) this.tryTrigger(t, Math.max(timeoutMs, 0));
        }, Math.max(0, t.created + timeoutMs - now));
      }
      return;
    }
    if (r.kind === 'reply') {
      t.session.completeTrigger(t, replyJson(r.results, t.id));
      return;
    }
    let write: Promise<void> | null;
    try {
      write = t.served.db.commit(r.txn);
    } catch (e) {
      r.txn.abort();
      if (!(e instanceof OvsdbError)) throw e;
      t.session.completeTrigger(t, replyJson([...r.results, e.toJson()], t.id));
      return;
    }
    if (!write) {
      t.session.completeTrigger(t, replyJson(r.results, t.id));
      return;
    }
    t.committing = true;
    if (t.timer) clearTimeout(t.timer);
    write.then(
      () => t.session.completeTrigger(t, replyJson(r.results, t.id)),
      (e: unknown) => {
        const err = e instanceof OvsdbError ? e : new OvsdbError('I/O error', String(e));
        t.session.completeTrigger(t, replyJson([...r.results, err.toJson()], t.id));
      },
    );
  }

  private afterCommit(served: ServedDb): void {
    // Waiting transactions may now be satisfied; monitors have news.
    if (served.triggers.size) {
      setImmediate(() => {
        for (const t of [...served.triggers]) if (!t.committing && t.session.triggers.get(t.idKey) === t) this.tryTrigger(t);
      });
    }
    this.scheduleFlush();
    if (this.dbRemotes.length) this.scheduleRemotes();
    const st = served.storage;
    if (st && st.grewLots() && Date.now() >= served.nextCompaction) {
      served.nextCompaction = nextCompactionTime();
      void this.compact(served.name).catch((e: unknown) => this.log.err(`${served.filename}: compaction failed: ${String(e)}`));
    }
  }

  /** A new monitor's initial contents as text, shared by identical monitors until the next commit. */
  composeInitialShared(m: Monitor): string {
    const key = m.conditional ? null : `${m.signature}#init#${m.db.name}#${m.db.nCommits}`;
    const hit = key !== null ? this.shared.get(key) : undefined;
    if (hit !== undefined && hit !== null) return hit;
    const text = stringify(m.composeInitial() ?? {});
    if (key !== null) {
      if (this.shared.size > 256) this.shared.clear();
      this.shared.set(key, text);
    }
    return text;
  }

  private flushQueued = false;

  /** After a commit: one pass over the sessions sends every monitor's update. */
  private scheduleFlush(): void {
    if (this.flushQueued) return;
    this.flushQueued = true;
    setImmediate(() => {
      this.flushQueued = false;
      for (const s of this.sessions) if (s.monitors.size) s.flushMonitors();
    });
  }

  /** Composes a monitor's pending update, sharing the text among identical monitors. */
  composeShared(m: Monitor): string | null {
    const key = m.shareKey;
    if (key !== null && this.shared.has(key)) {
      m.discardPending();
      return this.shared.get(key) as string | null;
    }
    const u = m.composePending();
    const text = u ? stringify(u) : null;
    if (key !== null) {
      if (this.shared.size > 256) this.shared.clear();
      this.shared.set(key, text);
    }
    return text;
  }

  /**
   * The "convert" method (ovsdb_trigger_try()): converts the database to the new
   * schema, writes the file as the new schema and one snapshot record, replaces the
   * database (canceling its monitors and waiting transactions) and replies {}.
   */
  convert(session: Session, served: ServedDb, params: Json[], id: Json): Json | null {
    let db: Database;
    try {
      if (params.length !== 2) throw syntaxError(params, null, 'array expected');
      const schema = DatabaseSchema.fromJson(params[1] as Json);
      if (schema.name !== served.db.schema.name) {
        throw new OvsdbError(
          'invalid parameters',
          `new schema name (${schema.name}) does not match database name (${served.db.schema.name})`,
        );
      }
      if (!served.storage) throw new OvsdbError('not allowed', `${served.name}: database cannot be converted`);
      db = convertDatabase(served.db, schema);
      served.storage.compactNow([schema.toJson(), db.snapshotRecord('converted by ovsdb-server')]);
    } catch (e) {
      if (!(e instanceof OvsdbError)) throw e;
      return errorJson(e.toJson(), id);
    }
    this.replaceDb(served, db);
    this.log.info(`${served.filename}: converted to schema version ${db.schema.version}`);
    session.send(replyJson({}, id));
    this.updateServerStatus();
    return null;
  }

  /** ovsdb_replace(): monitors and waiting transactions of the old database end. */
  private replaceDb(served: ServedDb, db: Database): void {
    const old = served.db;
    for (const s of this.sessions) s.cancelMonitors(old);
    for (const t of [...served.triggers]) if (!t.committing) t.session.completeTrigger(t, errorJson('canceled', t.id));
    db.storage = old.storage;
    old.storage = null;
    served.db = db;
    this.shared.clear();
    db.listeners.add({ onCommit: () => this.afterCommit(served) });
  }

  /** Rewrites a database file as one snapshot record (ovsdb-server/compact). */
  async compact(name: string): Promise<void> {
    const served = this.dbs.get(name);
    if (!served?.storage) throw new Error(`${name}: not a file-backed database`);
    const db = served.db;
    await served.storage.compact(() => [db.schema.toJson(), db.snapshotRecord('compacting database online')]);
    this.log.info(`${served.filename}: compacted`);
  }

  // ---------------------------------------------------------------------------
  // Locks (ovsdb/server.c).

  lockOwner(name: string): LockWaiter | undefined {
    return this.locks.get(name)?.[0];
  }

  lock(session: Session, name: string, mode: 'wait' | 'steal'): LockWaiter {
    let q = this.locks.get(name);
    if (!q) this.locks.set(name, (q = []));
    const victim = mode === 'steal' && q.length ? q[0] : undefined;
    const w: LockWaiter = { session, name, mode, queued: true };
    if (mode === 'steal') q.unshift(w);
    else q.push(w);
    session.waiters.set(name, w);
    if (victim && victim.mode === 'steal') this.removeWaiter(victim);
    if (victim) victim.session.notify('stolen', [name]);
    return w;
  }

  /** Removes `w` from its lock's queue; returns the new owner, if ownership passed. */
  private removeWaiter(w: LockWaiter): LockWaiter | undefined {
    if (!w.queued) return undefined;
    w.queued = false;
    const q = this.locks.get(w.name);
    if (!q) return undefined;
    const wasOwner = q[0] === w;
    q.splice(q.indexOf(w), 1);
    if (!q.length) {
      this.locks.delete(w.name);
      return undefined;
    }
    return wasOwner ? q[0] : undefined;
  }

  unlock(w: LockWaiter): void {
    const next = this.removeWaiter(w);
    w.session.waiters.delete(w.name);
    if (next) next.session.notify('locked', [w.name]);
  }

  // ---------------------------------------------------------------------------
  // Remotes.

  private ssl(): Tls.SecureContextOptions & { requestCert: boolean; rejectUnauthorized: boolean } {
    const o = this.opts.ssl;
    if (!o) throw new Error('SSL remotes need --private-key, --certificate and --ca-cert');
    return {
      key: readFileSync(o.privateKey),
      cert: readFileSync(o.certificate),
      ca: o.caCert ? readFileSync(o.caCert) : undefined,
      ciphers: o.ciphers,
      minVersion: 'TLSv1.2',
      requestCert: true,
      rejectUnauthorized: !o.bootstrap,
    };
  }

  async addRemote(name: string): Promise<void> {
    if (name.startsWith('db:')) {
      this.dbRemotes.push(name);
      this.scheduleRemotes();
      return;
    }
    this.staticRemotes.push(name);
    await this.openRemote(name, { probeInterval: null, readOnly: false });
  }

  private async openRemote(name: string, o: { probeInterval: number | null; readOnly: boolean }): Promise<void> {
    const r = parseRemote(name);
    if (!r) {
      this.log.err(`${name}: unknown remote type`);
      return;
    }
    // TLS is loaded by the first SSL remote only: a server without one saves its memory.
    if (r.kind === 'pssl' || r.kind === 'ssl') tlsModule ??= await import('node:tls');
    const tls = tlsModule as typeof Tls;
    if (r.kind === 'punix' || r.kind === 'ptcp' || r.kind === 'pssl') {
      if (this.listeners.has(name)) return;
      const probe = o.probeInterval ?? (r.kind === 'punix' ? 0 : DEFAULT_PROBE_INTERVAL);
      const onConn = (sock: net.Socket): void => {
        const peer = r.kind === 'punix' ? `unix#${this.sessions.size}` : `${r.kind.slice(1)}:${sock.remoteAddress}:${sock.remotePort}`;
        this.addSession(new Connection(sock, peer, probe), o.readOnly, name);
      };
      const srv = r.kind === 'pssl' ? tls.createServer(this.ssl(), onConn) : net.createServer(onConn);
      srv.on('error', (e) => this.log.err(`${name}: ${e.message}`));
      if (r.kind === 'punix') {
        const path = r.path as string;
        if (existsSync(path)) unlinkSync(path);
        await new Promise<void>((resolve, reject) => {
          srv.once('error', reject);
          srv.listen(path, () => resolve());
        });
        this.addresses.set(name, path);
      } else {
        await new Promise<void>((resolve, reject) => {
          srv.once('error', reject);
          srv.listen(r.port, r.host ?? '0.0.0.0', () => resolve());
        });
        this.addresses.set(name, srv.address() as net.AddressInfo);
      }
      this.listeners.set(name, srv);
      this.log.info(`${name}: listening`);
      return;
    }
    if (this.active.has(name)) return;
    const a: ActiveRemote = {
      name,
      socket: null,
      timer: null,
      backoff: 1000,
      session: null,
      probeInterval: o.probeInterval ?? (r.kind === 'unix' ? 0 : DEFAULT_PROBE_INTERVAL),
      stopped: false,
      state: 'CONNECTING',
      connectedAt: null,
      disconnectedAt: null,
      lastError: null,
    };
    this.active.set(name, a);
    this.connectActive(a, r, o.readOnly);
  }

  private connectActive(a: ActiveRemote, r: Remote, readOnly: boolean): void {
    if (a.stopped || this.closed) return;
    this.log.info(`${a.name}: connecting...`);
    const sock =
      r.kind === 'unix'
        ? net.connect(r.path as string)
        : r.kind === 'ssl'
          ? (tlsModule as typeof Tls).connect({ ...this.ssl(), host: r.host, port: r.port, checkServerIdentity: () => undefined })
          : net.connect(r.port as number, r.host);
    a.socket = sock;
    a.state = 'CONNECTING';
    const ready = r.kind === 'ssl' ? 'secureConnect' : 'connect';
    sock.once(ready, () => {
      this.log.info(`${a.name}: connected`);
      a.backoff = 1000;
      a.state = 'ACTIVE';
      a.connectedAt = Date.now();
      a.session = this.addSession(new Connection(sock, a.name, a.probeInterval), readOnly, a.name);
    });
    sock.once('close', () => {
      if (a.session) {
        this.log.info(`${a.name}: connection dropped`);
        a.disconnectedAt = Date.now();
      }
      a.session = null;
      a.socket = null;
      a.state = 'BACKOFF';
      if (a.stopped || this.closed) return;
      a.timer = setTimeout(() => this.connectActive(a, r, readOnly), a.backoff);
      a.timer.unref();
      a.backoff = Math.min(a.backoff * 2, 8000);
    });
    sock.on('error', (e: NodeJS.ErrnoException) => {
      a.lastError = e.code ? errnoText(e) : e.message;
      this.log.warn(`${a.name}: connection attempt failed (${a.lastError})`);
    });
  }

  private scheduleRemotes(): void {
    if (this.remotesTimer || this.closed) return;
    this.remotesTimer = setTimeout(() => {
      this.remotesTimer = null;
      void this.reconfigureRemotes();
    }, 0);
  }

  /** The remotes named by db:DB,TABLE,COLUMN (query_db_remotes()). */
  private dbRemoteTargets(): Map<string, { probeInterval: number | null; readOnly: boolean }> {
    const out = new Map<string, { probeInterval: number | null; readOnly: boolean }>();
    for (const spec of this.dbRemotes) {
      const m = /^db:([^,]+),([^,]+),(.+)$/.exec(spec);
      if (!m) continue;
      const db = this.database(m[1] as string);
      const table = db?.table(m[2] as string);
      const col = table?.schema.column(m[3] as string);
      if (!db || !table || !col) continue;
      for (const row of table.rows.values()) {
        const d = row.get(col.index);
        if (col.type.key.type === 'string') {
          for (const s of d) out.set(s as string, { probeInterval: null, readOnly: false });
        } else if (col.type.key.refTable) {
          const rt = col.type.key.refTable;
          const target = rt.schema.column('target');
          if (!target) continue;
          for (const u of d) {
            const mrow = rt.rows.get(u as string);
            if (!mrow) continue;
            const t = mrow.get(target.index)[0];
            if (typeof t !== 'string') continue;
            const probeCol = rt.schema.column('inactivity_probe');
            const roCol = rt.schema.column('read_only');
            const probe = probeCol ? mrow.get(probeCol.index)[0] : undefined;
            const ro = roCol ? mrow.get(roCol.index)[0] : undefined;
            out.set(t, { probeInterval: typeof probe === 'number' ? probe : null, readOnly: ro === true });
          }
        }
      }
    }
    return out;
  }

  private async reconfigureRemotes(): Promise<void> {
    const want = this.dbRemoteTargets();
    for (const s of this.staticRemotes) want.set(s, { probeInterval: null, readOnly: false });
    for (const [name, srv] of this.listeners) {
      if (want.has(name)) continue;
      srv.close();
      this.listeners.delete(name);
      this.addresses.delete(name);
    }
    for (const [name, a] of this.active) {
      if (want.has(name)) continue;
      a.stopped = true;
      if (a.timer) clearTimeout(a.timer);
      a.session?.close();
      a.socket?.destroy();
      this.active.delete(name);
    }
    for (const [name, o] of want) {
      try {
        await this.openRemote(name, o);
      } catch (e) {
        this.log.err(`${name}: ${(e as Error).message}`);
      }
    }
  }

  private addSession(conn: Connection, readOnly: boolean, remote: string): Session {
    const s = new Session(this, conn, readOnly, remote);
    this.sessions.add(s);
    return s;
  }

  /** ovsdb_jsonrpc_server_get_remote_status(). */
  private remoteStatus(target: string): RemoteStatus {
    const status: [string, string][] = [];
    const sessions = [...this.sessions].filter((x) => x.remote === target);
    const addr = this.addresses.get(target);
    if (this.listeners.has(target)) {
      // A listener's status is zeroed, then filled in: the times read "0".
      status.push(['sec_since_connect', '0'], ['sec_since_disconnect', '0']);
      if (sessions.length > 1) status.push(['n_connections', String(sessions.length)]);
      if (addr && typeof addr !== 'string' && addr.port) status.push(['bound_port', String(addr.port)]);
      return { isConnected: sessions.length > 0, status };
    }
    const a = this.active.get(target);
    if (!a) return { isConnected: false, status };
    const now = Date.now();
    status.push(['state', a.state]);
    if (a.connectedAt !== null) status.push(['sec_since_connect', String(Math.floor((now - a.connectedAt) / 1000))]);
    if (a.disconnectedAt !== null) status.push(['sec_since_disconnect', String(Math.floor((now - a.disconnectedAt) / 1000))]);
    if (a.lastError) status.push(['last_error', a.lastError]);
    const s = a.session;
    if (s) {
      const held: string[] = [];
      const waiting: string[] = [];
      const lost: string[] = [];
      for (const w of s.waiters.values()) {
        if (this.lockOwner(w.name) === w) held.push(w.name);
        else if (w.mode === 'wait') waiting.push(w.name);
        else lost.push(w.name);
      }
      if (held.length) status.push(['locks_held', held.join(' ')]);
      if (waiting.length) status.push(['locks_waiting', waiting.join(' ')]);
      if (lost.length) status.push(['locks_lost', lost.join(' ')]);
    }
    return { isConnected: a.state === 'ACTIVE', status };
  }

  /** update_remote_status(): is_connected and status of the rows db: remotes name. */
  private updateRemoteStatus(): void {
    for (const served of this.dbs.values()) {
      if (served.name === '_Server') continue;
      const txn = served.db.newTxn();
      for (const spec of this.dbRemotes) {
        const m = /^db:([^,]+),([^,]+),(.+)$/.exec(spec);
        if (!m || m[1] !== served.name) continue;
        const table = served.db.table(m[2] as string);
        const col = table?.schema.column(m[3] as string);
        const rt = col?.type.key.refTable;
        if (!table || !col || !rt || col.type.value) continue;
        const target = rt.schema.column('target');
        const isConn = rt.schema.column('is_connected');
        const statusCol = rt.schema.column('status');
        if (!target) continue;
        for (const row of table.rows.values()) {
          for (const u of row.get(col.index)) {
            const ref = rt.rows.get(u as string);
            const t = ref?.get(target.index)[0];
            if (!ref || typeof t !== 'string') continue;
            const st = this.remoteStatus(t);
            const w = txn.rowModify(ref);
            if (isConn) w.set(isConn.index, datumFromJson(isConn.type, st.isConnected, null));
            if (statusCol) w.set(statusCol.index, datumFromJson(statusCol.type, ['map', st.status], null));
          }
        }
      }
      try {
        served.db.commit(txn)?.catch((e: unknown) => this.log.err(`Failed to update remote status: ${String(e)}`));
      } catch (e) {
        txn.abort();
        this.log.err(`Failed to update remote status: ${e instanceof OvsdbError ? e.toString() : String(e)}`);
      }
    }
  }

  /** The remotes as given (--remote and ovsdb-server/add-remote), db: ones included. */
  remoteNames(): string[] {
    return [...this.staticRemotes, ...this.dbRemotes];
  }

  /** ovsdb-server/remove-remote: false if `name` is not a configured remote. */
  removeRemote(name: string): boolean {
    for (const list of [this.staticRemotes, this.dbRemotes]) {
      const i = list.indexOf(name);
      if (i < 0) continue;
      list.splice(i, 1);
      void this.reconfigureRemotes();
      return true;
    }
    return false;
  }

  /** ovsdb-server/reconnect: drops every session (clients reconnect). */
  reconnect(): void {
    for (const s of [...this.sessions]) s.close();
  }

  /** memory/show: cells (row columns) held, monitors, sessions. */
  memoryUsage(): Record<string, number> {
    let cells = 0;
    let monitors = 0;
    for (const served of this.dbs.values()) {
      for (const t of served.db.tables.values()) cells += t.rows.size * t.schema.columns.length;
    }
    for (const s of this.sessions) monitors += s.monitors.size;
    return { cells, monitors, sessions: this.sessions.size };
  }

  sessionClosed(s: Session): void {
    this.sessions.delete(s);
  }

  get sessionCount(): number {
    return this.sessions.size;
  }

  /** Closes every remote and session, waits for writes, closes the files. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.remotesTimer) clearTimeout(this.remotesTimer);
    if (this.statusTimer) clearTimeout(this.statusTimer);
    for (const a of this.active.values()) {
      a.stopped = true;
      if (a.timer) clearTimeout(a.timer);
      a.socket?.destroy();
    }
    for (const s of [...this.sessions]) s.close();
    await Promise.all(
      [...this.listeners.values()].map((srv) => new Promise<void>((resolve) => srv.close(() => resolve()))),
    );
    for (const [name, addr] of this.addresses) {
      if (typeof addr === 'string' && name.startsWith('punix:') && existsSync(addr)) unlinkSync(addr);
    }
    for (const s of this.dbs.values()) await s.storage?.close();
  }

  /** Opens databases and remotes (after the constructor). */
  async start(): Promise<void> {
    // ovsdb-server opens the files first and adds _Server last; list_dbs shows it.
    for (const f of this.opts.databases) await this.openDatabase(f);
    if (this.opts.warmUp !== false) {
      const t = Date.now();
      let n = 0;
      for (const s of this.dbs.values()) n += warmUp(s.db.schema);
      this.log.info(`JIT warm-up: ${n} synthetic operations in ${Date.now() - t} ms`);
    }
    this.addServerDb();
    this.updateServerStatus();
    for (const r of this.opts.remotes ?? []) await this.addRemote(r);
    if (this.dbRemotes.length) {
      await this.reconfigureRemotes();
      // ovsdb-server refreshes the status of remotes every 2.5 seconds.
      const tick = (): void => {
        this.updateRemoteStatus();
        this.statusTimer = setTimeout(tick, 2500);
        this.statusTimer.unref();
      };
      tick();
    }
  }
}

function nextCompactionTime(): number {
  return Date.now() + 10 * 60 * 1000 + Math.floor(Math.random() * 10 * 60 * 1000);
}

/** Starts a server: opens (or creates) the databases and listens on the remotes. */
export async function startOvsdbServer(options: OvsdbServerOptions): Promise<OvsdbServer> {
  const server = new OvsdbServer(options);
  try {
    await server.start();
  } catch (e) {
    await server.close();
    throw e;
  }
  return server;
}
