// Database schemas (RFC 7047 §3.2; ovsdb/ovsdb.c, table.c, column.c): parsed from any
// .ovsschema into column types that own every constraint check, and printed back in
// the key order ovsdb-server uses, so get_schema and the file header match its bytes.
import { readFileSync } from 'node:fs';
import { checkDatumConstraints, datumFromJson, datumToJson, defaultDatum, type Datum } from './data.js';
import { OvsdbError, ovsdbError, syntaxError } from './error.js';
import { isObject, parseJson, type Json, type JsonObject } from './json.js';
import { isId, OvsdbParser, OP } from './parser.js';
import { objectOrder, ovsOrdered, shashOrder } from './shash.js';
import { OvsdbType, UINT_MAX, uuidType } from './types.js';

export { DEFAULT_SCHEMA_PATH } from '../../proto/ovsdb/protocol.js';

/** Column indexes fixed by RFC 7047: every table has these two first. */
export const COL_UUID = 0;
export const COL_VERSION = 1;

const enumFromJson = (type: OvsdbType, json: Json) => datumFromJson(type, json, null);
const enumToJson = (type: OvsdbType, d: readonly (string | number | bigint | boolean)[]) => datumToJson(d, type);

export class Column {
  /** The column's default value (RFC 7047 §5.1). */
  readonly dflt: Datum;
  /** The name as a JSON string, for writing records. */
  readonly quotedName: string;

  constructor(
    readonly name: string,
    readonly index: number,
    readonly type: OvsdbType,
    readonly mutable: boolean,
    public persistent: boolean,
  ) {
    this.dflt = defaultDatum(type);
    this.quotedName = JSON.stringify(name);
  }

  static fromJson(json: Json, name: string, index: number): Column {
    const parser = new OvsdbParser(json, `schema for column ${name}`);
    const mutableJson = parser.member('mutable', OP.TRUE | OP.FALSE | OP.OPTIONAL);
    const ephemeral = parser.member('ephemeral', OP.TRUE | OP.FALSE | OP.OPTIONAL);
    const typeJson = parser.member('type', OP.STRING | OP.OBJECT);
    const error = parser.finish();
    if (error) throw error;
    const type = OvsdbType.fromJson(typeJson as Json, enumFromJson);
    // A weak reference must be mutable: deleting its target changes it.
    const mutable = mutableJson === undefined || mutableJson === true || type.hasWeakRefs;
    return new Column(name, index, type, mutable, ephemeral !== true);
  }

  toJson(): Json {
    const o: JsonObject = {};
    if (!this.mutable) o.mutable = false;
    if (!this.persistent) o.ephemeral = true;
    o.type = deepOrdered(this.type.toJson(enumToJson));
    return ovsOrdered(o);
  }
}

export class TableSchema {
  /** By index: _uuid, _version, then the schema's columns. */
  readonly columns: Column[] = [];
  readonly byName = new Map<string, Column>();
  /** The order ovsdb-server walks the columns (its shash order). */
  readonly ordered: Column[] = [];
  /** Persistent columns other than _uuid, for the file. */
  persistentColumns: Column[] = [];
  /** Columns holding strong / weak references, in walk order. */
  strongRefColumns: Column[] = [];
  weakRefColumns: Column[] = [];
  /** Columns whose default value breaks their own constraints, in walk order. */
  badDefaultColumns: Column[] = [];
  indexes: Column[][] = [];

  constructor(
    readonly name: string,
    readonly mutable: boolean,
    readonly maxRows: number,
    public isRoot: boolean,
  ) {
    this.add(new Column('_uuid', COL_UUID, uuidType, false, true));
    this.add(new Column('_version', COL_VERSION, uuidType, false, false));
  }

  private add(c: Column): void {
    this.columns.push(c);
    this.byName.set(c.name, c);
  }

  column(name: string): Column | undefined {
    return this.byName.get(name);
  }

  private readonly emitCache = new Map<number | string, Column[]>();

  /**
   * The order in which ovsdb-server serializes a JSON object holding `cols` as keys,
   * when it added them in walk order (ovsdb_row_to_json() and the log's rows).
   */
  emitOrder(cols: readonly Column[]): Column[] {
    let key: number | string = 0;
    if (this.columns.length <= 52) for (const c of cols) key += 2 ** c.index;
    else key = cols.map((c) => c.index).join(',');
    let order = this.emitCache.get(key);
    if (!order) {
      const walk = this.ordered.filter((c) => cols.includes(c));
      order = shashOrder(walk.map((c) => c.name)).map((n) => this.byName.get(n) as Column);
      this.emitCache.set(key, order);
    }
    return order;
  }

  /** Done once every column is known: fixes the walk order. */
  seal(): void {
    const order = shashOrder(this.columns.map((c) => c.name));
    this.ordered.length = 0;
    for (const n of order) this.ordered.push(this.byName.get(n) as Column);
    this.persistentColumns = this.ordered.filter((c) => c.index !== COL_UUID && c.persistent);
    this.strongRefColumns = this.ordered.filter((c) => c.type.hasStrongRefs);
    this.weakRefColumns = this.ordered.filter((c) => c.type.hasWeakRefs);
    this.badDefaultColumns = this.ordered.filter((c) => c.dflt.length > 0 && checkDatumConstraints(c.dflt, c.type) !== null);
  }

  static fromJson(json: Json, name: string): TableSchema {
    const parser = new OvsdbParser(json, `table schema for table ${name}`);
    const columns = parser.member('columns', OP.OBJECT);
    const mutable = parser.member('mutable', OP.TRUE | OP.FALSE | OP.OPTIONAL);
    const maxRows = parser.member('maxRows', OP.INTEGER | OP.OPTIONAL);
    const isRoot = parser.member('isRoot', OP.BOOLEAN | OP.OPTIONAL);
    const indexes = parser.member('indexes', OP.ARRAY | OP.OPTIONAL);
    const error = parser.finish();
    if (error) throw error;
    let nMaxRows = UINT_MAX;
    if (maxRows !== undefined) {
      if ((maxRows as number | bigint) <= 0) throw syntaxError(json, null, 'maxRows must be at least 1');
      nMaxRows = Math.min(Number(maxRows), UINT_MAX);
    }
    const cols = columns as JsonObject;
    if (Object.keys(cols).length === 0) throw syntaxError(json, null, 'table must have at least one column');
    const ts = new TableSchema(name, mutable === undefined ? true : mutable === true, nMaxRows, isRoot === true);
    for (const colName of objectOrder(cols)) {
      if (colName.startsWith('_')) throw syntaxError(json, null, 'names beginning with "_" are reserved');
      if (!isId(colName)) throw syntaxError(json, null, 'name must be a valid id');
      ts.add(Column.fromJson(cols[colName] as Json, colName, ts.columns.length));
    }
    ts.seal();
    if (indexes !== undefined) {
      for (const idx of indexes as Json[]) {
        const set = ts.columnSetFromJson(idx);
        if (set.length === 0) throw syntaxError(json, null, 'index must have at least one column');
        for (const c of set) {
          if (!c.persistent) throw syntaxError(json, null, `ephemeral columns (such as ${c.name}) may not be indexed`);
        }
        ts.indexes.push(set);
      }
    }
    return ts;
  }

  /** ovsdb_column_set_from_json(); absent means every column, in walk order. */
  columnSetFromJson(json: Json | undefined): Column[] {
    if (json === undefined) return this.ordered.slice();
    const bad = (): OvsdbError => syntaxError(json, null, 'array of distinct column names expected');
    if (!Array.isArray(json)) throw bad();
    const set: Column[] = [];
    for (const e of json) {
      if (typeof e !== 'string') throw bad();
      const c = this.byName.get(e);
      if (!c) throw syntaxError(json, null, `${e} is not a valid column name`);
      if (set.includes(c)) throw bad();
      set.push(c);
    }
    return set;
  }

  toJson(defaultIsRoot: boolean): Json {
    const o: JsonObject = {};
    if (!this.mutable) o.mutable = false;
    if (defaultIsRoot !== this.isRoot) o.isRoot = this.isRoot;
    const cols: JsonObject = {};
    for (const c of this.ordered) if (!c.name.startsWith('_')) cols[c.name] = c.toJson();
    o.columns = ovsOrdered(cols);
    if (this.maxRows !== UINT_MAX) o.maxRows = this.maxRows;
    if (this.indexes.length) o.indexes = this.indexes.map((set) => set.map((c) => c.name));
    return ovsOrdered(o);
  }
}

export class DatabaseSchema {
  readonly tables = new Map<string, TableSchema>();
  /** Tables in ovsdb-server's walk order. */
  readonly ordered: TableSchema[] = [];

  constructor(
    readonly name: string,
    readonly version: string,
    readonly cksum: string,
  ) {}

  table(name: string): TableSchema | undefined {
    return this.tables.get(name);
  }

  static fromJson(json: Json): DatabaseSchema {
    const parser = new OvsdbParser(json, 'database schema');
    const name = parser.member('name', OP.ID);
    const versionJson = parser.member('version', OP.STRING | OP.OPTIONAL);
    const cksum = parser.member('cksum', OP.STRING | OP.OPTIONAL);
    const tables = parser.member('tables', OP.OBJECT);
    const error = parser.finish();
    if (error) throw error;
    let version = '';
    if (versionJson !== undefined) {
      version = versionJson as string;
      if (!/^\d+\.\d+\.\d+$/.test(version)) throw syntaxError(json, null, `schema version "${version}" not in format x.y.z`);
    }
    const schema = new DatabaseSchema(name as string, version, (cksum as string | undefined) ?? '');
    const tjson = tables as JsonObject;
    const added: TableSchema[] = [];
    for (const tname of objectOrder(tjson)) {
      if (tname.startsWith('_')) throw syntaxError(json, null, 'names beginning with "_" are reserved');
      if (!isId(tname)) throw syntaxError(json, null, 'name must be a valid id');
      const ts = TableSchema.fromJson(tjson[tname] as Json, tname);
      schema.tables.set(tname, ts);
      added.push(ts);
    }
    for (const n of shashOrder(added.map((t) => t.name))) schema.ordered.push(schema.tables.get(n) as TableSchema);
    // Before "isRoot" existed every table was a root; keep that reading.
    if (!schema.ordered.some((t) => t.isRoot)) for (const t of schema.ordered) t.isRoot = true;
    for (const ts of schema.ordered) {
      for (const c of ts.ordered) {
        for (const [base, which] of [
          [c.type.key, 'key'],
          [c.type.value, 'value'],
        ] as const) {
          if (!base || base.type !== 'uuid' || base.refTableName === null) continue;
          const ref = schema.tables.get(base.refTableName);
          if (!ref) throw syntaxError(undefined, null, `column ${c.name} ${which} refers to undefined table ${base.refTableName}`);
          // The only strong reference to a non-root row must survive a replay from disk.
          if (base.refType === 'strong' && !ref.isRoot) c.persistent = true;
        }
      }
      ts.seal();
    }
    return schema;
  }

  static fromFile(path: string): DatabaseSchema {
    let json: Json;
    try {
      json = parseJson(readFileSync(path, 'utf8'), true);
    } catch (e) {
      throw ovsdbError('ovsdb error', `"${path}" could not be read as JSON (${(e as Error).message})`);
    }
    try {
      return DatabaseSchema.fromJson(json);
    } catch (e) {
      if (e instanceof OvsdbError) throw e.wrap(`failed to parse "${path}" as ovsdb schema`);
      throw e;
    }
  }

  /** ovsdb_schema_to_json(), in ovsdb-server's key order. */
  toJson(): JsonObject {
    const o: JsonObject = { name: this.name };
    if (this.version) o.version = this.version;
    if (this.cksum) o.cksum = this.cksum;
    const defaultIsRoot = this.ordered.every((t) => t.isRoot);
    const tables: JsonObject = {};
    for (const t of this.ordered) tables[t.name] = t.toJson(defaultIsRoot);
    o.tables = ovsOrdered(tables);
    return ovsOrdered(o);
  }
}

function deepOrdered(j: Json): Json {
  if (Array.isArray(j)) return j.map(deepOrdered);
  if (isObject(j)) {
    const o: JsonObject = {};
    for (const k of Object.keys(j)) o[k] = deepOrdered(j[k] as Json);
    return ovsOrdered(o);
  }
  return j;
}
