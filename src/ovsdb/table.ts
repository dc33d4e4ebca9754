// Rows and tables (ovsdb/row.c, table.c): rows live in a Map keyed by UUID, each
// unique index in a Map keyed by its columns' values. A committed row is never
// changed in place; a transaction clones it, so monitors and the log can keep both.
import { datumKey, defaultDatum, type Datum } from './data.js';
import { stringify, type Json } from './json.js';
import { COL_UUID, COL_VERSION, type Column, type TableSchema } from './schema.js';
import type { TxnRow } from './transaction.js';

export class Row {
  /** Strong references to this row from other rows (self-references excluded). */
  nRefs = 0;
  /** Set while a transaction holds this row (as its old or new version). */
  txnRow: TxnRow | null = null;

  constructor(
    readonly table: Table,
    /** One datum per column, by column index; [0] is [_uuid], [1] is [_version]. */
    readonly fields: Datum[],
  ) {}

  get uuid(): string {
    return (this.fields[COL_UUID] as Datum)[0] as string;
  }

  get version(): string {
    return (this.fields[COL_VERSION] as Datum)[0] as string;
  }

  clone(): Row {
    const r = new Row(this.table, this.fields.slice());
    r.nRefs = this.nRefs;
    return r;
  }

  get(c: Column): Datum {
    return this.fields[c.index] as Datum;
  }
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
    const cols = this.schema.columns;
    const fields: Datum[] = new Array(cols.length);
    for (let i = 0; i < cols.length; i++) fields[i] = defaultDatum((cols[i] as Column).type);
    fields[COL_UUID] = [uuid];
    return new Row(this, fields);
  }

  /** The key of `row` in index `i`. */
  indexKey(row: Row, i: number): string {
    const cols = this.schema.indexes[i] as Column[];
    if (cols.length === 1) return datumKey(row.fields[(cols[0] as Column).index] as Datum);
    return stringify(cols.map((c) => row.fields[c.index] as Json));
  }
}
