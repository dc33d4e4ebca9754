// "transact" against xdpswitch and the real ovsdb-server, on copies of one database:
// every operation, its results and its errors (details and syntax included) must match
// byte for byte once UUIDs are numbered. The cases run in order on shared state.
import { describe, expect, test } from 'vitest';
import { stringify, type Json } from '../../src/ovsdb/json.js';
import { client, outcome, usePair } from './pair.js';

type Op = Record<string, Json>;
const cases: [string, Op[]][] = [
  ['inserting an unreferenced non-root row commits nothing (garbage)', [{ op: 'insert', table: 'Bridge', row: { name: 'orphan' } }]],
  ['select sees no orphan', [{ op: 'select', table: 'Bridge', where: [] }]],
  ['insert with named-uuid and mutate a set', [
    { op: 'insert', table: 'Bridge', row: { name: 'br0', stp_enable: false }, 'uuid-name': 'b' },
    { op: 'mutate', table: 'Open_vSwitch', where: [], mutations: [['bridges', 'insert', ['set', [['named-uuid', 'b']]]]] },
  ]],
  ['select every column, sorted as ovsdb-server sorts', [{ op: 'select', table: 'Bridge', where: [] }]],
  ['maxRows', [{ op: 'insert', table: 'Open_vSwitch', row: {} }]],
  ['strong reference to a missing row', [{ op: 'insert', table: 'Bridge', row: { name: 'x', ports: ['set', [['uuid', '11111111-1111-1111-1111-111111111111']]] } }]],
  ['strong reference to an unknown named-uuid', [{ op: 'insert', table: 'Bridge', row: { name: 'x', ports: ['named-uuid', 'nope'] } }]],
  ['enum constraint', [{ op: 'insert', table: 'Bridge', row: { name: 'x', fail_mode: 'bogus' } }]],
  ['integer range', [{ op: 'insert', table: 'Bridge', row: { name: 'x', flood_vlans: ['set', [5000]] } }]],
  ['duplicate in a set', [{ op: 'insert', table: 'Bridge', row: { name: 'x', flood_vlans: ['set', [1, 1]] } }]],
  ['duplicate key in a map', [{ op: 'insert', table: 'Bridge', row: { name: 'x', other_config: ['map', [['a', 'b'], ['a', 'c']]] } }]],
  ['malformed map pair', [{ op: 'insert', table: 'Bridge', row: { name: 'x', external_ids: ['map', [['a']]] } }]],
  ['unknown column', [{ op: 'insert', table: 'Bridge', row: { name: 'x', nope: 1, other: 2 } }]],
  ['members not allowed', [{ op: 'insert', table: 'Bridge', row: { name: 'x' }, bogus: 1, bogus2: 2 }]],
  ['unknown operation', [{ op: 'frob', table: 'Bridge' }]],
  ['missing op', [{ table: 'Bridge' }]],
  ['unknown table', [{ op: 'select', table: 'Nope', where: [] }]],
  ['unique index against a committed row', [
    { op: 'insert', table: 'Bridge', row: { name: 'br0', stp_enable: true }, 'uuid-name': 'b' },
    { op: 'mutate', table: 'Open_vSwitch', where: [], mutations: [['bridges', 'insert', ['set', [['named-uuid', 'b']]]]] },
  ]],
  ['integer overflow', [{ op: 'mutate', table: 'Open_vSwitch', where: [], mutations: [['next_cfg', '+=', 9223372036854775807n]] }]],
  ['integer add', [{ op: 'mutate', table: 'Open_vSwitch', where: [], mutations: [['next_cfg', '+=', 7]] }]],
  ['integer multiply, divide, modulo', [{ op: 'mutate', table: 'Open_vSwitch', where: [], mutations: [['next_cfg', '*=', 6], ['next_cfg', '/=', 4], ['next_cfg', '%=', 4]] }]],
  ['division by zero', [{ op: 'mutate', table: 'Open_vSwitch', where: [], mutations: [['next_cfg', '/=', 0]] }]],
  ['insert into a scalar', [{ op: 'mutate', table: 'Open_vSwitch', where: [], mutations: [['next_cfg', 'insert', 0]] }]],
  ['arithmetic on a set of uuids', [{ op: 'mutate', table: 'Open_vSwitch', where: [], mutations: [['bridges', '+=', 1]] }]],
  ['mutating an immutable column', [{ op: 'mutate', table: 'Open_vSwitch', where: [], mutations: [['_uuid', '+=', 1]] }]],
  ['unknown mutator', [{ op: 'mutate', table: 'Open_vSwitch', where: [], mutations: [['next_cfg', '^=', 1]] }]],
  ['map insert and delete by key', [{ op: 'mutate', table: 'Open_vSwitch', where: [], mutations: [['external_ids', 'insert', ['map', [['k', 'v'], ['a', 'b']]]], ['external_ids', 'delete', ['set', ['a']]]] }]],
  ['map delete by pair that does not match', [{ op: 'mutate', table: 'Open_vSwitch', where: [], mutations: [['external_ids', 'delete', ['map', [['k', 'other']]]]] }]],
  ['set too large', [{ op: 'mutate', table: 'Bridge', where: [], mutations: [['flood_vlans', 'insert', ['set', Array.from({ length: 4097 }, (_, i) => i % 4096)]]] }]],
  ['conditions: <, includes, excludes, !=', [
    { op: 'select', table: 'Open_vSwitch', where: [['next_cfg', '<', 5]], columns: ['next_cfg', 'external_ids'] },
    { op: 'select', table: 'Open_vSwitch', where: [['external_ids', 'includes', ['map', [['k', 'v']]]]], columns: ['external_ids'] },
    { op: 'select', table: 'Open_vSwitch', where: [['external_ids', 'excludes', ['map', [['k', 'v']]]]], columns: ['external_ids'] },
    { op: 'select', table: 'Bridge', where: [['name', '!=', 'zz'], true], columns: ['name'] },
    { op: 'select', table: 'Bridge', where: [false], columns: ['name'] },
  ]],
  ['< on a map', [{ op: 'select', table: 'Open_vSwitch', where: [['external_ids', '<', 5]] }]],
  ['unknown column in a condition', [{ op: 'select', table: 'Open_vSwitch', where: [['bogus', '==', 1]] }]],
  ['unknown function', [{ op: 'select', table: 'Open_vSwitch', where: [['next_cfg', '~', 1]] }]],
  ['malformed clause', [{ op: 'select', table: 'Open_vSwitch', where: [['next_cfg', '==', 1, 2]] }]],
  ['repeated column', [{ op: 'select', table: 'Bridge', where: [], columns: ['name', 'name'] }]],
  ['bad column name', [{ op: 'select', table: 'Bridge', where: [], columns: ['name', 'zz'] }]],
  ['deleting a referenced row', [{ op: 'delete', table: 'Bridge', where: [['name', '==', 'br0']] }]],
  ['updating an immutable column', [{ op: 'update', table: 'Bridge', where: [], row: { _uuid: ['uuid', '11111111-1111-1111-1111-111111111111'] } }]],
  ['update counts matches, changed or not', [{ op: 'update', table: 'Bridge', where: [], row: { stp_enable: false, datapath_type: 'netdev' } }]],
  ['wait satisfied', [{ op: 'wait', table: 'Bridge', where: [], columns: ['name'], until: '==', rows: [{ name: 'br0' }], timeout: 0 }]],
  ['wait failing at once', [{ op: 'wait', table: 'Bridge', where: [], columns: ['name'], until: '!=', rows: [{ name: 'br0' }], timeout: 0 }]],
  ['wait timing out', [{ op: 'wait', table: 'Bridge', where: [], columns: ['name'], until: '!=', rows: [{ name: 'br0' }], timeout: 150 }]],
  ['wait with a bad until', [{ op: 'wait', table: 'Bridge', where: [], columns: ['name'], until: '<', rows: [], timeout: 0 }]],
  ['negative timeout', [{ op: 'wait', table: 'Bridge', where: [], until: '==', rows: [], timeout: -1 }]],
  ['abort', [{ op: 'comment', comment: 'x' }, { op: 'abort' }, { op: 'select', table: 'Bridge', where: [] }]],
  ['assert on a lock not held', [{ op: 'comment', comment: 'hi' }, { op: 'assert', lock: 'foo' }]],
  ['commit durable', [{ op: 'commit', durable: true }]],
  ['commit without durable', [{ op: 'commit' }]],
  ['bad explicit uuid', [{ op: 'insert', table: 'Bridge', uuid: 'bad', row: { name: 'q' } }]],
  ['explicit uuid', [
    { op: 'insert', table: 'Bridge', uuid: '22222222-2222-2222-2222-222222222222', row: { name: 'q' }, 'uuid-name': 'q' },
    { op: 'mutate', table: 'Open_vSwitch', where: [], mutations: [['bridges', 'insert', ['set', [['named-uuid', 'q']]]]] },
  ]],
  ['duplicate explicit uuid', [{ op: 'insert', table: 'Bridge', uuid: '22222222-2222-2222-2222-222222222222', row: { name: 'q2' } }]],
  ['duplicate uuid-name', [{ op: 'insert', table: 'Bridge', 'uuid-name': 'a', row: { name: 'q' } }, { op: 'insert', table: 'Bridge', 'uuid-name': 'a', row: { name: 'r' } }]],
  ['bad uuid atom', [{ op: 'insert', table: 'Bridge', row: { name: 'q', ports: ['uuid', 'zzz'] } }]],
  ['named-uuid that is not an id', [{ op: 'insert', table: 'Bridge', row: { name: 'q', ports: ['named-uuid', '1abc'] } }]],
  ['real where an integer belongs', [{ op: 'insert', table: 'Bridge', row: { name: 'q', flood_vlans: 1.5 } }]],
  ['set without an array', [{ op: 'insert', table: 'Bridge', row: { name: 'q', flood_vlans: ['set', 1] } }]],
  ['string where a boolean belongs', [{ op: 'insert', table: 'Bridge', row: { name: 'q', stp_enable: 'x' } }]],
  ['empty set for a scalar', [{ op: 'insert', table: 'Bridge', row: { name: ['set', []] } }]],
  ['optional with two values', [{ op: 'insert', table: 'Bridge', row: { name: 'q', datapath_id: ['set', ['a', 'b']] } }]],
  ['integer above its range', [{ op: 'insert', table: 'Interface', row: { name: 'q', ofport_request: 70000 } }]],
  ['integer below its range', [{ op: 'insert', table: 'Interface', row: { name: 'q', ofport_request: 0 } }]],
  ['deleting the root row cascades', [{ op: 'delete', table: 'Open_vSwitch', where: [] }, { op: 'select', table: 'Bridge', where: [], columns: ['name'] }]],
  ['nothing left after the cascade', [{ op: 'select', table: 'Port', where: [] }, { op: 'select', table: 'Bridge', where: [] }]],
];

describe('transact matches ovsdb-server', () => {
  const pair = usePair();
  const json = (ops: Op[]): string => stringify(['Open_vSwitch', ...ops] as Json);

  test.each(cases)('%s', async (_name, ops) => {
    const p = pair();
    const req = json(ops);
    // ovsdb-server reports when its timer woke, which can be a millisecond late.
    const timing = (t: string): string => t.replace(/timed out after \d+ ms/, 'timed out after <N> ms');
    const a = timing(outcome(await client(p.ovs, ['transact', req])));
    const b = timing(outcome(await client(p.xdp, ['transact', req])));
    expect(b).toBe(a);
  });

  test('a wait that blocks until another client commits', async () => {
    const p = pair();
    const waitOp = JSON.stringify(['Open_vSwitch', { op: 'wait', table: 'Bridge', where: [['name', '==', 'late']], columns: ['name'], until: '==', rows: [{ name: 'late' }], timeout: 10000 }]);
    const insert = JSON.stringify([
      'Open_vSwitch',
      { op: 'insert', table: 'Bridge', row: { name: 'late' }, 'uuid-name': 'b' },
      { op: 'insert', table: 'Open_vSwitch', row: { bridges: ['named-uuid', 'b'] } },
    ]);
    const results = await Promise.all(
      [p.ovs, p.xdp].map(async (s) => {
        const waiting = client(s, ['transact', waitOp]);
        await new Promise((r) => setTimeout(r, 300));
        await client(s, ['transact', insert]);
        return outcome(await waiting);
      }),
    );
    expect(results[1]).toBe(results[0]);
    expect(results[0]).toContain('[{}]');
  });
});
