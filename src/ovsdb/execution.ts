// The "transact" method (RFC 7047 §5.2; ovsdb/execution.c): each operation parsed and
// run in turn against one transaction; the first error ends it, and the results array
// gets that error and nulls for the rest, as ovsdb-server gives them.
import { conditionFromJson, indexLookup, matchesAll, uuidLookup, type Clause } from './condition.js';
import {
  compareDatums,
  datumEquals,
  datumFromJson,
  datumKey,
  checkDatumConstraints,
  datumToJson,
  isUuid,
  SymbolTable,
} from './data.js';
import type { Database } from './database.js';
import { newUuid } from './database.js';
import { ovsdbError, syntaxError, OvsdbError } from './error.js';
import { isObject, type Json, type JsonObject } from './json.js';
import { applyMutation, mutationsFromJson } from './mutation.js';
import { OvsdbParser, OP } from './parser.js';
import { COL_UUID, type Column } from './schema.js';
import { objectOrder, shashOrder } from './shash.js';
import type { Row, Table } from './table.js';
import type { Txn } from './transaction.js';

/** What "assert" asks of the session that sent the transaction. */
export interface LockHolder {
  holdsLock(name: string): boolean;
}

export type ExecuteResult =
  /** Every operation ran; commit `txn`, then reply with `results`. */
  | { kind: 'commit'; txn: Txn; results: Json[]; durable: boolean }
  /** Done without committing (an error or nothing to do): reply with `results`. */
  | { kind: 'reply'; results: Json }
  /** A "wait" is not yet satisfied: retry on change, or when `timeoutMs` passes. */
  | { kind: 'wait'; timeoutMs: number };

interface Execution {
  db: Database;
  session: LockHolder | null;
  txn: Txn;
  symtab: SymbolTable;
  durable: boolean;
  elapsedMs: number;
  timeoutMs: number;
}

type Executor = (x: Execution, parser: OvsdbParser, result: JsonObject) => void;

const executors: Record<string, { readOnly: boolean; run: Executor }> = {
  insert: { readOnly: false, run: executeInsert },
  select: { readOnly: true, run: executeSelect },
  update: { readOnly: false, run: executeUpdate },
  mutate: { readOnly: false, run: executeMutate },
  delete: { readOnly: false, run: executeDelete },
  wait: { readOnly: true, run: executeWait },
  commit: { readOnly: false, run: executeCommit },
  abort: { readOnly: true, run: executeAbort },
  comment: { readOnly: true, run: executeComment },
  assert: { readOnly: true, run: executeAssert },
};

/** ovsdb_execute_compose(). `params` is the transact request's params array. */
export function executeTransaction(
  db: Database,
  session: LockHolder | null,
  params: Json[],
  readOnly: boolean,
  elapsedMs: number,
): ExecuteResult {
  if (!params.length || params[0] !== db.name) {
    return { kind: 'reply', results: syntaxError(params, null, 'database name expected as first parameter').toJson() };
  }
  const x: Execution = {
    db,
    session,
    txn: db.newTxn(),
    symtab: new SymbolTable(newUuid),
    durable: false,
    elapsedMs,
    timeoutMs: Number.MAX_SAFE_INTEGER,
  };
  const results: Json[] = [];
  const n = params.length - 1;
  let error: OvsdbError | null = null;
  for (let i = 1; i <= n; i++) {
    const parser = new OvsdbParser(params[i], () => `ovsdb operation ${i} of ${n}`);
    const op = parser.member('op', OP.ID) as string | undefined;
    const result: JsonObject = {};
    let ro = false;
    if (op !== undefined) {
      const ex = Object.prototype.hasOwnProperty.call(executors, op) ? executors[op] : undefined;
      if (ex) {
        ro = ex.readOnly;
        try {
          ex.run(x, parser, result);
        } catch (e) {
          if (!(e instanceof OvsdbError)) {
            x.txn.abort();
            throw e;
          }
          error = e;
        }
      } else {
        parser.raise(`No operation "${op}"`);
      }
    }
    const parseError = parser.finish();
    if (parseError) error = parseError;
    if (!ro && !error) {
      if (readOnly) {
        error = ovsdbError('not allowed', `${op} operation not allowed when database server is in read only mode`);
      } else if (db.name.startsWith('_')) {
        error = ovsdbError('not allowed', `${op} operation not allowed on table in reserved database ${db.name}`);
      }
    }
    if (error) {
      if (error.tag === 'not supported') {
        x.txn.abort();
        return { kind: 'wait', timeoutMs: x.timeoutMs };
      }
      results.push(error.toJson());
      break;
    }
    results.push(orderedResult(result));
  }
  while (results.length < n) results.push(null);
  if (error) {
    x.txn.abort();
    return { kind: 'reply', results };
  }
  return { kind: 'commit', txn: x.txn, results, durable: x.durable };
}

function orderedResult(r: JsonObject): JsonObject {
  return r;
}

function parseTable(x: Execution, parser: OvsdbParser, member: string): Table | null {
  const name = parser.member(member, OP.ID) as string | undefined;
  if (name === undefined) return null;
  const table = x.db.table(name);
  if (!table) parser.raise(`No table named ${name}.`);
  return table ?? null;
}

function checkParser(parser: OvsdbParser): void {
  const e = parser.getError();
  if (e) throw e;
}

/** ovsdb_row_from_json(): parses `json` into `row`; returns the columns it named (in JSON order). */
export function rowFromJson(row: Row, json: Json, symtab: SymbolTable | null): Column[] {
  const ts = row.table.schema;
  if (!isObject(json)) throw syntaxError(json, null, 'row must be JSON object');
  const included: Column[] = [];
  try {
    for (const name in json) {
      const c = ts.column(name);
      if (!c) throw syntaxError(json, 'unknown column', `No column ${name} in table ${ts.name}.`);
      row.set(c.index, datumFromJson(c.type, json[name] as Json, symtab));
      included.push(c);
    }
  } catch (e) {
    // ovsdb-server walks the members in its hash order and reports the first
    // problem it meets there; find that one.
    if (!(e instanceof OvsdbError) || Object.keys(json).length < 2) throw e;
    for (const name of objectOrder(json)) {
      const c = ts.column(name);
      if (!c) throw syntaxError(json, 'unknown column', `No column ${name} in table ${ts.name}.`);
      datumFromJson(c.type, json[name] as Json, symtab);
    }
    throw e;
  }
  return included;
}

/** A row as JSON with the given columns, keys in ovsdb-server's order. */
export function rowToJson(row: Row, columns: readonly Column[]): JsonObject {
  const o: JsonObject = {};
  for (const c of columns) o[c.name] = datumToJson(row.get(c.index), c.type);
  return o;
}

/** ovsdb_query(): rows matching every clause. */
export function query(x: { txn: Txn | null }, table: Table, where: Clause[]): Row[] {
  const uuid = uuidLookup(where);
  if (uuid !== null) {
    const row = table.rows.get(uuid);
    return row && matchesAll(row, where) ? [row] : [];
  }
  // A unique index answers `==` on its column while the table is untouched.
  const idx = indexLookup(table.schema, where);
  if (idx && !x.txn?.tables.has(table)) {
    const row = (table.indexes[idx.index] as Map<string, Row>).get(datumKey(idx.clause.arg));
    return row && matchesAll(row, where) ? [row] : [];
  }
  const out: Row[] = [];
  for (const row of table.rows.values()) if (matchesAll(row, where)) out.push(row);
  return out;
}

function parseWhere(x: Execution, table: Table, where: Json): Clause[] {
  return conditionFromJson(table.schema, where as Json[], x.symtab);
}

function executeInsert(x: Execution, parser: OvsdbParser, result: JsonObject): void {
  const table = parseTable(x, parser, 'table');
  const uuidJson = parser.member('uuid', OP.STRING | OP.OPTIONAL) as string | undefined;
  const uuidName = parser.member('uuid-name', OP.ID | OP.OPTIONAL) as string | undefined;
  const rowJson = parser.member('row', OP.OBJECT);
  checkParser(parser);
  const t = table as Table;
  let rowUuid: string | undefined;
  if (uuidJson !== undefined) {
    if (!isUuid(uuidJson)) throw syntaxError(uuidJson, null, 'bad uuid');
    rowUuid = uuidJson.toLowerCase();
    if (!x.txn.mayCreateRow(t, rowUuid)) {
      throw syntaxError(
        uuidJson,
        'duplicate uuid',
        'This UUID would duplicate a UUID already present within the table or deleted within the same transaction.',
      );
    }
  }
  if (uuidName !== undefined) {
    const sym = x.symtab.insert(uuidName);
    if (sym.created) throw syntaxError(uuidName, 'duplicate uuid-name', 'This "uuid-name" appeared on an earlier "insert" operation.');
    if (rowUuid !== undefined) sym.uuid = rowUuid;
    else rowUuid = sym.uuid;
    sym.created = true;
  } else if (rowUuid === undefined) {
    rowUuid = newUuid();
  }
  const row = t.newRow(rowUuid);
  rowFromJson(row, rowJson as Json, x.symtab);
  // Defaults can break constraints too (an enum without "", a minimum above 0).
  for (const c of t.schema.badDefaultColumns) {
    const d = row.get(c.index);
    if (d === c.dflt) throw checkDatumConstraints(d, c.type) as OvsdbError;
  }
  if (row.uuid !== rowUuid) row.set(COL_UUID, [rowUuid]);
  x.txn.rowInsert(row);
  result.uuid = ['uuid', rowUuid];
}

function compareRows(a: Row, b: Row, columns: Column[]): number {
  for (const c of columns) {
    const r = compareDatums(a.get(c.index), b.get(c.index), c.type);
    if (r) return r;
  }
  return 0;
}

function executeSelect(x: Execution, parser: OvsdbParser, result: JsonObject): void {
  const table = parseTable(x, parser, 'table');
  const where = parser.member('where', OP.ARRAY);
  const columnsJson = parser.member('columns', OP.ARRAY | OP.OPTIONAL);
  const sortJson = parser.member('sort', OP.ARRAY | OP.OPTIONAL);
  checkParser(parser);
  const t = table as Table;
  const cond = parseWhere(x, t, where as Json);
  const columns = t.schema.columnSetFromJson(columnsJson);
  const sort = t.schema.columnSetFromJson(sortJson);
  let rows = query(x, t, cond);
  if (!columns.some((c) => c.index === COL_UUID)) rows = distinct(rows, columns);
  if (sort.length && rows.length > 1) rows.sort((a, b) => compareRows(a, b, sort));
  // ovsdb_row_to_json() adds the columns in the given order; keys come out in hash order.
  const order = shashOrder(columns.map((c) => c.name)).map((n) => t.schema.byName.get(n) as Column);
  result.rows = rows.map((r) => rowToJson(r, order));
}

/** Drops rows equal in every one of `columns` (ovsdb_query_distinct()). */
function distinct(rows: Row[], columns: Column[]): Row[] {
  const seen = new Set<string>();
  const out: Row[] = [];
  for (const r of rows) {
    const key = columns.map((c) => datumKey(r.get(c.index))).join('\u0000');
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(r);
  }
  return out;
}

function executeUpdate(x: Execution, parser: OvsdbParser, result: JsonObject): void {
  const table = parseTable(x, parser, 'table');
  const where = parser.member('where', OP.ARRAY);
  const rowJson = parser.member('row', OP.OBJECT);
  checkParser(parser);
  const t = table as Table;
  const update = t.newRow(UUID_PLACEHOLDER);
  const columns = rowFromJson(update, rowJson as Json, x.symtab);
  if (columns.some((c) => !c.mutable)) {
    // The first one in ovsdb-server's walk of the row object.
    const c = objectOrder(rowJson as JsonObject).map((n) => t.schema.column(n) as Column).find((col) => !col.mutable) as Column;
    throw syntaxError(parser.json ?? undefined, 'constraint violation', `Cannot update immutable column ${c.name} in table ${t.name}.`);
  }
  const cond = parseWhere(x, t, where as Json);
  const rows = query(x, t, cond);
  for (const row of rows) {
    if (columns.every((c) => datumEquals(row.get(c.index), update.get(c.index)))) continue;
    const w = x.txn.rowModify(row);
    for (const c of columns) w.set(c.index, update.get(c.index));
  }
  result.count = rows.length;
}

const UUID_PLACEHOLDER = '00000000-0000-0000-0000-000000000000';

function executeMutate(x: Execution, parser: OvsdbParser, result: JsonObject): void {
  const table = parseTable(x, parser, 'table');
  const where = parser.member('where', OP.ARRAY);
  const mutationsJson = parser.member('mutations', OP.ARRAY);
  checkParser(parser);
  const t = table as Table;
  const mutations = mutationsFromJson(t.schema, mutationsJson as Json[], x.symtab);
  const cond = parseWhere(x, t, where as Json);
  const rows = query(x, t, cond);
  let count = 0;
  for (const row of rows) {
    count++;
    const w = x.txn.rowModify(row);
    try {
      for (const m of mutations) w.set(m.column.index, applyMutation(w.get(m.column.index), m));
    } catch (e) {
      result.count = count;
      throw e;
    }
  }
  result.count = count;
}

function executeDelete(x: Execution, parser: OvsdbParser, result: JsonObject): void {
  const where = parser.member('where', OP.ARRAY);
  const table = parseTable(x, parser, 'table');
  checkParser(parser);
  const t = table as Table;
  const cond = parseWhere(x, t, where as Json);
  const rows = query(x, t, cond);
  for (const row of rows) x.txn.rowDelete(row);
  result.count = rows.length;
}

function executeWait(x: Execution, parser: OvsdbParser): void {
  const timeout = parser.member('timeout', OP.INTEGER | OP.OPTIONAL) as number | bigint | undefined;
  const where = parser.member('where', OP.ARRAY);
  const columnsJson = parser.member('columns', OP.ARRAY | OP.OPTIONAL);
  const until = parser.member('until', OP.STRING) as string | undefined;
  const rowsJson = parser.member('rows', OP.ARRAY);
  const table = parseTable(x, parser, 'table');
  checkParser(parser);
  const t = table as Table;
  const cond = parseWhere(x, t, where as Json);
  const columns = t.schema.columnSetFromJson(columnsJson);
  let timeoutMs = Number.MAX_SAFE_INTEGER;
  if (timeout !== undefined) {
    if (timeout < 0) throw syntaxError(timeout, null, 'timeout must be nonnegative');
    timeoutMs = Number(timeout);
    if (timeoutMs < x.timeoutMs) x.timeoutMs = timeoutMs;
  }
  if (until !== '==' && until !== '!=') throw syntaxError(until as string, null, '"until" must be "==" or "!="');
  const keyOf = (r: Row): string => columns.map((c) => datumKey(r.get(c.index))).join('\u0000');
  const expected = new Set<string>();
  for (const rj of rowsJson as Json[]) {
    const row = t.newRow(UUID_PLACEHOLDER);
    rowFromJson(row, rj, x.symtab);
    expected.add(keyOf(row));
  }
  const actual = new Set<string>();
  let equal = true;
  for (const row of query(x, t, cond)) {
    const k = keyOf(row);
    if (!expected.has(k)) {
      equal = false;
      break;
    }
    actual.add(k);
  }
  if (equal) equal = actual.size === expected.size;
  if ((until === '==') !== equal) {
    if (timeout !== undefined && x.elapsedMs >= timeoutMs) {
      if (x.elapsedMs) throw ovsdbError('timed out', `"wait" timed out after ${x.elapsedMs} ms`);
      throw ovsdbError('timed out', '"where" clause test failed');
    }
    throw ovsdbError('not supported', 'triggers not supported');
  }
}

function executeCommit(x: Execution, parser: OvsdbParser): void {
  const durable = parser.member('durable', OP.BOOLEAN);
  if (durable === true) x.durable = true;
}

function executeAbort(): void {
  throw ovsdbError('aborted', 'aborted by request');
}

function executeComment(x: Execution, parser: OvsdbParser): void {
  const comment = parser.member('comment', OP.STRING) as string | undefined;
  if (comment !== undefined) x.txn.addComment(comment);
}

function executeAssert(x: Execution, parser: OvsdbParser): void {
  const lock = parser.member('lock', OP.ID) as string | undefined;
  if (lock === undefined) return;
  if (x.session?.holdsLock(lock)) return;
  throw ovsdbError('not owner', `Asserted lock ${lock} not held.`);
}
