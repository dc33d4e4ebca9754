// JIT warm-up at start: a few thousand synthetic operations on a throwaway copy of
// each served schema, so the first real bulk transaction runs on optimized code
// rather than on V8's interpreter. Nothing here touches the served databases.
import { Database, type Storage } from './database.js';
import { executeTransaction } from './execution.js';
import { JsonStream, stringify, type Json, type JsonObject } from './json.js';
import { Monitor } from './monitor.js';
import { DatabaseSchema, type TableSchema } from './schema.js';

/** A row for `ts` that passes its constraints, or null if the table needs references. */
function sampleRow(ts: TableSchema, n: number): JsonObject | null {
  const row: JsonObject = {};
  for (const c of ts.ordered) {
    if (c.index < 2) continue;
    const t = c.type;
    if (t.min > 0 && (t.key.isRef || t.value?.isRef)) return null;
    if (t.key.isRef || t.value?.isRef || t.key.enum || t.value?.enum) continue;
    if (t.key.type === 'string' && t.key.minLength === 0 && !t.value) row[c.name] = t.isScalar ? `w${n}` : ['set', [`w${n}`]];
    else if (t.value && t.key.type === 'string' && t.value.type === 'string') row[c.name] = ['map', [['k', `v${n}`]]];
  }
  return ts.badDefaultColumns.length ? null : row;
}

/**
 * Runs the synthetic load on a fresh copy of `schema` (a Database binds the schema's
 * reference types to its own tables, so the served one's must not be reused).
 * Returns how many operations ran.
 */
export function warmUp(schema: DatabaseSchema, rounds = 3): number {
  const db = new Database(DatabaseSchema.fromJson(schema.toJson()));
  const sink: Storage = { append: () => Promise.resolve() };
  db.storage = sink;
  const tables = db.schema.ordered.filter((ts) => ts.isRoot && sampleRow(ts, 0) !== null);
  if (!tables.length) return 0;
  const mon = Monitor.create(db, 2, 'warm', Object.fromEntries(tables.map((t) => [t.name, {}])) as JsonObject);
  db.listeners.add(mon);
  let ops = 0;
  const run = (params: Json[]): void => {
    // Through the wire path too: bytes in, JSON out.
    const [parsed] = new JsonStream().feed(Buffer.from(stringify(params)));
    const r = executeTransaction(db, null, parsed as Json[], false, 0);
    ops += params.length - 1;
    if (r.kind !== 'commit') return;
    try {
      db.commit(r.txn);
    } catch {
      r.txn.abort();
    }
    stringify(r.results);
    stringify(mon.composePending());
  };
  let n = 0;
  for (let round = 0; round < rounds; round++) {
    for (const ts of tables) {
      const inserts: Json[] = [db.name];
      for (let i = 0; i < 300; i++) inserts.push({ op: 'insert', table: ts.name, row: sampleRow(ts, n++) as JsonObject });
      run(inserts);
      for (let i = 0; i < 50; i++) run([db.name, { op: 'insert', table: ts.name, row: sampleRow(ts, n++) as JsonObject }]);
      run([db.name, { op: 'select', table: ts.name, where: [] }]);
      run([db.name, { op: 'update', table: ts.name, where: [], row: {} }]);
      run([db.name, { op: 'delete', table: ts.name, where: [] }]);
    }
  }
  db.listeners.delete(mon);
  return ops;
}

