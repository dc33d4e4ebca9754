// The client library (xdpswitch/ovsdb-client) against both servers: typed transact and
// its errors, a monitor's replica kept equal to the database through inserts, set and
// map changes and deletes, locks with their events.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { OvsdbClient, OvsdbRpcError, ovsdb, TransactionError, type ReplicaRow } from '../../src/ovsdb/client.js';
import { startPair, vsctl, type Pair } from './pair.js';

describe.each(['ovs', 'xdp'] as const)('client library against %s', (side) => {
  let p: Pair;
  let c: OvsdbClient;
  beforeAll(async () => {
    p = await startPair();
    await vsctl(p[side], ['init']);
    c = await OvsdbClient.connect(p[side].remote);
  });
  afterAll(async () => {
    c?.close();
    await p?.stop();
  });

  test('list_dbs, get_schema, echo, get_server_id', async () => {
    expect((await c.listDbs()).sort()).toEqual(['Open_vSwitch', '_Server']);
    const schema = await c.getSchema('Open_vSwitch');
    expect(schema.name).toBe('Open_vSwitch');
    expect(await c.echo('x', 1)).toEqual(['x', 1]);
    expect(await c.getServerId()).toMatch(/^[0-9a-f-]{36}$/);
    await expect(c.request('frobnicate', [])).rejects.toBeInstanceOf(OvsdbRpcError);
  });

  test('transact: results, and a TransactionError carrying every result', async () => {
    const [ins] = await c.transact(
      'Open_vSwitch',
      { op: 'insert', table: 'Bridge', row: { name: 'b1', external_ids: ovsdb.map({ a: '1' }) }, 'uuid-name': 'b' },
      { op: 'mutate', table: 'Open_vSwitch', where: [], mutations: [['bridges', 'insert', ovsdb.set([ovsdb.namedUuid('b')])]] },
    );
    expect(ins?.uuid?.[0]).toBe('uuid');
    const err = await c
      .transact('Open_vSwitch', { op: 'insert', table: 'Bridge', row: { name: 'b1' }, 'uuid-name': 'b' }, {
        op: 'mutate',
        table: 'Open_vSwitch',
        where: [],
        mutations: [['bridges', 'insert', ovsdb.set([ovsdb.namedUuid('b')])]],
      })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TransactionError);
    expect((err as TransactionError).failed.error).toBe('constraint violation');
    expect((err as TransactionError).results).toHaveLength(3);
  });

  test('a monitor replica follows inserts, set and map changes, and deletes', async () => {
    const m = await c.monitor('Open_vSwitch', { Bridge: ['name', 'external_ids', 'flood_vlans', 'stp_enable', 'fail_mode'] });
    const byName = (n: string): ReplicaRow | undefined => [...m.rows('Bridge').values()].find((r) => r.name === n);
    expect(byName('b1')?.external_ids).toEqual(new Map([['a', '1']]));
    expect(byName('b1')?.stp_enable).toBe(false);
    expect(byName('b1')?.fail_mode).toBe(null);
    const changed = () => new Promise((r) => m.once('change', r));
    let next = changed();
    await vsctl(p[side], ['add-br', 'b2', '--', 'set', 'bridge', 'b2', 'flood_vlans=1,2,3', 'external_ids:x=y', 'fail_mode=secure']);
    await next;
    expect(byName('b2')).toMatchObject({ flood_vlans: [1, 2, 3], external_ids: new Map([['x', 'y']]), fail_mode: 'secure' });
    next = changed();
    await vsctl(p[side], ['remove', 'bridge', 'b2', 'flood_vlans', '2', '--', 'add', 'bridge', 'b2', 'flood_vlans', '9', '--', 'set', 'bridge', 'b2', 'external_ids:x=z', 'external_ids:k=v', 'stp_enable=true', '--', 'clear', 'bridge', 'b2', 'fail_mode']);
    await next;
    expect(byName('b2')).toMatchObject({ flood_vlans: [1, 3, 9], external_ids: new Map([['x', 'z'], ['k', 'v']]), stp_enable: true, fail_mode: null });
    next = changed();
    await vsctl(p[side], ['del-br', 'b2']);
    await next;
    expect(byName('b2')).toBeUndefined();
    await m.cancel();
  });

  test('locks: lock, steal with the stolen event, locked handed back', async () => {
    const other = await OvsdbClient.connect(p[side].remote);
    expect(await c.lock('L')).toBe(true);
    const stolen = new Promise((r) => c.once('stolen', r));
    await other.steal('L');
    expect(await stolen).toBe('L');
    const relocked = new Promise((r) => c.once('locked', r));
    await other.unlock('L');
    expect(await relocked).toBe('L');
    await c.unlock('L');
    other.close();
  });
});
