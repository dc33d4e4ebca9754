// Transactions (ovsdb/transaction.c): rows touched by a transaction are tracked with
// their committed and new versions; at commit the strong reference counts, garbage
// collection of non-root rows, maxRows, weak references and unique indexes are
// checked in ovsdb-server's order and with its error texts.
import { addedRemoved, compareDatums, datumEquals, datumSize, datumToString, EMPTY, UUID_ZERO, type Atom, type Datum } from './data.js';
import { ovsdbError, type OvsdbError } from './error.js';
import { COL_VERSION, type Column } from './schema.js';
import type { Row, Table } from './table.js';
import type { BaseType } from './types.js';
import type { Database } from './database.js';

export class TxnRow {
  /** Per column index: 1 if changed. Null while nothing is marked. */
  changed: Uint8Array | null = null;
  allChanged = false;

  constructor(
    readonly table: Table,
    readonly uuid: string,
    public oldRow: Row | null,
    public newRow: Row | null,
    /** Strong references to this row once the transaction commits. */
    public nRefs: number,
  ) {}

  isChanged(i: number): boolean {
    return this.allChanged || (this.changed !== null && this.changed[i] === 1);
  }

  markChanged(i: number): void {
    if (this.allChanged) return;
    if (!this.changed) this.changed = new Uint8Array(this.table.schema.columns.length);
    this.changed[i] = 1;
  }

  get anyChanged(): boolean {
    return this.allChanged || (this.changed !== null && this.changed.includes(1));
  }
}

/** One change as monitors and the log see it. */
export type ChangeCallback = (r: TxnRow) => void;

function englishDelimiter(i: number, n: number): string {
  return i === 0 ? '' : n === 2 ? ' and ' : i === n - 1 ? ', and ' : ', ';
}

function columnsToString(row: Row, cols: Column[]): string {
  return cols.map((c, i) => englishDelimiter(i, cols.length) + datumToString(row.get(c.index), c.type)).join('');
}

function columnSetToString(cols: Column[]): string {
  if (!cols.length) return 'no columns';
  return `column${cols.length > 1 ? 's' : ''} ` + cols.map((c, i) => `${englishDelimiter(i, cols.length)}"${c.name}"`).join('');
}

export class Txn {
  /** Touched tables in the order first touched, each with its rows by UUID. */
  readonly tables = new Map<Table, Map<string, TxnRow>>();
  readonly comments: string[] = [];
  private txnIndexes = new Map<Table, Map<string, Row>[]>();

  constructor(
    readonly db: Database,
    private readonly newUuid: () => string,
  ) {}

  isEmpty(): boolean {
    return this.tables.size === 0;
  }

  private create(table: Table, oldRow: Row | null, newRow: Row | null): TxnRow {
    const uuid = (oldRow ?? newRow)!.uuid;
    const r = new TxnRow(table, uuid, oldRow, newRow, oldRow ? oldRow.nRefs : 0);
    if (oldRow) oldRow.txnRow = r;
    if (newRow) newRow.txnRow = r;
    let rows = this.tables.get(table);
    if (!rows) this.tables.set(table, (rows = new Map()));
    rows.set(uuid, r);
    return r;
  }

  find(table: Table, uuid: string): TxnRow | undefined {
    return this.tables.get(table)?.get(uuid);
  }

  /** ovsdb_txn_row_modify(): a writable version of a row in `table.rows`. */
  rowModify(row: Row): Row {
    const r = row.txnRow;
    if (r) {
      if (r.newRow === r.oldRow) return this.writable(r);
      return row;
    }
    const copy = row.clone();
    this.create(row.table, row, copy);
    row.table.rows.set(row.uuid, copy);
    return copy;
  }

  /** ovsdb_txn_row_insert(). */
  rowInsert(row: Row): void {
    row.version = this.newUuid();
    this.create(row.table, null, row);
    row.table.rows.set(row.uuid, row);
  }

  /** ovsdb_txn_row_delete(). */
  rowDelete(row: Row): void {
    const table = row.table;
    table.rows.delete(row.uuid);
    const r = row.txnRow;
    if (!r) {
      this.create(table, row, null);
    } else if (r.oldRow) {
      if (r.newRow) r.newRow.txnRow = r.oldRow === r.newRow ? r : null;
      r.newRow = null;
    } else {
      this.tables.get(table)?.delete(row.uuid);
      row.txnRow = null;
    }
  }

  /** ovsdb_txn_may_create_row(). */
  mayCreateRow(table: Table, uuid: string): boolean {
    return !table.rows.has(uuid) && !this.find(table, uuid);
  }

  addComment(s: string): void {
    this.comments.push(s);
  }

  get comment(): string | null {
    return this.comments.length ? this.comments.join('\n') : null;
  }

  /** The row with `uuid` in the transaction, pulled in unchanged if it exists. */
  private findOrMake(table: Table, uuid: string): TxnRow | null {
    const r = this.find(table, uuid);
    if (r) return r;
    const row = table.rows.get(uuid);
    return row ? this.create(table, row, row) : null;
  }

  /** A row pulled in by findOrMake() shares its committed version until written. */
  private writable(r: TxnRow): Row {
    const cur = r.newRow as Row;
    if (cur !== r.oldRow) return cur;
    const copy = cur.clone();
    copy.txnRow = r;
    r.newRow = copy;
    r.table.rows.set(r.uuid, copy);
    return copy;
  }

  /** Rolls back every change; the committed rows are untouched. */
  abort(): void {
    for (const [table, rows] of this.tables) {
      for (const r of rows.values()) {
        if (r.newRow) r.newRow.txnRow = null;
        if (r.oldRow) {
          r.oldRow.txnRow = null;
          table.rows.set(r.uuid, r.oldRow);
        } else if (r.newRow) {
          table.rows.delete(r.uuid);
        }
      }
    }
    this.tables.clear();
    this.txnIndexes.clear();
  }

  /** Visits every row, including rows pulled in while visiting. */
  private forEachRow(cb: (r: TxnRow) => void): void {
    for (const rows of this.tables.values()) for (const r of rows.values()) cb(r);
  }

  private dropUnchanged(r: TxnRow): void {
    if (r.newRow) r.newRow.txnRow = null;
    if (r.oldRow) {
      r.oldRow.txnRow = null;
      r.table.rows.set(r.uuid, r.oldRow);
    }
    const rows = this.tables.get(r.table) as Map<string, TxnRow>;
    rows.delete(r.uuid);
    if (!rows.size) this.tables.delete(r.table);
  }

  // ---------------------------------------------------------------------------
  // Commit checks (ovsdb_txn_precommit()).

  /** Runs every commit check; throws the first OvsdbError. The caller aborts. */
  precommit(): void {
    this.forEachRow((r) => this.determineChanges(r));
    if (this.isEmpty()) return;
    this.forEachRow((r) => this.updateRowRefCount(r));
    this.forEachRow((r) => this.checkRefCount(r));
    this.forEachRow((r) => {
      if (r.newRow && r.nRefs === 0) this.deleteGarbageRow(r);
    });
    this.checkMaxRows();
    this.forEachRow((r) => this.assessWeakRefs(r));
    this.forEachRow((r) => this.checkIndexUniqueness(r));
    this.forEachRow((r) => {
      if (r.oldRow && r.newRow && r.anyChanged) {
        this.writable(r).version = this.newUuid();
        r.markChanged(COL_VERSION);
      }
    });
  }

  private determineChanges(r: TxnRow): void {
    if (r.oldRow && r.newRow) {
      const o = r.oldRow;
      const n = r.newRow;
      let changed = false;
      if (o.version !== n.version) {
        r.markChanged(COL_VERSION);
        changed = true;
      }
      // Only the non-default columns of either version can differ.
      const od = o.nonDefault();
      const nd = n.nonDefault();
      if (od !== nd) {
        for (let k = 0; k < od.length; k += 2) {
          const i = od[k] as number;
          if (!datumEquals(od[k + 1] as Datum, n.get(i))) {
            r.markChanged(i);
            changed = true;
          }
        }
        for (let k = 0; k < nd.length; k += 2) {
          const i = nd[k] as number;
          if (!r.isChanged(i) && !datumEquals(nd[k + 1] as Datum, o.get(i))) {
            r.markChanged(i);
            changed = true;
          }
        }
      }
      if (!changed) this.dropUnchanged(r);
    } else {
      r.allChanged = true;
    }
  }

  private adjustRefs(r: TxnRow, row: Row, column: Column, d: Datum, delta: number): void {
    const type = column.type;
    if (type.key.isStrongRef) this.adjustAtomRefs(r, row, column, type.key.refTable as Table, d, 0, type.value ? 2 : 1, delta);
    if (type.value?.isStrongRef) this.adjustAtomRefs(r, row, column, type.value.refTable as Table, d, 1, 2, delta);
  }

  private adjustAtomRefs(r: TxnRow, row: Row, column: Column, target: Table, d: Datum, offset: number, step: number, delta: number): void {
    for (let i = offset; i < d.length; i += step) {
      const uuid = d[i] as string;
      if (uuid === r.uuid) continue;
      const t = this.findOrMake(target, uuid);
      if (!t) {
        if (delta < 0) throw ovsdbError('internal error', 'error decreasing refcount');
        throw ovsdbError(
          'referential integrity violation',
          `Table ${row.table.name} column ${column.name} row ${r.uuid} references nonexistent row ${uuid} in table ${target.name}.`,
        );
      }
      t.nRefs += delta;
    }
  }

  private updateRowRefCount(r: TxnRow): void {
    for (const c of r.table.schema.strongRefColumns) {
      if (!r.isChanged(c.index)) continue;
      const o = r.oldRow;
      const n = r.newRow;
      if (o && !n) this.adjustRefs(r, o, c, o.get(c.index), -1);
      else if (!o && n) this.adjustRefs(r, n, c, n.get(c.index), 1);
      else if (o && n) {
        const { added, removed } = addedRemoved(o.get(c.index), n.get(c.index), c.type);
        this.adjustRefs(r, o, c, removed, -1);
        this.adjustRefs(r, n, c, added, 1);
      }
    }
  }

  private checkRefCount(r: TxnRow): void {
    if (!r.newRow && r.nRefs) {
      throw ovsdbError(
        'referential integrity violation',
        `cannot delete ${r.table.name} row ${r.uuid} because of ${r.nRefs} remaining reference(s)`,
      );
    }
  }

  private deleteGarbageRow(r: TxnRow): void {
    const table = r.table;
    if (table.schema.isRoot) return;
    const row = r.newRow as Row;
    r.newRow = null;
    if (row !== r.oldRow) row.txnRow = null;
    table.rows.delete(r.uuid);
    for (const c of table.schema.strongRefColumns) {
      const d = row.get(c.index);
      this.deleteRowRefs(row, c.type.key, d, 0, c.type.value ? 2 : 1);
      if (c.type.value) this.deleteRowRefs(row, c.type.value, d, 1, 2);
    }
  }

  private deleteRowRefs(row: Row, base: BaseType, d: Datum, offset: number, step: number): void {
    if (!base.isStrongRef) return;
    for (let i = offset; i < d.length; i += step) {
      const uuid = d[i] as string;
      if (uuid === row.uuid) continue;
      const t = this.findOrMake(base.refTable as Table, uuid);
      if (!t || !t.nRefs || !t.newRow) throw ovsdbError('internal error', 'strong ref target missing or deleted');
      if (--t.nRefs === 0) this.deleteGarbageRow(t);
    }
  }

  private checkMaxRows(): void {
    for (const table of this.tables.keys()) {
      const n = table.rows.size;
      const max = table.schema.maxRows;
      if (n > max) {
        throw ovsdbError(
          'constraint violation',
          `transaction causes "${table.name}" table to contain ${n} rows, greater than the schema-defined limit of ${max} row(s)`,
        );
      }
    }
  }

  /** Drops weak references to rows that do not exist once the transaction commits. */
  private assessWeakRefs(r: TxnRow): void {
    if (r.oldRow && !r.newRow) {
      // Rows that pointed here lose those references; pull them in to be assessed.
      const sources = this.db.weakSources(r.uuid);
      if (sources) for (const [src, table] of sources) this.findOrMake(table, src);
      return;
    }
    if (!r.newRow) return;
    for (const c of r.table.schema.weakRefColumns) {
      const d = r.newRow.get(c.index);
      if (!d.length) continue;
      const type = c.type;
      const step = type.value ? 2 : 1;
      const keyTable = type.key.isWeakRef ? (type.key.refTable as Table) : null;
      const valueTable = type.value?.isWeakRef ? (type.value.refTable as Table) : null;
      let out: Atom[] | null = null;
      let zero = false;
      for (let i = 0; i < d.length; i += step) {
        const dead =
          (keyTable !== null && !keyTable.rows.has(d[i] as string)) ||
          (valueTable !== null && !valueTable.rows.has(d[i + 1] as string));
        if (dead) {
          if (!out) out = d.slice(0, i) as Atom[];
          if ((keyTable && d[i] === UUID_ZERO) || (valueTable && d[i + 1] === UUID_ZERO)) zero = true;
        } else if (out) {
          out.push(d[i] as Atom);
          if (step === 2) out.push(d[i + 1] as Atom);
        }
      }
      if (!out) continue;
      const nd: Datum = out.length ? out : EMPTY;
      this.writable(r).set(c.index, nd);
      r.markChanged(c.index);
      const n = datumSize(nd, type);
      if (n < type.min) {
        if (zero && !r.oldRow) {
          throw ovsdbError(
            'constraint violation',
            `Weak reference column "${c.name}" in "${r.table.name}" row ${r.uuid} (inserted within this transaction) contained all-zeros UUID (probably as the default value for this column) but deleting this value caused a constraint volation because this column is not allowed to be empty.`,
          );
        }
        throw ovsdbError(
          'constraint violation',
          `Deletion of ${datumSize(d, type) - n} weak reference(s) to deleted (or never-existing) rows from column "${c.name}" in "${r.table.name}" row ${r.uuid} ${r.oldRow ? '' : '(inserted within this transaction) '}caused this column to become empty, but constraints on this column disallow an empty column.`,
        );
      }
    }
  }

  private checkIndexUniqueness(r: TxnRow): void {
    const row = r.newRow;
    if (!row) return;
    const table = r.table;
    const n = table.schema.indexes.length;
    if (!n) return;
    let txnIdx = this.txnIndexes.get(table);
    if (!txnIdx) this.txnIndexes.set(table, (txnIdx = table.schema.indexes.map(() => new Map())));
    for (let i = 0; i < n; i++) {
      const key = table.indexKey(row, i);
      const m = txnIdx[i] as Map<string, Row>;
      let irow = m.get(key);
      if (irow) throw this.duplicateIndexRow(table.schema.indexes[i] as Column[], irow, row);
      irow = (table.indexes[i] as Map<string, Row>).get(key);
      if (irow && !irow.txnRow) throw this.duplicateIndexRow(table.schema.indexes[i] as Column[], irow, row);
      m.set(key, row);
    }
  }

  private duplicateIndexRow(index: Column[], a: Row, b: Row): OvsdbError {
    const all = a.table.schema.ordered;
    for (const c of all) {
      const cmp = compareDatums(a.get(c.index), b.get(c.index), c.type);
      if (cmp < 0) {
        [a, b] = [b, a];
        break;
      }
      if (cmp > 0) break;
    }
    const describe = (row: Row, title: string): string => {
      let s = `${title} row, with UUID ${row.uuid}, `;
      const tr = row.txnRow;
      if (!tr || !tr.anyChanged) s += 'existed in the database before this transaction and was not modified by the transaction.';
      else if (!tr.oldRow) s += 'was inserted by this transaction.';
      else if (index.every((c) => datumEquals((tr.oldRow as Row).get(c.index), (tr.newRow as Row).get(c.index)))) {
        s += "existed in the database before this transaction, which modified some of the row's columns but not any columns in this index.";
      } else {
        s += `had the following index values before the transaction: ${columnsToString(tr.oldRow, index)}.`;
      }
      return s;
    };
    return ovsdbError(
      'constraint violation',
      `Transaction causes multiple rows in "${a.table.name}" table to have identical values (${columnsToString(a, index)}) for index on ${columnSetToString(index)}.  ${describe(a, 'First')}  ${describe(b, 'Second')}`,
    );
  }

  // ---------------------------------------------------------------------------
  // After the checks pass.

  /** Makes the changes permanent in memory (ovsdb_txn_complete()). */
  complete(): void {
    const db = this.db;
    for (const [table, rows] of this.tables) {
      const nIdx = table.indexes.length;
      const weak = table.schema.weakRefColumns;
      for (const r of rows.values()) {
        const o = r.oldRow;
        const n = r.newRow;
        if (o !== n || (n && r.anyChanged)) {
          for (let i = 0; i < nIdx; i++) {
            const idx = table.indexes[i] as Map<string, Row>;
            if (o) {
              const k = table.indexKey(o, i);
              if (idx.get(k) === o) idx.delete(k);
            }
            if (n) idx.set(table.indexKey(n, i), n);
          }
          if (weak.length) db.updateWeakSources(table, r.uuid, o, n, weak);
        }
        if (o) o.txnRow = null;
        if (n) {
          n.txnRow = null;
          n.nRefs = r.nRefs;
        }
      }
    }
    this.txnIndexes.clear();
  }

  /** Calls `cb` for every row that really changed (ovsdb_txn_for_each_change()). */
  forEachChange(cb: ChangeCallback): void {
    for (const rows of this.tables.values()) {
      for (const r of rows.values()) {
        if (!r.oldRow && !r.newRow) continue;
        if (r.oldRow && r.newRow && !r.anyChanged) continue;
        cb(r);
      }
    }
  }
}
