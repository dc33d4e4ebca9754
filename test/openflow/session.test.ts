// test/openflow/session.test.ts — what a controller sees of the endpoint, through a
// bare OpenFlow peer: framing under partial reads, handshake, echo and the inactivity
// probe, roles across several controllers, async masks, barriers, bundles, and active
// connections that come back after the controller goes away.
import net from 'node:net';
import { afterEach, describe, expect, test } from 'vitest';
import { encodeMessage, OFPP, OpenFlowEndpoint, silentLogger, type BundledMessage, type ConnectionInfo, type HandledMessage, type HandlerResult, type Message, type MessageOf, type OpenFlowHandler } from '../../src/openflow/index.js';
import { hex } from './fixture.js';
import { RawClient } from './raw-client.js';
import { TestSwitch } from './test-switch.js';

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function start<H extends OpenFlowHandler = TestSwitch>(opts: { probeIntervalMs?: number; sw?: H } = {}) {
  const sw = opts.sw ?? (new TestSwitch() as unknown as H);
  const ep = new OpenFlowEndpoint({ handler: sw, log: silentLogger, probeIntervalMs: opts.probeIntervalMs ?? 0 });
  cleanups.push(() => ep.close());
  const l = await ep.listen('ptcp:0:127.0.0.1');
  const client = async (hello = true) => {
    const c = await RawClient.connect(l.port!, hello);
    cleanups.push(() => c.close());
    return c;
  };
  return { sw, ep, port: l.port!, client };
}

function flowMod(xid: number, priority: number): MessageOf<'FLOW_MOD'> {
  return {
    type: 'FLOW_MOD', xid, cookie: 0n, cookie_mask: 0n, table_id: 0, command: 'ADD', idle_timeout: 0, hard_timeout: 0, priority,
    buffer_id: 0xffffffff, out_port: OFPP.ANY, out_group: 0xffffffff, flags: 0, match: [], instructions: [],
  };
}

function errorName(m: MessageOf<'ERROR'>): string {
  return `${m.err_type}/${m.code}`;
}

describe('stream and handshake', () => {
  test('requests split into single bytes still get their replies, in order', async () => {
    const { client } = await start();
    const c = await client();
    const bytes = new Uint8Array([...encodeMessage({ type: 'FEATURES_REQUEST', xid: 10 }), ...encodeMessage({ type: 'ECHO_REQUEST', xid: 11, data: Uint8Array.from([7, 7]) })]);
    for (const b of bytes) {
      c.sendBytes(Uint8Array.of(b));
      await new Promise((r) => setImmediate(r));
    }
    expect(await c.next('FEATURES_REPLY')).toMatchObject({ xid: 10, datapath_id: 0x0a0b0c0d0e0fn, n_tables: 254 });
    expect(await c.next('ECHO_REPLY')).toEqual({ type: 'ECHO_REPLY', xid: 11, data: Uint8Array.from([7, 7]) });
  });

  test('a HELLO with neither 1.0 nor 1.3 in its bitmap gets HELLO_FAILED/INCOMPATIBLE and the session ends', async () => {
    const { client } = await start();
    const c = await client(false);
    c.send({ type: 'HELLO', xid: 1, elements: [{ type: 'VERSIONBITMAP', bitmaps: [0x24] }] }); // 1.1 and 1.4
    const err = await c.next('ERROR');
    expect(errorName(err)).toBe('0/0');
    expect(new TextDecoder().decode(err.data)).toContain('no common versions');
    await c.waitClosed();
  });

  test('a malformed request gets its error and the session stays up', async () => {
    const { client } = await start();
    const c = await client();
    // FLOW_MOD matching tcp_dst without ip_proto=6: OFPBMC_BAD_PREREQ (4/9).
    c.sendBytes(hex('04 0e 00 40 00000005 0000000000000000 0000000000000000 00000000 00000064 ffffffffffffffff ffffffff00000000 0001000a 80001c02 0050 000000000000'));
    const err = await c.next('ERROR');
    expect({ xid: err.xid, e: errorName(err) }).toEqual({ xid: 5, e: '4/9' });
    expect(err.data.subarray(0, 8)).toEqual(hex('04 0e 00 40 00000005'));
    c.send({ type: 'FEATURES_REPLY', xid: 6, datapath_id: 1n, n_buffers: 0, n_tables: 1, auxiliary_id: 0, capabilities: 0, reserved: 0 });
    expect(errorName(await c.next('ERROR'))).toBe('1/1'); // OFPBRC_BAD_TYPE: switches send that
    c.send({ type: 'ECHO_REQUEST', xid: 7, data: new Uint8Array(0) });
    expect(await c.next('ECHO_REPLY')).toMatchObject({ xid: 7 });
  });

  test('a length below the header size ends the session', async () => {
    const { client } = await start();
    const c = await client();
    c.sendBytes(hex('04 02 00 04 00000001'));
    await c.waitClosed();
  });
});

describe('inactivity probe', () => {
  test('an idle peer is probed with ECHO_REQUEST and dropped when it never answers', async () => {
    const { client } = await start({ probeIntervalMs: 200 });
    const c = await client();
    const t0 = Date.now();
    await c.next('ECHO_REQUEST', () => true, 2000);
    await c.waitClosed(2000);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(300);
  });

  test('a peer that answers the probes stays connected', async () => {
    const { client } = await start({ probeIntervalMs: 200 });
    const c = await client();
    for (let i = 0; i < 3; i++) {
      const e = await c.next('ECHO_REQUEST', () => true, 2000);
      c.send({ type: 'ECHO_REPLY', xid: e.xid, data: e.data });
    }
    expect(c.closed).toBe(false);
  });
});

describe('config and async', () => {
  test('SET_CONFIG and SET_ASYNC are read back', async () => {
    const { client } = await start();
    const c = await client();
    c.send({ type: 'SET_CONFIG', xid: 2, flags: 1, miss_send_len: 0xffff });
    c.send({ type: 'GET_CONFIG_REQUEST', xid: 3 });
    expect(await c.next('GET_CONFIG_REPLY')).toEqual({ type: 'GET_CONFIG_REPLY', xid: 3, flags: 1, miss_send_len: 0xffff });
    c.send({ type: 'GET_ASYNC_REQUEST', xid: 4 });
    expect(await c.next('GET_ASYNC_REPLY')).toMatchObject({ packet_in_mask: [3, 0], port_status_mask: [7, 7], flow_removed_mask: [15, 0] });
    c.send({ type: 'SET_ASYNC', xid: 5, packet_in_mask: [1, 1], port_status_mask: [0, 0], flow_removed_mask: [0, 0] });
    c.send({ type: 'GET_ASYNC_REQUEST', xid: 6 });
    expect(await c.next('GET_ASYNC_REPLY')).toMatchObject({ xid: 6, packet_in_mask: [1, 1], port_status_mask: [0, 0] });
  });

  test('async messages follow each connection role and masks', async () => {
    const { ep, client } = await start();
    const master = await client();
    const slave = await client();
    master.send({ type: 'ROLE_REQUEST', xid: 2, role: 'MASTER', generation_id: 1n });
    slave.send({ type: 'ROLE_REQUEST', xid: 2, role: 'SLAVE', generation_id: 1n });
    await master.next('ROLE_REPLY');
    await slave.next('ROLE_REPLY');
    const pin: MessageOf<'PACKET_IN'> = { type: 'PACKET_IN', xid: 0, buffer_id: 0xffffffff, total_len: 2, reason: 0, table_id: 0, cookie: 0n, match: [{ field: 'IN_PORT', value: 1 }], data: Uint8Array.of(1, 2) };
    // They dialed us, so they are service connections: no async messages until a miss_send_len is set.
    ep.publish({ ...pin, cookie: 1n });
    for (const c of [master, slave]) {
      c.send({ type: 'SET_CONFIG', xid: 9, flags: 0, miss_send_len: 128 });
      c.send({ type: 'BARRIER_REQUEST', xid: 10 });
      await c.next('BARRIER_REPLY');
    }
    expect([...master.received, ...slave.received].filter((m) => m.type === 'PACKET_IN')).toEqual([]);
    ep.publish(pin);
    expect(await master.next('PACKET_IN')).toEqual(pin);
    slave.send({ type: 'SET_ASYNC', xid: 3, packet_in_mask: [0, 1], port_status_mask: [7, 7], flow_removed_mask: [0, 0] });
    slave.send({ type: 'BARRIER_REQUEST', xid: 4 });
    await slave.next('BARRIER_REPLY');
    ep.publish({ ...pin, cookie: 9n });
    expect(await slave.next('PACKET_IN')).toMatchObject({ cookie: 9n });
    expect(slave.received.filter((m) => m.type === 'PACKET_IN')).toHaveLength(0); // the first one never came
    ep.publish({ ...pin, reason: 1, cookie: 10n }); // ACTION: master wants it, the slave (mask bit 0 only) does not
    expect(await master.next('PACKET_IN', (m) => m.cookie === 10n)).toMatchObject({ reason: 1 });
  });
});

describe('multipart requests in pieces', () => {
  test('pieces flagged REQ_MORE reach the handler as one request', async () => {
    const { sw, client } = await start();
    const c = await client();
    const table = (table_id: number) => ({ table_id, name: `t${table_id}`, metadata_match: 0n, metadata_write: 0n, config: 0, max_entries: 10, properties: [] });
    c.send({ type: 'MULTIPART_REQUEST', xid: 5, body: { type: 'TABLE_FEATURES', flags: 1, tables: [table(0)] } });
    c.send({ type: 'MULTIPART_REQUEST', xid: 5, body: { type: 'TABLE_FEATURES', flags: 1, tables: [table(1), table(2)] } });
    c.send({ type: 'MULTIPART_REQUEST', xid: 5, body: { type: 'TABLE_FEATURES', flags: 0, tables: [] } });
    expect(await c.next('ERROR')).toMatchObject({ xid: 5, err_type: 13, code: 5 }); // the test switch refuses to set features
    expect(sw.seen).toHaveLength(1);
    expect(sw.seen[0]).toMatchObject({ xid: 5, body: { type: 'TABLE_FEATURES', flags: 0, tables: [{ table_id: 0 }, { table_id: 1 }, { table_id: 2 }] } });
    c.send({ type: 'MULTIPART_REQUEST', xid: 6, body: { type: 'TABLE_FEATURES', flags: 1, tables: [table(0)] } });
    c.send({ type: 'MULTIPART_REQUEST', xid: 6, body: { type: 'PORT_DESC', flags: 0 } });
    expect(await c.next('ERROR')).toMatchObject({ xid: 6, err_type: 1, code: 2 }); // OFPBRC_BAD_MULTIPART: types differ
  });
});

describe('a controller that stops reading', () => {
  test('gets its async messages dropped and counted, not buffered without bound', async () => {
    const sw = new TestSwitch();
    const ep = new OpenFlowEndpoint({ handler: sw, log: silentLogger, probeIntervalMs: 0, backoffMinMs: 50 });
    cleanups.push(() => ep.close());
    const server = net.createServer();
    cleanups.push(() => new Promise((r) => server.close(r)));
    const accepted = new Promise<RawClient>((res) => server.once('connection', (s) => res(RawClient.accept(s))));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const active = ep.connect(`tcp:127.0.0.1:${(server.address() as net.AddressInfo).port}`);
    cleanups.push(() => active.close());
    const c = await accepted;
    cleanups.push(() => c.close());
    await c.next('HELLO');
    c.send({ type: 'HELLO', xid: 1, elements: [] });
    for (let i = 0; i < 100 && !active.connected; i++) await new Promise((r) => setTimeout(r, 20));
    c.socket.pause();
    const pin: MessageOf<'PACKET_IN'> = { type: 'PACKET_IN', xid: 0, buffer_id: 0xffffffff, total_len: 9000, reason: 0, table_id: 0, cookie: 0n, match: [], data: new Uint8Array(9000) };
    for (let i = 0; i < 2000; i++) ep.publish(pin); // 18 MB
    const [info] = ep.connections;
    expect(info!.asyncDropped).toBeGreaterThan(0);
    expect(info!.asyncDropped).toBeLessThan(2000);
  });
});

describe('roles', () => {
  test('one master at most, generation_id never goes back, slaves cannot write', async () => {
    const { sw, client } = await start();
    const a = await client();
    const b = await client();
    a.send({ type: 'ROLE_REQUEST', xid: 2, role: 'MASTER', generation_id: 5n });
    expect(await a.next('ROLE_REPLY')).toMatchObject({ role: 'MASTER', generation_id: 5n });
    b.send({ type: 'ROLE_REQUEST', xid: 2, role: 'MASTER', generation_id: 6n });
    expect(await b.next('ROLE_REPLY')).toMatchObject({ role: 'MASTER', generation_id: 6n });
    a.send({ type: 'ROLE_REQUEST', xid: 3, role: 'NOCHANGE', generation_id: 0n });
    expect(await a.next('ROLE_REPLY')).toMatchObject({ role: 'SLAVE', generation_id: 6n });
    a.send(flowMod(4, 1));
    expect(await a.next('ERROR')).toMatchObject({ xid: 4, err_type: 1, code: 10 }); // OFPBRC_IS_SLAVE
    a.send({ type: 'ROLE_REQUEST', xid: 5, role: 'MASTER', generation_id: 4n });
    expect(await a.next('ERROR')).toMatchObject({ xid: 5, err_type: 11, code: 0 }); // OFPRRFC_STALE
    a.send({ type: 'ROLE_REQUEST', xid: 6, role: 'EQUAL', generation_id: 0n });
    expect(await a.next('ROLE_REPLY')).toMatchObject({ role: 'EQUAL' });
    a.send(flowMod(7, 1));
    a.send({ type: 'BARRIER_REQUEST', xid: 8 });
    await a.next('BARRIER_REPLY');
    expect(sw.flows).toHaveLength(1);
    expect(a.received.filter((m) => m.type === 'ERROR')).toEqual([]);
  });

  test('generation_id comparison wraps around 2^64', async () => {
    const { client } = await start();
    const a = await client();
    a.send({ type: 'ROLE_REQUEST', xid: 2, role: 'SLAVE', generation_id: 0xffffffffffffffffn });
    await a.next('ROLE_REPLY');
    a.send({ type: 'ROLE_REQUEST', xid: 3, role: 'MASTER', generation_id: 1n }); // 1 - (2^64-1) = 2 > 0
    expect(await a.next('ROLE_REPLY')).toMatchObject({ role: 'MASTER', generation_id: 1n });
  });
});

describe('barrier', () => {
  test('the reply comes after every earlier request took effect', async () => {
    /** Takes 30 ms per request, answering through a promise. */
    class SlowSwitch implements OpenFlowHandler {
      inner = new TestSwitch();
      done = 0;
      features = () => this.inner.features();
      commitBundle = (m: readonly BundledMessage[]) => this.inner.commitBundle(m);
      barrier = () => this.inner.barrier();
      handle(m: HandledMessage, c: ConnectionInfo): Promise<HandlerResult> {
        return new Promise((res) =>
          setTimeout(() => {
            this.done++;
            res(this.inner.handle(m, c));
          }, 30),
        );
      }
    }
    const sw = new SlowSwitch();
    const { client } = await start({ sw });
    const c = await client();
    for (let i = 0; i < 3; i++) c.send(flowMod(10 + i, i));
    c.send({ type: 'BARRIER_REQUEST', xid: 20 });
    let doneAtReply = -1;
    const reply = c.next('BARRIER_REPLY').then((r) => {
      doneAtReply = sw.done;
      return r;
    });
    expect(await reply).toEqual({ type: 'BARRIER_REPLY', xid: 20 });
    expect(doneAtReply).toBe(3);
    expect(sw.inner.flows.map((f) => f.priority)).toEqual([0, 1, 2]);
    expect(sw.inner.barriers).toBe(1);
  });
});

describe('bundles', () => {
  const ctrl = (xid: number, bundle_id: number, ctrl_type: MessageOf<'BUNDLE_CONTROL'>['ctrl_type'], flags = 1): Message => ({
    type: 'BUNDLE_CONTROL', xid, bundle_id, ctrl_type, flags, properties: new Uint8Array(0),
  });
  const add = (xid: number, bundle_id: number, inner: Message, flags = 1): Message => ({
    type: 'BUNDLE_ADD_MESSAGE', xid, bundle_id, flags, message: encodeMessage(inner), properties: new Uint8Array(0),
  });
  const expCode = (m: MessageOf<'ERROR'>) => (m.err_type === 0xffff ? m.code : -1);

  test('open, add, commit applies the bundle at once; discard drops it', async () => {
    const { sw, client } = await start();
    const c = await client();
    c.send(ctrl(2, 7, 'OPEN_REQUEST'));
    expect(await c.next('BUNDLE_CONTROL')).toMatchObject({ xid: 2, bundle_id: 7, ctrl_type: 'OPEN_REPLY' });
    c.send(add(3, 7, flowMod(3, 1)));
    c.send(add(4, 7, flowMod(4, 2)));
    c.send({ type: 'BARRIER_REQUEST', xid: 5 });
    await c.next('BARRIER_REPLY');
    expect(sw.flows).toHaveLength(0);
    c.send(ctrl(6, 7, 'COMMIT_REQUEST'));
    expect(await c.next('BUNDLE_CONTROL')).toMatchObject({ xid: 6, ctrl_type: 'COMMIT_REPLY' });
    expect(sw.commits).toHaveLength(1);
    expect(sw.flows.map((f) => f.priority)).toEqual([1, 2]);

    c.send(ctrl(7, 8, 'OPEN_REQUEST'));
    await c.next('BUNDLE_CONTROL');
    c.send(add(8, 8, flowMod(8, 3)));
    c.send(ctrl(9, 8, 'DISCARD_REQUEST'));
    expect(await c.next('BUNDLE_CONTROL')).toMatchObject({ ctrl_type: 'DISCARD_REPLY' });
    c.send(ctrl(10, 8, 'COMMIT_REQUEST'));
    expect(expCode(await c.next('ERROR'))).toBe(2302); // OFPBFC_BAD_ID
    expect(sw.flows).toHaveLength(2);
  });

  test('each misuse gets its bundle error, and drops the bundle where OVS does', async () => {
    const { client } = await start();
    const c = await client();
    const reopen = async (xid: number) => {
      c.send(ctrl(xid, 1, 'OPEN_REQUEST'));
      expect(await c.next('BUNDLE_CONTROL', (m) => m.xid === xid)).toMatchObject({ ctrl_type: 'OPEN_REPLY' });
    };
    await reopen(2);
    c.send(ctrl(3, 1, 'OPEN_REQUEST'));
    expect(expCode(await c.next('ERROR'))).toBe(2302); // BAD_ID, and the bundle is gone
    await reopen(4);
    c.send(add(5, 1, flowMod(6, 1)));
    expect(expCode(await c.next('ERROR'))).toBe(2309); // MSG_BAD_XID: inner xid differs (bundle kept)
    c.send(add(6, 1, { type: 'BARRIER_REQUEST', xid: 6 }));
    expect(expCode(await c.next('ERROR'))).toBe(2310); // MSG_UNSUP
    c.send(add(7, 1, { type: 'METER_MOD', xid: 7, command: 'ADD', flags: 1, meter_id: 1, bands: [] }));
    expect(expCode(await c.next('ERROR'))).toBe(2310); // MSG_UNSUP: OVS bundles no meter mods
    c.send(add(8, 1, flowMod(8, 1), 3));
    expect(expCode(await c.next('ERROR'))).toBe(2307); // BAD_FLAGS: opened with ATOMIC only; dropped
    await reopen(9);
    c.send(ctrl(10, 1, 'CLOSE_REQUEST'));
    expect(await c.next('BUNDLE_CONTROL')).toMatchObject({ ctrl_type: 'CLOSE_REPLY' });
    c.send(add(11, 1, flowMod(11, 1)));
    expect(expCode(await c.next('ERROR'))).toBe(2304); // BUNDLE_CLOSED
    c.send(ctrl(12, 1, 'OPEN_REPLY'));
    expect(expCode(await c.next('ERROR'))).toBe(2306); // BAD_TYPE: switches send replies
  });

  test('an idle bundle is dropped with OFPBFC_TIMEOUT carrying its opening request', async () => {
    const sw = new TestSwitch();
    const ep = new OpenFlowEndpoint({ handler: sw, log: silentLogger, probeIntervalMs: 0, bundleIdleTimeoutMs: 200 });
    cleanups.push(() => ep.close());
    const c = await RawClient.connect((await ep.listen('ptcp:0:127.0.0.1')).port!);
    cleanups.push(() => c.close());
    c.send(ctrl(2, 4, 'OPEN_REQUEST'));
    await c.next('BUNDLE_CONTROL');
    const t0 = Date.now();
    const err = await c.next('ERROR', () => true, 3000);
    expect({ xid: err.xid, code: expCode(err) }).toEqual({ xid: 2, code: 2314 }); // OFPBFC_TIMEOUT
    expect(Date.now() - t0).toBeGreaterThanOrEqual(150);
    c.send(ctrl(3, 4, 'COMMIT_REQUEST'));
    expect(expCode(await c.next('ERROR'))).toBe(2302); // BAD_ID: it is gone
  });

  test('a failing message fails the commit and nothing is applied', async () => {
    const { sw, client } = await start();
    const c = await client();
    c.send(add(2, 1, flowMod(2, 1)));
    c.send(add(3, 1, flowMod(3, 666)));
    c.send(ctrl(4, 1, 'COMMIT_REQUEST'));
    const first = await c.next('ERROR');
    expect(first).toMatchObject({ xid: 3, err_type: 5, code: 4 }); // the flow mod's own OFPFMFC_EPERM
    const second = await c.next('ERROR');
    expect({ xid: second.xid, code: expCode(second) }).toEqual({ xid: 4, code: 2313 }); // MSG_FAILED
    expect(sw.flows).toHaveLength(0);
  });
});

describe('active connections', () => {
  test('the switch connects to a controller, and reconnects after it goes away', async () => {
    const sw = new TestSwitch();
    const ep = new OpenFlowEndpoint({ handler: sw, log: silentLogger, probeIntervalMs: 0, backoffMinMs: 50, backoffMaxMs: 200 });
    cleanups.push(() => ep.close());
    const accepted: RawClient[] = [];
    const server = net.createServer((s) => accepted.push(RawClient.accept(s)));
    cleanups.push(() => new Promise((r) => server.close(r)));
    // Reserve a port, start the switch dialing it before anyone listens: it must retry.
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as net.AddressInfo).port;
    await new Promise((r) => server.close(r));
    const active = ep.connect(`tcp:127.0.0.1:${port}`);
    await new Promise((r) => setTimeout(r, 150));
    expect(active).toMatchObject({ connected: false, state: 'BACKOFF', role: undefined });
    expect(active.lastError).toContain('ECONNREFUSED');
    await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));

    const until = async (f: () => boolean) => {
      for (let i = 0; i < 100 && !f(); i++) await new Promise((r) => setTimeout(r, 20));
      expect(f()).toBe(true);
    };
    await until(() => accepted.length === 1);
    const c1 = accepted[0]!;
    expect(await c1.next('HELLO')).toMatchObject({ elements: [{ type: 'VERSIONBITMAP', bitmaps: [0x12] }] }); // 1.0 and 1.3
    c1.send({ type: 'HELLO', xid: 1, elements: [] });
    c1.send({ type: 'FEATURES_REQUEST', xid: 2 });
    expect(await c1.next('FEATURES_REPLY')).toMatchObject({ xid: 2 });
    await until(() => active.connected);
    expect(active).toMatchObject({ state: 'ACTIVE', role: 'EQUAL' });
    c1.send({ type: 'ROLE_REQUEST', xid: 3, role: 'MASTER', generation_id: 1n });
    await c1.next('ROLE_REPLY');
    expect(active.role).toBe('MASTER');

    c1.close();
    await until(() => accepted.length === 2);
    const c2 = accepted[1]!;
    await c2.next('HELLO');
    c2.send({ type: 'HELLO', xid: 1, elements: [] });
    await until(() => active.connected);
    active.close();
    await c2.waitClosed();
    for (const c of accepted) c.close();
  });
});
