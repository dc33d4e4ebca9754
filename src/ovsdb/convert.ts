// Database conversion (ovsdb/file.c ovsdb_convert(), the "convert" method): a copy of
// a database under a new schema. Tables and columns the new schema lacks are dropped,
// new ones start at their defaults, every kept value goes through JSON into its new
// type (so a value the new type cannot hold fails the conversion with the error
// ovsdb_datum_from_json() gives), and the copy must pass every commit check.
import { datumFromJson, datumToJson } from './data.js';
import { Database } from './database.js';
import { stringify } from './json.js';
import { COL_UUID, COL_VERSION, type DatabaseSchema } from './schema.js';

/** ovsdb_convert(): `src`'s rows in a new Database of `schema`; throws an OvsdbError. */
export function convertDatabase(src: Database, schema: DatabaseSchema): Database {
  const dst = new Database(schema);
  const txn = dst.newTxn();
  try {
    for (const srcTable of src.tables.values()) {
      const dstTable = dst.table(srcTable.name);
      if (!dstTable) continue;
      const pairs = [];
      for (const sc of srcTable.schema.ordered) {
        if (sc.index === COL_UUID || sc.index === COL_VERSION) continue;
        const dc = dstTable.schema.column(sc.name);
        if (!dc) continue;
        pairs.push({ sc, dc, same: stringify(sc.toJson()) === stringify(dc.toJson()) });
      }
      for (const row of srcTable.rows.values()) {
        const n = dstTable.newRow(row.uuid);
        for (const { sc, dc, same } of pairs) {
          const d = row.get(sc.index);
          n.set(dc.index, same ? d : datumFromJson(dc.type, datumToJson(d, sc.type), null));
        }
        txn.rowInsert(n);
      }
    }
    txn.precommit();
    txn.complete();
  } catch (e) {
    txn.abort();
    throw e;
  }
  // Monitors' shared-update cache keys count commits: keep counting.
  dst.nCommits = src.nCommits + 1;
  return dst;
}
