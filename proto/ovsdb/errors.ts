// The "error" strings of RFC 7047 error objects and of the OVS extensions, one row each:
// the tag as it goes on the wire and when ovsdb-server answers with it. Server and
// client read the same table, so a tag is never spelled twice.
export const ovsdbErrorTags = {
  'referential integrity violation': 'a strong reference names a missing row, or a deleted row is still referenced',
  'constraint violation': 'a value breaks its column type, an index or maxRows',
  'resources exhausted': 'the server ran out of a resource',
  'I/O error': 'the database file could not be written or read',
  'duplicate uuid-name': 'a "uuid-name" was used by an earlier insert',
  'duplicate uuid': 'an explicit "uuid" would duplicate an existing row',
  'domain error': 'a mutation divided by zero',
  'range error': 'a mutation overflowed',
  'timed out': 'a "wait" condition did not become true before its timeout',
  'not supported': 'a "wait" is pending (internal; retried as a trigger)',
  aborted: 'an "abort" operation ended the transaction',
  'not owner': 'an "assert" named a lock the session does not hold',
  'syntax error': 'a request does not parse',
  'unknown column': 'a column is not in the table',
  'unknown table': 'a table is not in the database',
  'unknown function': 'a condition names an unknown function',
  'unknown mutator': 'a mutation names an unknown mutator',
  'unknown database': 'a request names a database the server does not have',
  'not allowed': 'a write to a read-only server or to a reserved database',
  'permission error': 'RBAC rules forbid the operation',
  'consistency violation': 'a replayed transaction does not fit the data',
  'database not available': 'the database has not finished opening',
  'internal error': 'a bug in the server',
  'invalid parameters': 'a "convert" schema names another database',
  'ovsdb error': 'an error with no more specific tag',
} as const;

export type OvsdbErrorTag = keyof typeof ovsdbErrorTags;
