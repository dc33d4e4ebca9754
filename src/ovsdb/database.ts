// One database (ovsdb/ovsdb.c): its tables, the reverse index of weak references, and
// the commit path that runs the checks, makes the changes permanent in memory, tells
// monitors and triggers, and hands the record to storage.
import { randomUUID } from 'node:crypto';
import { applyDiff, datumDiff, datumFromJson, datumToJson, isDefaultDatum, isUuid, type Datum } from './data.js';
import { syntaxError } from './error.js';
import { isObject, type Json, type JsonObject } from './json.js';
import { objectOrder, ovsOrdered } from './shash.js';
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
  /** Resolves once `record` is on disk. */
  append(record: JsonObject): Promise<void>;
}

export const newUuid: () => string = () => randomUUID();

export class Database {
  readonly tables = new Map<string, Table>();
  readonly listeners = new Set<CommitListener>();
  storage: Storage | null = null;
  /** Committed transactions since open. */
  nCommits = 0;
  /** dst UUID → (src UUID → src table), for rows that reference dst weakly. */
  private readonly weakIndex = new Map<string, Map<string, Table>>();

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
        const d = row.get(c);
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
    const record = this.storage ? txnToRecord(txn) : null;
    txn.complete();
    this.nCommits++;
    for (const l of this.listeners) l.onCommit(txn);
    return record && this.storage ? this.storage.append(annotate(record, txn.comment)) : null;
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
      const cur = target.fields[c.index] as Datum;
      if (isDiff && !isDefaultDatum(cur, c.type)) {
        const diff = datumFromJson(c.type.withBounds(0, UINT_MAX), json[name] as Json, null);
        target.fields[c.index] = applyDiff(cur, diff, c.type);
      } else {
        target.fields[c.index] = datumFromJson(c.type, json[name] as Json, null);
      }
    }
    if (!row) txn.rowInsert(target);
  }

  /** Every row as one record, for compaction (ovsdb_to_txn_json()). */
  snapshotRecord(comment: string): JsonObject {
    const out: JsonObject = {};
    for (const ts of this.schema.ordered) {
      const table = this.tables.get(ts.name) as Table;
      if (!table.rows.size) continue;
      const rows: JsonObject = {};
      for (const row of table.rows.values()) rows[row.uuid] = rowToRecord(row, ts.persistentColumns, null, null);
      out[ts.name] = rows;
    }
    return annotate(out, comment);
  }
}

function rowToRecord(row: Row, persistent: Column[], old: Row | null, r: TxnRow | null): JsonObject {
  const o: JsonObject = {};
  for (const c of persistent) {
    const d = row.fields[c.index] as Datum;
    if (old && r) {
      if (!r.isChanged(c.index)) continue;
      o[c.name] = datumToJson(datumDiff(old.fields[c.index] as Datum, d, c.type), c.type);
    } else if (!isDefaultDatum(d, c.type)) {
      o[c.name] = datumToJson(d, c.type);
    }
  }
  return ovsOrdered(o);
}

/** ovsdb_file_txn_to_json(): changed rows, modified ones as column diffs. */
function txnToRecord(txn: Txn): JsonObject {
  const out: JsonObject = {};
  txn.forEachChange((r) => {
    let row: Json;
    if (!r.newRow) row = null;
    else {
      row = rowToRecord(r.newRow, r.table.schema.persistentColumns, r.oldRow, r.oldRow ? r : null);
      if (r.oldRow && Object.keys(row).length === 0) return;
    }
    let t = out[r.table.name] as JsonObject | undefined;
    if (!t) out[r.table.name] = t = {};
    t[r.uuid] = row;
  });
  return out;
}

/** ovsdb_file_txn_annotate(). */
export function annotate(record: JsonObject, comment: string | null): JsonObject {
  if (comment !== null) record._comment = comment;
  record._is_diff = true;
  record._date = Date.now();
  // Key order as ovsdb-server writes it, so ovsdb-tool lists tables the same way.
  return ovsOrdered(record);
}
