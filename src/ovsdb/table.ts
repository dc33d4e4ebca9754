// Rows and tables (ovsdb/row.c, table.c): rows live in a Map keyed by UUID, each
// unique index in a Map keyed by its columns' values. A committed row is never
// changed in place; a transaction clones it, so monitors and the log can keep both.
import { datumEquals, datumKey, UUID_ZERO, type Datum } from './data.js';
import { stringify, type Json } from './json.js';
import { COL_UUID, type Column, type TableSchema } from './schema.js';
import type { TxnRow } from './transaction.js';

export class Row {
  /** Strong references to this row from other rows (self-references excluded). */
  nRefs = 0;
  /** Set while a transaction holds this row (as its old or new version). */
  txnRow: TxnRow | null = null;
  /** _uuid. */
  private u: string;
  /** _version (RFC 7047 §3.1), changed on every modification. */
  version: string;
  /**
   * The columns (index ≥ 2) whose value is not the default, as [index, datum, ...] in
   * index order. Most columns of most rows hold their default, so a row pays only
   * for what it holds.
   */
  private data: (number | Datum)[];

  constructor(
    readonly table: Table,
    uuid: string,
    version = UUID_ZERO,
    data: (number | Datum)[] = [],
  ) {
    this.u = uuid;
    this.version = version;
    this.data = data;
  }

  get uuid(): string {
    return this.u;
  }

  /** The datum of column `i`. */
  get(i: number): Datum {
    if (i >= 2) {
      const d = this.data;
      for (let k = 0; k < d.length; k += 2) {
        const j = d[k] as number;
        if (j === i) return d[k + 1] as Datum;
        if (j > i) break;
      }
      return (this.table.schema.columns[i] as Column).dflt;
    }
    return [i === COL_UUID ? this.u : this.version];
  }

  set(i: number, v: Datum): void {
    if (i < 2) {
      if (i === COL_UUID) this.u = v[0] as string;
      else this.version = v[0] as string;
      return;
    }
    const d = this.data;
    const isDefault = datumEquals(v, (this.table.schema.columns[i] as Column).dflt);
    let k = 0;
    for (; k < d.length; k += 2) {
      const j = d[k] as number;
      if (j === i) {
        if (!isDefault) d[k + 1] = v;
        else this.data = resized(d, k, -2);
        return;
      }
      if (j > i) break;
    }
    if (isDefault) return;
    const nd = resized(d, k, 2);
    nd[k] = i;
    nd[k + 1] = v;
    this.data = nd;
  }

  /** The non-default columns, as [index, datum, ...] in index order (read only). */
  nonDefault(): readonly (number | Datum)[] {
    return this.data;
  }

  clone(): Row {
    const r = new Row(this.table, this.u, this.version, this.data.slice());
    r.nRefs = this.nRefs;
    return r;
  }
}

/**
 * A copy of `d` with `delta` slots inserted (or removed) at `at`, allocated at exactly
 * its length: splice() and spreads leave spare capacity, paid for by every row.
 */
function resized(d: (number | Datum)[], at: number, delta: number): (number | Datum)[] {
  const n = d.length + delta;
  const out: (number | Datum)[] = new Array(n);
  for (let k = 0; k < at; k++) out[k] = d[k] as number | Datum;
  for (let k = delta > 0 ? at : at - delta; k < d.length; k++) out[k + delta] = d[k] as number | Datum;
  return out;
}

export class Table {
  readonly rows = new Map<string, Row>();
  /** One map per schema index, from index key to committed row. */
  readonly indexes: Map<string, Row>[];

  constructor(readonly schema: TableSchema) {
    this.indexes = schema.indexes.map(() => new Map());
  }

  get name(): string {
    return this.schema.name;
  }

  /** A new row with every column at its default. */
  newRow(uuid: string): Row {
    return new Row(this, uuid);
  }

  /** The key of `row` in index `i`. */
  indexKey(row: Row, i: number): string {
    const cols = this.schema.indexes[i] as Column[];
    if (cols.length === 1) return datumKey(row.get((cols[0] as Column).index));
    return stringify(cols.map((c) => row.get(c.index) as Json));
  }
}
