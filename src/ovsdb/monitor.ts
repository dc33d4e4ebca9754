// Monitors (RFC 7047 §4.1.5; monitor_cond and monitor_cond_since from ovsdb-server(7);
// ovsdb/monitor.c): each monitor accumulates the rows committed transactions changed,
// as pairs of committed row versions, until its session can send them; then it
// composes "update", "update2" or "update3" exactly as ovsdb-server does.
import { conditionFromJson, conditionIsTrue, conditionsEqual, matchesAny, type Clause } from './condition.js';
import { datumDiff, datumEquals, datumToJson, isDefaultDatum } from './data.js';
import type { CommitListener, Database } from './database.js';
import { syntaxError, type OvsdbError } from './error.js';
import { stringify, type Json, type JsonObject } from './json.js';
import { OvsdbParser, OP } from './parser.js';
import { COL_UUID, type Column } from './schema.js';
import { objectOrder } from './shash.js';
import type { Row, Table } from './table.js';
import type { Txn } from './transaction.js';

export const SEL_INITIAL = 1;
export const SEL_INSERT = 2;
export const SEL_DELETE = 4;
export const SEL_MODIFY = 8;
const SEL_ALL = SEL_INITIAL | SEL_INSERT | SEL_DELETE | SEL_MODIFY;

export type MonitorVersion = 1 | 2 | 3;

interface MonitorColumn {
  column: Column;
  select: number;
  /** False for columns tracked only because a condition reads them. */
  monitored: boolean;
}

class MonitorTable {
  select = 0;
  columns: MonitorColumn[] = [];
  /** For monitor_cond: the condition last sent and the one to apply. */
  oldCond: Clause[] | null = null;
  newCond: Clause[] | null = null;

  constructor(readonly table: Table) {}

  has(c: Column): boolean {
    return this.columns.some((m) => m.column === c);
  }

  add(column: Column, select: number, monitored: boolean): boolean {
    if (this.has(column)) return false;
    this.select |= select;
    this.columns.push({ column, select, monitored });
    return true;
  }

  sortColumns(): void {
    this.columns.sort((a, b) => (a.monitored !== b.monitored ? (a.monitored ? -1 : 1) : a.column.index - b.column.index));
  }
}

type Pending = Map<string, Map<string, Change>>;

/**
 * The changes each commit brought to each monitor shape (signature), computed by
 * the first monitor of that shape and taken by the others as they are: with 100
 * monitors alike, one pass over the transaction instead of 100.
 */
const changesByTxn = new WeakMap<Txn, Map<string, Pending | null>>();

interface Change {
  old: Row | null;
  new: Row | null;
}

/** The pieces of an update: `table → uuid → row update`. */
type Updates = JsonObject | null;

export class Monitor implements CommitListener {
  readonly tables = new Map<string, MonitorTable>();
  /** Changes not yet sent, per table name, per row. */
  private pending: Pending | null = null;
  /** `pending` is also other monitors' (copy before changing it). */
  private pendingShared = false;
  /** The commits the pending changes came from (for sharing composed updates). */
  private pendingFirst = 0;
  private pendingLast = 0;
  /** Identifies monitors that would compose the same updates. */
  signature = '';

  private constructor(
    readonly db: Database,
    readonly version: MonitorVersion,
    readonly id: Json,
  ) {}

  /** Parses a monitor request (ovsdb_jsonrpc_monitor_create()); throws OvsdbError. */
  static create(db: Database, version: MonitorVersion, id: Json, requests: Json): Monitor {
    if (typeof requests !== 'object' || requests === null || Array.isArray(requests)) {
      throw syntaxError(requests, null, 'monitor-requests must be object');
    }
    const m = new Monitor(db, version, id);
    for (const name of objectOrder(requests)) {
      const table = db.table(name);
      if (!table) throw syntaxError(undefined, null, `no table named ${name}`);
      const mt = new MonitorTable(table);
      m.tables.set(name, mt);
      const req = requests[name] as Json;
      for (const r of Array.isArray(req) ? req : [req]) m.parseRequest(mt, r);
    }
    for (const mt of m.tables.values()) mt.sortColumns();
    m.signature = `${db.name}|${version}|` + [...m.tables.values()].map((mt) => `${mt.table.name}:${mt.select}:${mt.columns.map((c) => `${c.column.index}/${c.select}/${c.monitored ? 1 : 0}`).join(',')}`).join(';');
    return m;
  }

  private parseRequest(mt: MonitorTable, req: Json): void {
    const ts = mt.table.schema;
    const parser = new OvsdbParser(req, `table ${ts.name}`);
    const where = this.version > 1 ? parser.member('where', OP.ARRAY | OP.OPTIONAL) : undefined;
    const columns = parser.member('columns', OP.ARRAY | OP.OPTIONAL);
    const selectJson = parser.member('select', OP.OBJECT | OP.OPTIONAL);
    let error = parser.finish();
    if (error) throw error;
    let select = SEL_ALL;
    if (selectJson !== undefined) {
      select = 0;
      const sp = new OvsdbParser(selectJson, `table ${ts.name} select`);
      const flag = (name: string, bit: number): void => {
        const v = sp.member(name, OP.BOOLEAN | OP.OPTIONAL);
        if (v === undefined || v === true) select |= bit;
      };
      flag('initial', SEL_INITIAL);
      flag('insert', SEL_INSERT);
      flag('delete', SEL_DELETE);
      flag('modify', SEL_MODIFY);
      error = sp.finish();
      if (error) throw error;
    }
    mt.select |= select;
    if (columns !== undefined) {
      for (const c of columns as Json[]) {
        if (typeof c !== 'string') throw syntaxError(columns, null, 'array of column names expected');
        const col = ts.column(c);
        if (!col) throw syntaxError(columns, null, `${c} is not a valid column name`);
        if (!mt.add(col, select, true)) throw syntaxError(columns, null, `column ${col.name} mentioned more than once`);
      }
    } else {
      for (const col of ts.ordered) {
        if (col.index === COL_UUID) continue;
        if (!mt.add(col, select, true)) throw syntaxError(undefined, null, `column ${col.name} mentioned more than once`);
      }
    }
    if (this.version > 1 && mt.newCond === null) {
      const cond = where === undefined ? [] : conditionFromJson(ts, where as Json[], null);
      mt.oldCond = cond;
      mt.newCond = cond;
      this.addConditionColumns(mt, cond);
    }
  }

  private addConditionColumns(mt: MonitorTable, cond: Clause[]): void {
    for (const c of cond) if (!mt.has(c.column)) mt.add(c.column, 0, false);
  }

  /** True if some table's condition is not trivially true (no shared updates). */
  get conditional(): boolean {
    for (const mt of this.tables.values()) if (mt.newCond && !conditionIsTrue(mt.newCond)) return true;
    return false;
  }

  get hasPending(): boolean {
    return this.pending !== null;
  }

  /** Cache key for the pending update, if other monitors could share it. */
  get shareKey(): string | null {
    return this.pending && this.pendingFirst === this.pendingLast && !this.conditional ? `${this.signature}#${this.pendingLast}` : null;
  }

  // ---------------------------------------------------------------------------
  // Tracking.

  onCommit(txn: Txn): void {
    const seq = this.db.nCommits;
    if (!this.pending) {
      // What this commit means to a monitor of this shape does not depend on the monitor.
      let bySig = changesByTxn.get(txn);
      if (!bySig) changesByTxn.set(txn, (bySig = new Map()));
      let changes = bySig.get(this.signature);
      if (changes === undefined) {
        changes = this.changesOf(txn, null);
        bySig.set(this.signature, changes);
      }
      if (changes) {
        this.pending = changes;
        this.pendingShared = true;
        this.pendingFirst = seq;
        this.pendingLast = seq;
      }
      return;
    }
    if (this.pendingShared) {
      this.pending = clonePending(this.pending);
      this.pendingShared = false;
    }
    if (this.changesOf(txn, this.pending)) this.pendingLast = seq;
  }

  /** Adds the changes of `txn` that this monitor sees to `into` (or a new map); null if none. */
  private changesOf(txn: Txn, into: Pending | null): Pending | null {
    let out = into;
    let any = false;
    txn.forEachChange((r) => {
      const name = r.table.name;
      const mt = this.tables.get(name);
      if (!mt) return;
      // A modification of columns nobody watches has no effect (ovsdb_monitor_changes_classify()).
      if (r.oldRow && r.newRow && !mt.columns.some((c) => r.isChanged(c.column.index))) return;
      any = true;
      if (!out) out = new Map();
      let rows = out.get(name);
      if (!rows) out.set(name, (rows = new Map()));
      const prev = rows.get(r.uuid);
      if (!prev) rows.set(r.uuid, { old: r.oldRow, new: r.newRow });
      else {
        prev.new = r.newRow;
        if (!prev.old && !prev.new) rows.delete(r.uuid);
      }
    });
    return any ? out : null;
  }

  // ---------------------------------------------------------------------------
  // Composing.

  /** The reply to the monitor request: every row, as "initial". */
  composeInitial(): Updates {
    let out: Updates = null;
    for (const mt of this.tables.values()) {
      if (!(mt.select & SEL_INITIAL)) continue;
      for (const row of mt.table.rows.values()) {
        const ru = this.composeRow(mt, null, row, true);
        if (ru) out = addRow(out, mt.table.name, row.uuid, ru);
      }
    }
    return out;
  }

  /** Drops the pending changes (another monitor already composed the same update). */
  discardPending(): void {
    this.pending = null;
    this.pendingShared = false;
  }

  /** The pending changes as one update (consuming them), or null if none apply. */
  composePending(): Updates {
    const pending = this.pending;
    this.pending = null;
    this.pendingShared = false;
    if (!pending) return null;
    let out: Updates = null;
    for (const [name, rows] of pending) {
      const mt = this.tables.get(name) as MonitorTable;
      for (const [uuid, ch] of rows) {
        const ru = this.composeRow(mt, ch.old, ch.new, false);
        if (ru) out = addRow(out, mt.table.name, uuid, ru);
      }
    }
    return out;
  }

  /**
   * Applies a monitor_cond_change request's conditions (ovsdb_jsonrpc_monitor_cond_change()).
   * Throws OvsdbError. Returns the tables whose condition changed.
   */
  changeConditions(requests: Json): void {
    if (typeof requests !== 'object' || requests === null || Array.isArray(requests)) {
      throw syntaxError(undefined, null, 'monitor-cond-change-requests must be object');
    }
    const updates: [MonitorTable, Clause[]][] = [];
    for (const name of objectOrder(requests)) {
      const table = this.db.table(name);
      if (!table) throw syntaxError(undefined, null, `no table named ${name}`);
      const mt = this.tables.get(name);
      if (!mt) throw syntaxError(undefined, null, `no table named ${name} in monitor session`);
      const v = requests[name] as Json;
      if (!Array.isArray(v)) throw syntaxError(undefined, null, `table ${name} no monitor-cond-change JSON array`);
      for (const req of v) {
        const parser = new OvsdbParser(req, `table ${name}`);
        const columns = parser.member('columns', OP.ARRAY | OP.OPTIONAL);
        const where = parser.member('where', OP.ARRAY | OP.OPTIONAL);
        const error: OvsdbError | null = parser.finish();
        if (error) throw error;
        if (columns !== undefined) throw syntaxError(req, null, 'changing columns is unsupported');
        const cond = conditionFromJson(table.schema, (where as Json[] | undefined) ?? [], null);
        updates.push([mt, cond]);
      }
    }
    for (const [mt, cond] of updates) {
      if (!mt.oldCond) continue;
      mt.newCond = cond;
      this.addConditionColumns(mt, cond);
    }
  }

  /** Rows that enter or leave the monitor because a condition changed. */
  composeConditionChange(): Updates {
    let out: Updates = null;
    for (const mt of this.tables.values()) {
      if (!mt.oldCond || !mt.newCond || conditionsEqual(mt.oldCond, mt.newCond)) continue;
      for (const row of mt.table.rows.values()) {
        const ru = this.composeRow(mt, row, row, false);
        if (ru) out = addRow(out, mt.table.name, row.uuid, ru);
      }
      mt.oldCond = mt.newCond;
    }
    return out;
  }

  private updateType(mt: MonitorTable, old: Row | null, nu: Row | null, initial: boolean): number {
    let type = initial ? SEL_INITIAL : !old ? SEL_INSERT : !nu ? SEL_DELETE : SEL_MODIFY;
    if (this.version === 1 || !mt.oldCond || !mt.newCond) return type;
    const oldOk = old ? matchesAny(old, mt.oldCond) : false;
    const newOk = nu ? matchesAny(nu, mt.newCond) : false;
    if (!oldOk && !newOk) return 0;
    switch (type) {
      case SEL_INITIAL:
      case SEL_INSERT:
        if (!newOk) type = 0;
        break;
      case SEL_MODIFY:
        type = !oldOk ? SEL_INSERT : !newOk ? SEL_DELETE : SEL_MODIFY;
        break;
      case SEL_DELETE:
        if (!oldOk) type = 0;
        break;
    }
    return type;
  }

  private composeRow(mt: MonitorTable, old: Row | null, nu: Row | null, initial: boolean): Json | null {
    const type = this.updateType(mt, old, nu, initial);
    if (!(mt.select & type)) return null;
    let changed: boolean[] | null = null;
    if (type === SEL_MODIFY) {
      const o = old as Row;
      const n = nu as Row;
      changed = mt.columns.map((c) => !datumEquals(o.get(c.column.index), n.get(c.column.index)));
      if (!changed.includes(true)) return null;
    }
    if (this.version === 1) {
      const ru: JsonObject = {};
      const oldJson: JsonObject | null = type & (SEL_DELETE | SEL_MODIFY) ? {} : null;
      const newJson: JsonObject | null = type & (SEL_INITIAL | SEL_INSERT | SEL_MODIFY) ? {} : null;
      if (oldJson) ru.old = oldJson;
      if (newJson) ru.new = newJson;
      mt.columns.forEach((c, i) => {
        if (!c.monitored || !(type & c.select)) return;
        const col = c.column;
        if ((type === SEL_MODIFY && changed?.[i]) || type === SEL_DELETE) {
          (oldJson as JsonObject)[col.name] = datumToJson((old as Row).get(col.index), col.type);
        }
        if (newJson) newJson[col.name] = datumToJson((nu as Row).get(col.index), col.type);
      });
      return ru;
    }
    if (type === SEL_DELETE) return { delete: null };
    const diff: JsonObject = {};
    mt.columns.forEach((c, i) => {
      if (!c.monitored || !(type & c.select)) return;
      const col = c.column;
      const n = (nu as Row).get(col.index);
      if (type === SEL_MODIFY) {
        if (!changed?.[i]) return;
        diff[col.name] = datumToJson(datumDiff((old as Row).get(col.index), n, col.type), col.type);
      } else if (!isDefaultDatum(n, col.type)) {
        diff[col.name] = datumToJson(n, col.type);
      }
    });
    return { [type === SEL_INITIAL ? 'initial' : type === SEL_MODIFY ? 'modify' : 'insert']: diff };
  }

  private prefix: string | null = null;

  /** The notification carrying `updates` as JSON text (the update part pre-serialized). */
  notificationText(updatesText: string, lastTxnId: string): string {
    if (this.prefix === null) {
      const method = this.version === 1 ? 'update' : this.version === 2 ? 'update2' : 'update3';
      this.prefix = `{"id":null,"method":"${method}","params":[${stringify(this.id)},`;
    }
    return this.version === 3 ? `${this.prefix}"${lastTxnId}",${updatesText}]}` : `${this.prefix}${updatesText}]}`;
  }

  /** Forgets the cached notification prefix (the monitor ID changed). */
  renamed(): void {
    this.prefix = null;
  }
}

function addRow(out: Updates, table: string, uuid: string, ru: Json): JsonObject {
  const o = out ?? {};
  let t = o[table] as JsonObject | undefined;
  if (!t) o[table] = t = {};
  t[uuid] = ru;
  return o;
}

function clonePending(p: Pending): Pending {
  const out: Pending = new Map();
  for (const [name, rows] of p) {
    const copy = new Map<string, Change>();
    for (const [uuid, ch] of rows) copy.set(uuid, { old: ch.old, new: ch.new });
    out.set(name, copy);
  }
  return out;
}
