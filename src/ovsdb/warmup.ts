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
 * Operations inserting a row of `ts` named `name`, preceded by the rows its required
 * strong references need (inserted in the same transaction, referred to by
 * "named-uuid"), as a client adding a port with its interface sends them; null if a
 * required column cannot be filled.
 */
function sampleChain(ts: TableSchema, name: string, n: number, depth = 0): JsonObject[] | null {
  const ops: JsonObject[] = [];
  const row: JsonObject = {};
  for (const c of ts.ordered) {
    if (c.index < 2) continue;
    const t = c.type;
    // Other required columns keep their defaults (badDefaultColumns says when they can't).
    if (t.key.enum || t.value?.enum) continue;
    if (t.value?.isRef) {
      if (t.min > 0) return null;
      continue;
    }
    if (t.key.isRef) {
      if (t.min === 0) continue;
      const target = t.key.refTable;
      if (!target || !t.key.isStrongRef || depth >= 3) return null;
      const sub = sampleChain(target.schema, `${name}_${c.index}`, n, depth + 1);
      if (!sub) return null;
      ops.push(...sub);
      const ref: Json = ['named-uuid', `${name}_${c.index}`];
      row[c.name] = t.isScalar ? ref : ['set', [ref]];
    } else if (t.key.type === 'string' && t.key.minLength === 0 && !t.value) {
      row[c.name] = t.isScalar ? `w${n}` : ['set', [`w${n}`]];
    } else if (t.value && t.key.type === 'string' && t.value.type === 'string') {
      row[c.name] = ['map', [['k', `v${n}`]]];
    }
  }
  if (ts.badDefaultColumns.length) return null;
  ops.push({ op: 'insert', table: ts.name, row, 'uuid-name': name });
  return ops;
}

/** A table with a set of strong references to `ts`, and that column's name. */
function parentOf(schema: DatabaseSchema, ts: TableSchema): [TableSchema, string] | null {
  for (const p of schema.ordered) {
    for (const c of p.ordered) {
      if (c.type.key.isStrongRef && c.type.key.refTable?.schema === ts && c.type.max > 1 && !c.type.value) return [p, c.name];
    }
  }
  return null;
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
  // Rows that need others in the same transaction (a Port and its Interface), kept
  // by parents up to a root (Bridge, Open_vSwitch) and then added to with "mutate":
  // the named-uuid, reference-count and set paths of a bulk insert.
  const chained = db.schema.ordered.filter((ts) => ts.columns.some((c) => c.type.key.isStrongRef && c.type.min > 0));
  let n = 0;
  const chains = (ts: TableSchema, k: number): { ops: Json[]; refs: Json[] } => {
    const ops: Json[] = [];
    const refs: Json[] = [];
    for (let i = 0; i < k; i++) {
      const chain = sampleChain(ts, `c${n}`, n);
      if (!chain) break;
      ops.push(...chain);
      refs.push(['named-uuid', `c${n}`]);
      n++;
    }
    return { ops, refs };
  };
  for (let round = 0; round < rounds; round++) {
    for (const ts of chained) {
      const first = chains(ts, 40);
      if (!first.ops.length) continue;
      const ops: Json[] = [db.name, ...first.ops];
      // Up the parents, each holding the previous level in a set, to a root.
      let child = ts;
      let refs = first.refs;
      let holder: [TableSchema, string] | null = null;
      for (let depth = 0; depth < 4 && !child.isRoot; depth++) {
        const parent = parentOf(db.schema, child);
        if (!parent) break;
        const row = sampleChain(parent[0], `up${depth}`, n++);
        if (!row) break;
        const insert = row[row.length - 1] as JsonObject;
        (insert.row as JsonObject)[parent[1]] = ['set', refs];
        if (parent[0].isRoot) ops.push({ op: 'delete', table: parent[0].name, where: [] });
        ops.push(...row);
        holder ??= parent;
        refs = [['named-uuid', `up${depth}`]];
        child = parent[0];
      }
      run(ops);
      if (holder) {
        const more = chains(ts, 40);
        run([db.name, ...more.ops, { op: 'mutate', table: holder[0].name, where: [], mutations: [[holder[1], 'insert', ['set', more.refs]]] }]);
      }
      if (child.isRoot && child !== ts) run([db.name, { op: 'delete', table: child.name, where: [] }]);
    }
    for (const ts of tables) {
      const inserts: Json[] = [db.name];
      for (let i = 0; i < 120; i++) inserts.push({ op: 'insert', table: ts.name, row: sampleRow(ts, n++) as JsonObject });
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

