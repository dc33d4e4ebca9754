// One database (ovsdb/ovsdb.c): its tables, the reverse index of weak references, and
// the commit path that runs the checks, makes the changes permanent in memory, tells
// monitors and triggers, and hands the record to storage.
import { applyDiff, datumDiff, datumFromJson, datumToText, isDefaultDatum, isUuid } from './data.js';
import { syntaxError } from './error.js';
import { isObject, stringify, type Json } from './json.js';
import { objectOrder, shashOrder } from './shash.js';
import type { Column, DatabaseSchema } from './schema.js';
import { Table, type Row } from './table.js';
import { Txn, type TxnRow } from './transaction.js';
import { UINT_MAX } from './types.js';

export interface CommitListener {
  /** Called once a transaction is committed in memory, in commit order. */
  onCommit(txn: Txn): void;
}

/** Where committed transactions go (file.ts); absent for _Server. */
export interface Storage {
  /** Resolves once the record (its JSON text) is on disk. */
  append(recordText: string): Promise<void>;
}

export { newUuid } from './uuid.js';
import { newUuid } from './uuid.js';

export class Database {
  readonly tables = new Map<string, Table>();
  readonly listeners = new Set<CommitListener>();
  storage: Storage | null = null;
  /** Committed transactions since open. */
  nCommits = 0;
  /** dst UUID → (src UUID → src table), for rows that reference dst weakly. */
  private readonly weakIndex = new Map<string, Map<string, Table>>();

  private schemaJsonText: string | null = null;

  constructor(readonly schema: DatabaseSchema) {
    for (const ts of schema.ordered) this.tables.set(ts.name, new Table(ts));
    for (const ts of schema.ordered) {
      for (const c of ts.columns) {
        for (const base of [c.type.key, c.type.value]) {
          if (base && base.refTableName !== null) base.refTable = this.tables.get(base.refTableName) ?? null;
        }
      }
    }
  }

  get name(): string {
    return this.schema.name;
  }

  /** The schema as get_schema sends it, serialized once. */
  get schemaText(): string {
    return (this.schemaJsonText ??= stringify(this.schema.toJson()));
  }

  table(name: string): Table | undefined {
    return this.tables.get(name);
  }

  newTxn(): Txn {
    return new Txn(this, newUuid);
  }

  weakSources(uuid: string): Map<string, Table> | undefined {
    return this.weakIndex.get(uuid);
  }

  updateWeakSources(table: Table, src: string, o: Row | null, n: Row | null, columns: Column[]): void {
    const visit = (row: Row | null, add: boolean): void => {
      if (!row) return;
      for (const c of columns) {
        const d = row.get(c.index);
        const step = c.type.value ? 2 : 1;
        for (const [base, offset] of [
          [c.type.key, 0],
          [c.type.value, 1],
        ] as const) {
          if (!base?.isWeakRef) continue;
          for (let i = offset; i < d.length; i += step) {
            const dst = d[i] as string;
            let m = this.weakIndex.get(dst);
            if (add) {
              if (!m) this.weakIndex.set(dst, (m = new Map()));
              m.set(src, table);
            } else if (m) {
              m.delete(src);
              if (!m.size) this.weakIndex.delete(dst);
            }
          }
        }
      }
    };
    visit(o, false);
    visit(n, true);
  }

  /**
   * Commits `txn`: runs the checks (throwing the first OvsdbError, after which the
   * caller aborts), applies it, notifies listeners and returns the storage write.
   */
  commit(txn: Txn): Promise<void> | null {
    txn.precommit();
    if (txn.isEmpty()) return null;
    const record = this.storage ? txnToRecordText(txn) : null;
    txn.complete();
    this.nCommits++;
    for (const l of this.listeners) l.onCommit(txn);
    return record !== null && this.storage ? this.storage.append(record) : null;
  }

  /** Applies a transaction record read back from the file (ovsdb_file_txn_from_json). */
  replay(json: Json): void {
    if (!isObject(json)) throw syntaxError(json, null, 'object expected');
    const isDiff = json._is_diff === true;
    const txn = this.newTxn();
    try {
      for (const name of objectOrder(json)) {
        const v = json[name] as Json;
        const table = this.tables.get(name);
        if (!table) {
          if (name === '_date' && typeof v === 'number') continue;
          if (name === '_is_diff' && typeof v === 'boolean') continue;
          if (name === '_comment') continue;
          throw syntaxError(json, 'unknown table', `No table named ${name}.`);
        }
        if (!isObject(v)) throw syntaxError(v, null, 'object expected');
        for (const uuid of objectOrder(v)) {
          if (!isUuid(uuid)) throw syntaxError(v, null, `"${uuid}" is not a valid UUID`);
          this.replayRow(txn, table, uuid.toLowerCase(), v[uuid] as Json, isDiff);
        }
      }
      txn.precommit();
      txn.complete();
    } catch (e) {
      txn.abort();
      throw e;
    }
  }

  private replayRow(txn: Txn, table: Table, uuid: string, json: Json, isDiff: boolean): void {
    const row = table.rows.get(uuid);
    if (json === null) {
      if (!row) throw syntaxError(undefined, null, `transaction deletes row ${uuid} that does not exist`);
      txn.rowDelete(row);
      return;
    }
    if (!isObject(json)) throw syntaxError(json, null, 'row must be JSON object');
    const target = row ? txn.rowModify(row) : table.newRow(uuid);
    for (const name of objectOrder(json)) {
      const c = table.schema.column(name);
      if (!c) throw syntaxError(json, 'unknown column', `No column ${name} in table ${table.name}.`);
      const cur = target.get(c.index);
      if (isDiff && !isDefaultDatum(cur, c.type)) {
        const diff = datumFromJson(c.type.withBounds(0, UINT_MAX), json[name] as Json, null);
        target.set(c.index, applyDiff(cur, diff, c.type));
      } else {
        target.set(c.index, datumFromJson(c.type, json[name] as Json, null));
      }
    }
    if (!row) txn.rowInsert(target);
  }

  /** Every row as one record's text, for compaction (ovsdb_to_txn_json()). */
  snapshotRecord(comment: string): string {
    const tables = new Map<string, string[]>();
    for (const ts of this.schema.ordered) {
      const table = this.tables.get(ts.name) as Table;
      if (!table.rows.size) continue;
      const rows: string[] = [];
      for (const row of table.rows.values()) rows.push(`"${row.uuid}":${rowToRecord(row, null, null)}`);
      tables.set(ts.name, rows);
    }
    return recordText(tables, comment);
  }
}

/** A row of a log record: every non-default persistent column, or the changed ones as diffs. */
function rowToRecord(row: Row, old: Row | null, r: TxnRow | null): string {
  const ts = row.table.schema;
  const cols: Column[] = [];
  if (old && r) {
    for (const c of ts.persistentColumns) if (r.isChanged(c.index)) cols.push(c);
  } else {
    const nd = row.nonDefault();
    for (let k = 0; k < nd.length; k += 2) {
      const c = ts.columns[nd[k] as number] as Column;
      if (c.persistent) cols.push(c);
    }
  }
  if (!cols.length) return '{}';
  let s = '{';
  for (const c of ts.emitOrder(cols)) {
    const d = row.get(c.index);
    if (s.length > 1) s += ',';
    s += c.quotedName + ':' + datumToText(old ? datumDiff(old.get(c.index), d, c.type) : d, c.type);
  }
  return s + '}';
}

/**
 * ovsdb_file_txn_to_json() and ovsdb_file_txn_annotate(), straight to text: changed
 * rows, modified ones as column diffs; null if nothing persistent changed.
 */
function txnToRecordText(txn: Txn): string {
  const tables = new Map<string, string[]>();
  txn.forEachChange((r) => {
    let row: string;
    if (!r.newRow) row = 'null';
    else {
      row = rowToRecord(r.newRow, r.oldRow, r.oldRow ? r : null);
      if (r.oldRow && row === '{}') return;
    }
    let t = tables.get(r.table.name);
    if (!t) tables.set(r.table.name, (t = []));
    t.push(`"${r.uuid}":${row}`);
  });
  return recordText(tables, txn.comment);
}

/** The record's top level, in the key order ovsdb-server writes (so ovsdb-tool lists tables alike). */
function recordText(tables: Map<string, string[]>, comment: string | null): string {
  const keys = [...tables.keys()];
  if (comment !== null) keys.push('_comment');
  keys.push('_is_diff', '_date');
  const parts: string[] = [];
  for (const k of shashOrder(keys)) {
    if (k === '_comment') parts.push(`"_comment":${JSON.stringify(comment)}`);
    else if (k === '_is_diff') parts.push('"_is_diff":true');
    else if (k === '_date') parts.push(`"_date":${Date.now()}`);
    else parts.push(`${JSON.stringify(k)}:{${(tables.get(k) as string[]).join(',')}}`);
  }
  return `{${parts.join(',')}}`;
}
