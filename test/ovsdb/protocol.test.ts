// The JSON-RPC surface seen through raw sockets, against xdpswitch and the real
// ovsdb-server side by side: method replies and errors, locks and their notifications,
// monitor methods, and bad peers (malformed JSON, half-sent and huge messages, a client
// that never reads) getting the answer or disconnect ovsdb-server gives, while other
// clients carry on.
import net from 'node:net';
import { describe, expect, test } from 'vitest';
import { normalizeUuids, usePair, vsctl, type Side } from './pair.js';
import { JsonStream, stringify, type Json } from '../../src/ovsdb/json.js';

/** A bare socket peer that records every message the server sends, and the close. */
class Peer {
  readonly messages: Json[] = [];
  private readonly stream = new JsonStream();
  private waiters: (() => void)[] = [];
  closed = false;

  private constructor(readonly sock: net.Socket) {
    sock.on('data', (d: Buffer) => {
      this.stream.feed(d, this.messages);
      this.wake();
    });
    sock.on('close', () => {
      this.closed = true;
      this.wake();
    });
    sock.on('error', () => undefined);
  }

  static connect(s: Side): Promise<Peer> {
    return new Promise((resolve, reject) => {
      const sock = net.connect(s.sock, () => resolve(new Peer(sock)));
      sock.once('error', reject);
    });
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  send(x: Json | string | Buffer): void {
    this.sock.write(typeof x === 'string' || Buffer.isBuffer(x) ? x : stringify(x));
  }

  /** Waits until `n` messages arrived (or the peer closed); returns them all. */
  async wait(n: number, timeoutMs = 5000): Promise<Json[]> {
    const deadline = Date.now() + timeoutMs;
    while (this.messages.length < n && !this.closed && Date.now() < deadline) {
      await new Promise<void>((r) => {
        this.waiters.push(r);
        setTimeout(r, 50);
      });
    }
    return this.messages;
  }

  async waitClose(timeoutMs = 5000): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (!this.closed && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    return this.closed;
  }

  close(): void {
    this.sock.destroy();
  }
}

/** What a peer saw: its messages, normalized, and whether the server hung up. */
function transcript(p: Peer): string {
  return normalizeUuids(p.messages.map((m) => stringify(sortKeys(m))).join('\n')) + (p.closed ? '\n<closed>' : '');
}

function sortKeys(j: Json): Json {
  if (Array.isArray(j)) return j.map(sortKeys);
  if (j && typeof j === 'object') {
    const o: Record<string, Json> = {};
    for (const k of Object.keys(j).sort()) o[k] = sortKeys((j as Record<string, Json>)[k] as Json);
    return o;
  }
  return j;
}

describe('JSON-RPC methods and errors match ovsdb-server', () => {
  const pair = usePair();

  /** Sends `requests` on one connection to each server and compares transcripts. */
  async function same(requests: (Json | string)[], expectReplies: number): Promise<string> {
    const p = pair();
    const out: string[] = [];
    for (const s of [p.ovs, p.xdp]) {
      const peer = await Peer.connect(s);
      for (const r of requests) peer.send(r);
      await peer.wait(expectReplies);
      await new Promise((r) => setTimeout(r, 100));
      out.push(transcript(peer));
      peer.close();
    }
    expect(out[1]).toBe(out[0]);
    return out[0] as string;
  }

  test.each<[string, Json[], number]>([
    ['echo', [{ id: 1, method: 'echo', params: ['a', { b: [1, 2] }] }], 1],
    ['list_dbs', [{ id: 1, method: 'list_dbs', params: [] }], 1],
    ['unknown method', [{ id: 1, method: 'frobnicate', params: [] }], 1],
    ['string id, then a numeric one', [{ id: 'x', method: 'echo', params: [] }, { id: 2.5, method: 'echo', params: [] }], 2],
    ['get_schema of an unknown database', [{ id: 1, method: 'get_schema', params: ['Nope'] }], 1],
    ['get_schema without params', [{ id: 1, method: 'get_schema', params: [] }], 1],
    ['transact with a non-string database', [{ id: 1, method: 'transact', params: [5] }], 1],
    ['set_db_change_aware', [{ id: 1, method: 'set_db_change_aware', params: [true] }, { id: 2, method: 'set_db_change_aware', params: ['x'] }], 2],
    ['monitor_cancel of an unknown monitor', [{ id: 1, method: 'monitor_cancel', params: ['m'] }, { id: 2, method: 'monitor_cancel', params: [] }], 2],
    ['duplicate monitor ID', [
      { id: 1, method: 'monitor', params: ['Open_vSwitch', 'm', { Open_vSwitch: { columns: ['next_cfg'] } }] },
      { id: 2, method: 'monitor', params: ['Open_vSwitch', 'm', { Open_vSwitch: { columns: ['next_cfg'] } }] },
    ], 2],
    ['monitor with bad requests', [
      { id: 1, method: 'monitor', params: ['Open_vSwitch', 'a', { Nope: {} }] },
      { id: 2, method: 'monitor', params: ['Open_vSwitch', 'b', { Bridge: { columns: ['name', 'name'] } }] },
      { id: 3, method: 'monitor', params: ['Open_vSwitch', 'c', { Bridge: { columns: ['zz'] } }] },
      { id: 4, method: 'monitor', params: ['Open_vSwitch', 'd', []] },
      { id: 5, method: 'monitor_cond', params: ['Open_vSwitch', 'e'] },
      { id: 6, method: 'monitor_cond_since', params: ['Open_vSwitch', 'f', {}, 5] },
      { id: 7, method: 'monitor_cond_since', params: ['Open_vSwitch', 'g', {}, 'zz'] },
      { id: 8, method: 'monitor', params: ['Open_vSwitch', 'h', { Bridge: { select: { bogus: true } } }] },
    ], 8],
    ['monitor_cond_change', [
      { id: 1, method: 'monitor_cond', params: ['Open_vSwitch', 'm', { Open_vSwitch: [{ columns: ['next_cfg'], where: [false] }] }] },
      { id: 2, method: 'monitor_cond_change', params: ['m', 'm2', { Open_vSwitch: [{ where: [true] }] }] },
      { id: 3, method: 'monitor_cond_change', params: ['m', 'm3', { Open_vSwitch: [{ where: [] }] }] },
      { id: 4, method: 'monitor_cond_change', params: ['m2', 'm2', { Open_vSwitch: [{ columns: [] }] }] },
      { id: 5, method: 'monitor_cond_change', params: ['m2', 'm2', { Bridge: [{ where: [] }] }] },
      { id: 6, method: 'monitor_cancel', params: ['m2'] },
    ], 7],
    ['locks: lock, repeated lock, unlock, bad names', [
      { id: 1, method: 'lock', params: ['l1'] },
      { id: 2, method: 'lock', params: ['l1'] },
      { id: 3, method: 'unlock', params: ['l1'] },
      { id: 4, method: 'unlock', params: ['l1'] },
      { id: 5, method: 'lock', params: ['1bad'] },
      { id: 6, method: 'steal', params: [] },
    ], 6],
    ['assert on a held lock', [
      { id: 1, method: 'lock', params: ['held'] },
      { id: 2, method: 'transact', params: ['Open_vSwitch', { op: 'assert', lock: 'held' }] },
    ], 2],
    ['cancel of a blocked transaction (not change-aware: no reply)', [
      { id: 1, method: 'transact', params: ['Open_vSwitch', { op: 'wait', table: 'Bridge', where: [], until: '!=', rows: [], timeout: 100000 }] },
      { id: null, method: 'cancel', params: [1] },
      { id: 2, method: 'echo', params: [] },
    ], 1],
    ['cancel when change-aware', [
      { id: 0, method: 'set_db_change_aware', params: [true] },
      { id: 1, method: 'transact', params: ['Open_vSwitch', { op: 'wait', table: 'Bridge', where: [], until: '!=', rows: [], timeout: 100000 }] },
      { id: null, method: 'cancel', params: [1] },
    ], 2],
    ['duplicate transact ID while blocked', [
      { id: 1, method: 'transact', params: ['Open_vSwitch', { op: 'wait', table: 'Bridge', where: [], until: '!=', rows: [], timeout: 100000 }] },
      { id: 1, method: 'transact', params: ['Open_vSwitch'] },
    ], 1],
  ])('%s', async (_name, requests, n) => {
    await same(requests, n);
  });

  test.each<[string, string]>([
    ['malformed JSON', '{"id":1,"method":"echo","params":[}'],
    ['a bare string', '"hello"'],
    ['not an object', '[1,2,3]'],
    ['a reply from the client', '{"id":1,"result":[],"error":null}'],
    ['params that are not an array', '{"id":1,"method":"echo","params":{}}'],
    ['an unexpected member', '{"id":1,"method":"echo","params":[],"extra":1}'],
    ['a request without params', '{"id":1,"method":"echo"}'],
    ['nesting past 1000', '['.repeat(1001)],
    ['a control character in a string', '{"id":1,"method":"echo","params":["a\u0001b"]}'],
  ])('%s gets the disconnect ovsdb-server gives', async (_name, text) => {
    const t = await same([text], 1);
    expect(t).toContain('<closed>');
  });

  test('a message split across writes, the rest after a pause, is answered once complete', async () => {
    const p = pair();
    const msg = stringify({ id: 7, method: 'echo', params: ['split'] });
    for (const s of [p.ovs, p.xdp]) {
      const peer = await Peer.connect(s);
      peer.send(msg.slice(0, 10));
      await new Promise((r) => setTimeout(r, 200));
      expect(peer.messages).toEqual([]);
      peer.send(msg.slice(10));
      expect(await peer.wait(1)).toEqual([{ id: 7, result: ['split'], error: null }]);
      peer.close();
    }
  });

  test('a half-sent message followed by a hang-up does not disturb other clients', async () => {
    const p = pair();
    for (const s of [p.ovs, p.xdp]) {
      const bad = await Peer.connect(s);
      bad.send('{"id":1,"method":"transact","params":["Open_vSwitch",{"op":"insert"');
      bad.close();
      const good = await Peer.connect(s);
      good.send({ id: 1, method: 'echo', params: [] });
      expect(await good.wait(1)).toHaveLength(1);
      good.close();
    }
  });

  test('a 100 MB message is answered, and other clients carry on meanwhile', async () => {
    const p = pair();
    const big = 'x'.repeat(100 << 20);
    for (const s of [p.ovs, p.xdp]) {
      const bigPeer = await Peer.connect(s);
      const other = await Peer.connect(s);
      bigPeer.send(`{"id":1,"method":"echo","params":["${big}"]}`);
      other.send({ id: 2, method: 'list_dbs', params: [] });
      expect((await other.wait(1, 20000))[0]).toMatchObject({ id: 2 });
      const reply = (await bigPeer.wait(1, 60000))[0] as { id: number; result: string[] };
      expect(reply.id).toBe(1);
      expect(reply.result[0]?.length).toBe(big.length);
      bigPeer.close();
      other.close();
    }
  }, 120_000);

  test('a client that never reads stalls only itself', async () => {
    const p = pair();
    for (const s of [p.ovs, p.xdp]) {
      const stuck = await Peer.connect(s);
      stuck.sock.pause();
      // Monitor everything, then make the server queue updates it cannot deliver.
      stuck.send({ id: 1, method: 'monitor', params: ['Open_vSwitch', 'm', { Bridge: {}, Port: {}, Interface: {} }] });
      stuck.send({ id: 2, method: 'echo', params: ['x'.repeat(4 << 20)] });
      for (let i = 0; i < 20; i++) await vsctl(s, ['add-br', `stuck${i}`, '--', 'set', 'bridge', `stuck${i}`, `external_ids:pad=${'y'.repeat(2000)}`]);
      const other = await Peer.connect(s);
      other.send({ id: 3, method: 'echo', params: ['still here'] });
      expect(await other.wait(1)).toEqual([{ id: 3, result: ['still here'], error: null }]);
      for (let i = 0; i < 20; i++) await vsctl(s, ['del-br', `stuck${i}`]);
      stuck.close();
      other.close();
    }
  });

  test('lock contention: locked, stolen and locked notifications in order', async () => {
    const p = pair();
    const out: string[] = [];
    for (const s of [p.ovs, p.xdp]) {
      const a = await Peer.connect(s);
      const b = await Peer.connect(s);
      const c = await Peer.connect(s);
      a.send({ id: 1, method: 'lock', params: ['L'] });
      await a.wait(1);
      b.send({ id: 1, method: 'lock', params: ['L'] });
      await b.wait(1);
      c.send({ id: 1, method: 'steal', params: ['L'] });
      await c.wait(1);
      await a.wait(2);
      c.send({ id: 2, method: 'unlock', params: ['L'] });
      await c.wait(2);
      a.send({ id: 2, method: 'unlock', params: ['L'] });
      await a.wait(3);
      await b.wait(2);
      await new Promise((r) => setTimeout(r, 100));
      out.push([a, b, c].map(transcript).join('\n--\n'));
      for (const x of [a, b, c]) x.close();
    }
    expect(out[1]).toBe(out[0]);
    expect(out[0]).toContain('"method":"stolen"');
    expect(out[0]).toContain('"method":"locked"');
  });

  test('monitors of one shape, some with a condition, see each commit as ovsdb-server shows it', async () => {
    const p = pair();
    const out: string[] = [];
    const cols = (where?: Json[]): Json => ({ Bridge: [{ columns: ['name', 'external_ids'], ...(where ? { where } : {}) }] });
    for (const s of [p.ovs, p.xdp]) {
      const watcher = await Peer.connect(s);
      watcher.send({ id: 1, method: 'monitor_cond', params: ['Open_vSwitch', 'a', cols()] });
      watcher.send({ id: 2, method: 'monitor_cond', params: ['Open_vSwitch', 'b', cols()] });
      watcher.send({ id: 3, method: 'monitor_cond', params: ['Open_vSwitch', 'c', cols([['external_ids', 'includes', ['map', [['k', 'v']]]]])] });
      watcher.send({ id: 4, method: 'monitor_cond', params: ['Open_vSwitch', 'e', cols([['name', '==', 'shape1']])] });
      watcher.send({ id: 5, method: 'monitor', params: ['Open_vSwitch', 'd', { Bridge: { columns: ['name', 'external_ids'] } }] });
      await watcher.wait(5);
      const writer = await Peer.connect(s);
      writer.send({ id: 1, method: 'transact', params: ['Open_vSwitch',
        { op: 'insert', table: 'Bridge', row: { name: 'shape1' }, 'uuid-name': 'b' },
        { op: 'mutate', table: 'Open_vSwitch', where: [], mutations: [['bridges', 'insert', ['named-uuid', 'b']]] }] });
      await writer.wait(1);
      await watcher.wait(9);
      writer.send({ id: 2, method: 'transact', params: ['Open_vSwitch', { op: 'update', table: 'Bridge', where: [['name', '==', 'shape1']], row: { external_ids: ['map', [['k', 'v']]] } }] });
      await writer.wait(2);
      await watcher.wait(14);
      await new Promise((r) => setTimeout(r, 100));
      // Monitors are flushed in the server's own order; compare the set of messages.
      out.push(normalizeUuids(watcher.messages.map((m) => stringify(sortKeys(m))).sort().join('\n')));
      writer.send({ id: 3, method: 'transact', params: ['Open_vSwitch', { op: 'mutate', table: 'Open_vSwitch', where: [], mutations: [['bridges', 'delete', ['set', []]]] }] });
      watcher.close();
      writer.close();
    }
    expect(out[1]).toBe(out[0]);
    expect(out[0]).toContain('"params":["c",{"Bridge":{"<0>":{"insert"');
  });

  test('an update goes out before the reply to the transaction that caused it', async () => {
    const p = pair();
    const out: string[] = [];
    for (const s of [p.ovs, p.xdp]) {
      const peer = await Peer.connect(s);
      peer.send({ id: 1, method: 'monitor_cond', params: ['Open_vSwitch', 'm', { Open_vSwitch: [{ columns: ['next_cfg'] }] }] });
      await peer.wait(1);
      peer.send({ id: 2, method: 'transact', params: ['Open_vSwitch', { op: 'mutate', table: 'Open_vSwitch', where: [], mutations: [['next_cfg', '+=', 1]] }] });
      await peer.wait(3);
      out.push(transcript(peer));
      peer.close();
    }
    expect(out[1]).toBe(out[0]);
    expect(out[0].split('\n')[1]).toContain('"method":"update2"');
  });
});
