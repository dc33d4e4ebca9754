// An OVSDB client for Node programs (package export "xdpswitch/ovsdb-client"): connect
// to unix:, tcp: or ssl: remotes, read schemas, run typed transactions, keep a local
// replica of monitored tables up to date (monitor_cond / update2), take locks.
//
//   const c = await OvsdbClient.connect('unix:/var/run/openvswitch/db.sock');
//   const [r] = await c.transact('Open_vSwitch', { op: 'select', table: 'Bridge', where: [] });
//   const m = await c.monitor('Open_vSwitch', { Bridge: ['name', 'ports'] });
//   m.on('change', () => console.log([...m.rows('Bridge').values()].map((b) => b.name)));
import { EventEmitter } from 'node:events';
import net from 'node:net';
import tls from 'node:tls';
import { readFileSync } from 'node:fs';
import type {
  MonitorRequests,
  Operation,
  OperationResult,
  OvsdbErrorObject,
  OvsdbRow,
  OvsdbValue,
  RowUpdate2,
  TableUpdates2,
} from '../../proto/ovsdb/protocol.js';
import { OVSDB_PORT } from '../../proto/ovsdb/protocol.js';
import { isObject, type Json, type JsonObject } from './json.js';
import { Connection, errorJson, replyJson, requestJson, type Message } from './jsonrpc.js';

export type {
  Clause,
  MonitorRequest,
  MonitorRequests,
  Mutation,
  Operation,
  OperationResult,
  OvsdbAtom,
  OvsdbErrorObject,
  OvsdbRow,
  OvsdbValue,
} from '../../proto/ovsdb/protocol.js';

/** A JSON-RPC error reply ("unknown method", an RFC 7047 error object, ...). */
export class OvsdbRpcError extends Error {
  constructor(
    readonly method: string,
    readonly error: Json,
  ) {
    super(`${method}: ${typeof error === 'string' ? error : JSON.stringify(error)}`);
    this.name = 'OvsdbRpcError';
  }
}

/** An operation of a transaction failed; `results` holds every result as sent. */
export class TransactionError extends Error {
  constructor(
    readonly results: (OperationResult | OvsdbErrorObject | null)[],
    readonly failed: OvsdbErrorObject,
  ) {
    super(`${failed.error}${failed.details ? `: ${failed.details}` : ''}`);
    this.name = 'TransactionError';
  }
}

export interface TlsOptions {
  privateKey: string;
  certificate: string;
  caCert: string;
}

export interface ConnectOptions {
  tls?: TlsOptions;
  /** Inactivity probe in ms (default: none for unix:, 5000 for tcp: and ssl:). */
  probeInterval?: number;
}

/** Value helpers for OVSDB's JSON notation. */
export const ovsdb = {
  uuid: (s: string): ['uuid', string] => ['uuid', s],
  namedUuid: (s: string): ['named-uuid', string] => ['named-uuid', s],
  set: (atoms: OvsdbValue[]): OvsdbValue => ['set', atoms as never],
  map: (entries: Record<string, string | number | boolean> | [OvsdbValue, OvsdbValue][]): OvsdbValue =>
    ['map', (Array.isArray(entries) ? entries : Object.entries(entries)) as never],
};

/** A column's shape, enough to decode values (from get_schema). */
interface ColumnShape {
  kind: 'scalar' | 'optional' | 'set' | 'map';
  /** The value a row has when update2 leaves the column out. */
  dflt: () => DecodedValue;
}

const atomDefaults: Record<string, DecodedValue> = {
  integer: 0,
  real: 0,
  boolean: false,
  string: '',
  uuid: '00000000-0000-0000-0000-000000000000',
};

export type DecodedValue = string | number | boolean | null | DecodedValue[] | Map<DecodedValue, DecodedValue>;
export type ReplicaRow = { _uuid: string } & Record<string, DecodedValue>;

function decodeAtom(v: Json): DecodedValue {
  if (Array.isArray(v) && v.length === 2 && (v[0] === 'uuid' || v[0] === 'named-uuid')) return v[1] as string;
  return typeof v === 'bigint' ? Number(v) : (v as DecodedValue);
}

function elements(v: Json): Json[] {
  return Array.isArray(v) && v[0] === 'set' && Array.isArray(v[1]) ? v[1] : [v];
}

/** Decodes an OVSDB value to plain JS by the column's shape. */
export function decodeValue(v: Json, shape: ColumnShape | undefined): DecodedValue {
  if (Array.isArray(v) && v[0] === 'map' && Array.isArray(v[1])) {
    return new Map((v[1] as Json[][]).map(([k, x]) => [decodeAtom(k as Json), decodeAtom(x as Json)]));
  }
  const els = elements(v).map(decodeAtom);
  switch (shape?.kind) {
    case 'scalar':
      return els[0] ?? null;
    case 'optional':
      return els.length ? (els[0] as DecodedValue) : null;
    case 'map':
      return new Map();
    default:
      return els;
  }
}

function parseRemote(remote: string): { kind: 'unix' | 'tcp' | 'ssl'; path?: string; host?: string; port?: number } {
  const u = /^unix:(.+)$/.exec(remote);
  if (u) return { kind: 'unix', path: u[1] as string };
  const t = /^(tcp|ssl):(\[[^\]]+\]|[^:]+)(?::(\d+))?$/.exec(remote);
  if (t) return { kind: t[1] as 'tcp' | 'ssl', host: (t[2] as string).replace(/^\[(.*)\]$/, '$1'), port: t[3] ? Number(t[3]) : OVSDB_PORT };
  throw new Error(`${remote}: unsupported remote (use unix:PATH, tcp:HOST:PORT or ssl:HOST:PORT)`);
}

interface Pending {
  method: string;
  resolve(v: Json): void;
  reject(e: Error): void;
}

export interface ClientEvents {
  close: [];
  /** A lock was granted after a "lock" that returned locked: false. */
  locked: [string];
  /** Another client stole a lock this client held. */
  stolen: [string];
  notification: [Message];
}

export class OvsdbClient extends EventEmitter<ClientEvents> {
  private nextId = 0;
  private readonly pending = new Map<string, Pending>();
  private readonly monitors = new Map<string, Monitor>();
  private readonly schemas = new Map<string, Promise<JsonObject>>();

  private constructor(readonly conn: Connection) {
    super();
    conn.on('message', (m) => this.onMessage(m));
    conn.on('close', () => {
      for (const p of this.pending.values()) p.reject(new Error(`${p.method}: connection closed`));
      this.pending.clear();
      this.emit('close');
    });
  }

  /** Connects to `remote` (unix:PATH, tcp:HOST:PORT, ssl:HOST:PORT). */
  static connect(remote: string, opts: ConnectOptions = {}): Promise<OvsdbClient> {
    const r = parseRemote(remote);
    return new Promise((resolve, reject) => {
      let sock: net.Socket;
      if (r.kind === 'ssl') {
        const t = opts.tls;
        if (!t) throw new Error(`${remote}: ssl remotes need tls options`);
        sock = tls.connect({
          host: r.host,
          port: r.port,
          key: readFileSync(t.privateKey),
          cert: readFileSync(t.certificate),
          ca: readFileSync(t.caCert),
          checkServerIdentity: () => undefined,
        });
      } else {
        sock = r.kind === 'unix' ? net.connect(r.path as string) : net.connect(r.port as number, r.host);
      }
      const ready = r.kind === 'ssl' ? 'secureConnect' : 'connect';
      sock.once('error', reject);
      sock.once(ready, () => {
        sock.off('error', reject);
        sock.on('error', () => undefined);
        const probe = opts.probeInterval ?? (r.kind === 'unix' ? 0 : 5000);
        resolve(new OvsdbClient(new Connection(sock, remote, probe)));
      });
    });
  }

  /** Wraps an already connected stream (e.g. one end of an in-process pipe). */
  static fromSocket(sock: net.Socket, name = 'local'): OvsdbClient {
    return new OvsdbClient(new Connection(sock, name, 0));
  }

  /** Sends a request; resolves with its result, rejects with OvsdbRpcError. */
  request(method: string, params: Json[]): Promise<Json> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      if (this.conn.isClosed) {
        reject(new Error(`${method}: connection closed`));
        return;
      }
      this.pending.set(String(id), { method, resolve, reject });
      this.conn.send(requestJson(method, params, id));
    });
  }

  notify(method: string, params: Json[]): void {
    this.conn.send({ id: null, method, params });
  }

  private onMessage(m: Message): void {
    if (m.type === 'reply' || m.type === 'error') {
      const key = typeof m.id === 'number' || typeof m.id === 'string' ? String(m.id) : '';
      const p = this.pending.get(key);
      if (!p) return;
      this.pending.delete(key);
      if (m.type === 'error') p.reject(new OvsdbRpcError(p.method, m.error as Json));
      else p.resolve(m.result as Json);
      return;
    }
    if (m.type === 'request') {
      // The server's inactivity probe.
      if (m.method === 'echo') this.conn.send(replyJson(m.params ?? [], m.id as Json));
      else this.conn.send(errorJson('unknown method', m.id as Json));
      return;
    }
    const params = m.params ?? [];
    switch (m.method) {
      case 'update2':
      case 'update3':
      case 'update': {
        const mon = this.monitors.get(JSON.stringify(params[0]));
        mon?.apply((m.method === 'update3' ? params[2] : params[1]) as JsonObject, m.method === 'update');
        break;
      }
      case 'locked':
      case 'stolen':
        this.emit(m.method, params[0] as string);
        break;
    }
    this.emit('notification', m);
  }

  echo(...params: Json[]): Promise<Json> {
    return this.request('echo', params);
  }

  async listDbs(): Promise<string[]> {
    return (await this.request('list_dbs', [])) as string[];
  }

  getSchema(db: string): Promise<JsonObject> {
    let s = this.schemas.get(db);
    if (!s) {
      s = this.request('get_schema', [db]) as Promise<JsonObject>;
      this.schemas.set(db, s);
      s.catch(() => this.schemas.delete(db));
    }
    return s;
  }

  async getServerId(): Promise<string> {
    return (await this.request('get_server_id', [])) as string;
  }

  /**
   * Runs operations as one transaction. Resolves with the results; if an operation
   * (or the commit) failed, rejects with TransactionError carrying all of them.
   */
  async transact(db: string, ...ops: Operation[]): Promise<OperationResult[]> {
    const results = (await this.request('transact', [db, ...(ops as unknown as Json[])])) as (OperationResult | OvsdbErrorObject | null)[];
    const failed = results.find((r): r is OvsdbErrorObject => isObject(r as Json) && typeof (r as OvsdbErrorObject).error === 'string');
    if (failed) throw new TransactionError(results, failed);
    return results as OperationResult[];
  }

  /** Raw transact: the results array as the server sent it, errors included. */
  transactRaw(db: string, ...ops: Json[]): Promise<Json> {
    return this.request('transact', [db, ...ops]);
  }

  /** Takes `name`, waiting in line; resolves true once held (see the "locked" event). */
  async lock(name: string): Promise<boolean> {
    const r = (await this.request('lock', [name])) as { locked: boolean };
    if (r.locked) return true;
    return new Promise((resolve) => {
      const on = (n: string): void => {
        if (n !== name) return;
        this.off('locked', on);
        resolve(true);
      };
      this.on('locked', on);
    });
  }

  async steal(name: string): Promise<void> {
    await this.request('steal', [name]);
  }

  async unlock(name: string): Promise<void> {
    await this.request('unlock', [name]);
  }

  /**
   * Monitors `tables` (name → columns, or full monitor requests) with monitor_cond and
   * keeps a decoded replica. Resolves once the initial contents are in.
   */
  async monitor(db: string, tables: Record<string, string[] | MonitorRequests[string]>): Promise<Monitor> {
    const schema = await this.getSchema(db);
    const requests: Record<string, Json> = {};
    for (const [t, spec] of Object.entries(tables)) requests[t] = (Array.isArray(spec) ? [{ columns: spec }] : spec) as Json;
    const id = `mon${this.nextId++}`;
    const mon = new Monitor(this, db, id, schema);
    this.monitors.set(JSON.stringify(id), mon);
    try {
      const initial = (await this.request('monitor_cond', [db, id, requests])) as JsonObject;
      mon.apply(initial, false);
    } catch (e) {
      this.monitors.delete(JSON.stringify(id));
      throw e;
    }
    return mon;
  }

  /** @internal */
  forgetMonitor(id: string): void {
    this.monitors.delete(JSON.stringify(id));
  }

  close(): void {
    this.conn.close();
  }
}

export interface RowChange {
  table: string;
  uuid: string;
  old: ReplicaRow | null;
  new: ReplicaRow | null;
}

/** A monitor and the replica it keeps: tables of decoded rows by UUID. */
export class Monitor extends EventEmitter<{ change: [RowChange[]] }> {
  readonly tables = new Map<string, Map<string, ReplicaRow>>();
  private readonly shapes = new Map<string, Map<string, ColumnShape>>();

  constructor(
    private readonly client: OvsdbClient,
    readonly db: string,
    readonly id: string,
    schema: JsonObject,
  ) {
    super();
    const tables = (schema.tables ?? {}) as JsonObject;
    for (const [t, ts] of Object.entries(tables)) {
      const cols = new Map<string, ColumnShape>();
      for (const [c, cs] of Object.entries(((ts as JsonObject).columns ?? {}) as JsonObject)) {
        const type = (cs as JsonObject).type as Json;
        let kind: ColumnShape['kind'] = 'scalar';
        let key: Json = type;
        if (isObject(type)) {
          const min = type.min ?? 1;
          const max = type.max ?? 1;
          kind = type.value !== undefined ? 'map' : min === 1 && max === 1 ? 'scalar' : min === 0 && max === 1 ? 'optional' : 'set';
          key = type.key as Json;
        }
        const keyType = isObject(key) ? (key.type as string) : (key as string);
        const dflt: () => DecodedValue =
          kind === 'map' ? () => new Map() : kind === 'set' ? () => [] : kind === 'optional' ? () => null : () => atomDefaults[keyType] ?? null;
        cols.set(c, { kind, dflt });
      }
      this.shapes.set(t, cols);
    }
  }

  rows(table: string): Map<string, ReplicaRow> {
    let t = this.tables.get(table);
    if (!t) this.tables.set(table, (t = new Map()));
    return t;
  }

  private decodeRow(table: string, uuid: string, row: OvsdbRow, base?: ReplicaRow): ReplicaRow {
    const shapes = this.shapes.get(table);
    const out = { ...(base ?? {}), _uuid: uuid } as ReplicaRow;
    for (const [c, v] of Object.entries(row)) out[c] = decodeValue(v as Json, shapes?.get(c));
    return out;
  }

  /** Default values for a row's columns (update2 leaves defaults out). */
  private defaults(table: string): Record<string, DecodedValue> {
    const out: Record<string, DecodedValue> = {};
    for (const [c, s] of this.shapes.get(table) ?? []) out[c] = s.dflt();
    return out;
  }

  /** Applies an update (update2 form, or update when `v1`). @internal */
  apply(updates: JsonObject, v1: boolean): void {
    const changes: RowChange[] = [];
    for (const [table, rows] of Object.entries(updates)) {
      const t = this.rows(table);
      for (const [uuid, ru] of Object.entries(rows as Record<string, JsonObject>)) {
        const old = t.get(uuid) ?? null;
        let nu: ReplicaRow | null;
        if (v1) {
          nu = ru.new ? this.decodeRow(table, uuid, ru.new as OvsdbRow) : null;
        } else {
          const u = ru as unknown as RowUpdate2;
          if ('delete' in u) nu = null;
          else if ('modify' in u) nu = this.modify(table, uuid, old, u.modify);
          else {
            const row = 'initial' in u ? u.initial : u.insert;
            nu = this.decodeRow(table, uuid, row, { ...this.defaults(table), _uuid: uuid } as ReplicaRow);
          }
        }
        if (nu) t.set(uuid, nu);
        else t.delete(uuid);
        changes.push({ table, uuid, old, new: nu });
      }
    }
    if (changes.length) this.emit('change', changes);
  }

  /** update2 "modify": sets and maps carry differences, scalars new values. */
  private modify(table: string, uuid: string, old: ReplicaRow | null, diff: OvsdbRow): ReplicaRow {
    const shapes = this.shapes.get(table);
    const out = { ...(old ?? this.defaults(table)), _uuid: uuid } as ReplicaRow;
    for (const [c, v] of Object.entries(diff)) {
      const shape = shapes?.get(c);
      const cur = out[c];
      if (shape?.kind === 'map') {
        const m = new Map(cur instanceof Map ? cur : []);
        for (const [k, x] of decodeValue(v as Json, shape) as Map<DecodedValue, DecodedValue>) {
          if (m.has(k) && m.get(k) === x) m.delete(k);
          else m.set(k, x);
        }
        out[c] = m;
      } else if (shape?.kind === 'set') {
        const s = new Set(Array.isArray(cur) ? cur : []);
        for (const x of decodeValue(v as Json, shape) as DecodedValue[]) {
          if (s.has(x)) s.delete(x);
          else s.add(x);
        }
        out[c] = [...s];
      } else {
        out[c] = decodeValue(v as Json, shape);
      }
    }
    return out;
  }

  async cancel(): Promise<void> {
    this.client.forgetMonitor(this.id);
    await this.client.request('monitor_cancel', [this.id]);
  }
}

export type { TableUpdates2 };
