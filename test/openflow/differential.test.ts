// test/openflow/differential.test.ts — the same malformed and edge-case requests sent to
// a real Open vSwitch bridge and to the endpoint (over each one's .mgmt socket): the
// OpenFlow error each answers must be the same, except where listed with the reason.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { ControllerConnection, encodeMessage, ofpErrorByWire, OpenFlowEndpoint, silentLogger, type Message } from '../../src/openflow/index.js';
import { hex } from './fixture.js';
import { RawClient } from './raw-client.js';
import { haveOvs, startOvs, type RealOvs } from './real-ovs.js';
import { TestSwitch } from './test-switch.js';

/** A FLOW_MOD header and fixed part; `fm(len, rest)` completes it. */
const fm = (rest: string) => {
  const body = hex(`0000000000001234 0000000000000000 0000000a00000064 ffffffffffffffff ffffffff00010000 ${rest}`);
  const len = 8 + body.length;
  return hex(`04 0e ${len.toString(16).padStart(4, '0')} 00000009 ${Buffer.from(body).toString('hex')}`);
};
const empty = '0001000400000000';

const cases: Array<[string, Uint8Array]> = [
  ['a body on FEATURES_REQUEST', hex('04 05 00 10 00000001 0000000000000000')],
  ['an unknown message type', hex('04 63 00 08 00 00 00 01')],
  ['an OpenFlow 1.0 message', hex('01 05 00 08 00 00 00 01')],
  ['a second HELLO', hex('04 00 00 10 00000001 0001 0008 00000010')],
  ['FEATURES_REPLY sent to the switch', hex('04 06 00 20 00000001 0000000000000001 00000000 01000000 00000000 00000000')],
  ['an unknown multipart type', hex('04 12 00 10 00000001 0063 0000 00000000')],
  ['a body on a DESC request', hex('04 12 00 18 00000001 0000 0000 00000000 0000000000000000')],
  ['an unknown experimenter', hex('04 04 00 10 00000001 12345678 00000001')],
  ['an unknown ONF message', hex('04 04 00 10 00000001 4f4e4600 00000001')],
  ['COMMIT of an unknown bundle', hex('04 04 00 18 00000001 4f4e4600 000008fc 00000063 00040001')],
  ['CLOSE of an unknown bundle', hex('04 04 00 18 00000001 4f4e4600 000008fc 00000063 00020001')],
  ['an unknown role', hex('04 18 00 18 00000001 00000009 00000000 0000000000000000')],
  ['a short SET_ASYNC', hex('04 1c 00 10 00000001 0000000000000000')],
  ['flow mod: unknown command', fm(empty).map((b, i) => (i === 25 ? 9 : b))], // command
  ['flow mod: unknown flags', fm(empty).map((b, i) => (i === 44 ? 0x80 : b))], // flags, high byte
  ['flow mod: length not a multiple of 8', fm(`${empty} 0000`)],
  ['match: OFPMT_STANDARD, short', fm('0000 0004 00000000')],
  ['match: unknown OXM field', fm('0001 0008 80007f00')],
  ['match: OXM length wrong for the field', fm('0001 000a 80000a04 08000000 000000 00')],
  ['match: OXM past the match', fm('0001 0006 80000a02')],
  ['match: duplicate field', fm('0001 0010 80000a02 0800 80000a02 0800')],
  ['match: tcp_dst without ip_proto', fm('0001 000a 80001c02 0050 000000000000')],
  ['match: value outside the mask', fm('0001 0016 80000a02 0800 80001908 0a000001 ff000000 0000')],
  ['match: partial mask on eth_type', fm('0001 000c 80000b04 0800ff00 00000000')],
  ['match: full mask on eth_type', fm('0001 000c 80000b04 0800ffff 00000000')],
  ['match: vlan_vid too wide', fm('0001 000a 80000c02 ffff 000000000000')],
  ['action: unknown type', fm(`${empty} 00040010 00000000 00630008 00000000`)],
  ['action: length not a multiple of 8', fm(`${empty} 00040018 00000000 0000000c 00000002 00000000 00000000`)],
  ['action: OUTPUT of length 24', fm(`${empty} 00040020 00000000 00000018 00000002 0000 000000000000 0000000000000000`)],
  ['action: unknown Nicira action', fm(`${empty} 00040018 00000000 ffff0010 00002320 00ff0000 00000000`)],
  ['action: set_field of IN_PORT', fm(`${empty} 00040018 00000000 00190010 80000004 00000001 00000000`)],
  ['instruction: unknown type', fm(`${empty} 00630008 00000000`)],
  ['group mod: unknown group type', hex('04 0f 00 10 00000001 0000 09 00 00000001')],
  ['meter mod: unknown command', hex('04 1d 00 10 00000001 0009 0001 00000001')],
  ['meter mod: unknown band', hex('04 1d 00 20 00000001 0000 0001 00000001 0009 0010 000003e8 00000000 00000000')],
  ['packet out: actions_len past the end', hex('04 0d 00 18 00000001 ffffffff fffffffd 0040 000000000000')],
];

/** Where we answer differently from OVS 3.1 on purpose. */
const divergences: Record<string, string> = {};

let ovs: RealOvs | undefined;
let ep: OpenFlowEndpoint;
let dir: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'xsw-of-'));
  ep = new OpenFlowEndpoint({ handler: new TestSwitch(), log: silentLogger, probeIntervalMs: 0 });
  await ep.listen(`punix:${join(dir, 'br0.mgmt')}`);
  if (haveOvs()) ovs = await startOvs(['br0']);
}, 30_000);
afterAll(async () => {
  await ep?.close();
  await ovs?.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** Sends `bytes` then a barrier; the errors it got, by name, or 'closed'. */
async function answer(mgmt: string, bytes: Uint8Array): Promise<string> {
  const c = await RawClient.connect(mgmt);
  try {
    c.sendBytes(bytes);
    c.send({ type: 'BARRIER_REQUEST', xid: 0x7777 });
    await c.next('BARRIER_REPLY', () => true, 3000);
  } catch {
    if (!c.closed) throw new Error('no barrier reply');
  } finally {
    c.close();
  }
  const errors = c.received.filter((m): m is Extract<Message, { type: 'ERROR' }> => m.type === 'ERROR');
  // The name, and what of the request came back with it (OVS: all of it).
  const names = errors.map((e) => {
    const name = ofpErrorByWire(e.err_type, e.code, e.err_type === 0xffff ? new DataView(e.data.buffer, e.data.byteOffset).getUint32(0) : 0) ?? `${e.err_type}/${e.code}`;
    return `${name} xid=${e.xid} data=${Buffer.from(e.data).toString('hex')}`;
  });
  return names.join(',') || (c.closed ? 'closed' : 'no error');
}

/** Sends each request then a barrier; every reply before the barrier's. */
async function replies(mgmt: string, reqs: Message[]): Promise<Message[]> {
  const c = await RawClient.connect(mgmt);
  try {
    for (const r of reqs) c.send(r);
    c.send({ type: 'BARRIER_REQUEST', xid: 0x7777 });
    await c.next('BARRIER_REPLY', () => true, 3000);
    return c.received.filter((m) => m.type !== 'HELLO');
  } finally {
    c.close();
  }
}

const sessions: Array<[string, Message[]]> = [
  ['GET_CONFIG on a service connection', [{ type: 'GET_CONFIG_REQUEST', xid: 2 }]],
  ['GET_ASYNC defaults', [{ type: 'GET_ASYNC_REQUEST', xid: 2 }]],
  ['SET_ASYNC read back', [{ type: 'SET_ASYNC', xid: 2, packet_in_mask: [1, 2], port_status_mask: [3, 4], flow_removed_mask: [5, 6] }, { type: 'GET_ASYNC_REQUEST', xid: 3 }]],
  ['SET_ASYNC turns miss_send_len on', [{ type: 'SET_ASYNC', xid: 2, packet_in_mask: [1, 2], port_status_mask: [3, 4], flow_removed_mask: [5, 6] }, { type: 'GET_CONFIG_REQUEST', xid: 3 }]],
  ['ROLE_REQUEST NOCHANGE before any role', [{ type: 'ROLE_REQUEST', xid: 2, role: 'NOCHANGE', generation_id: 0n }]],
  ['ROLE_REQUEST EQUAL', [{ type: 'ROLE_REQUEST', xid: 2, role: 'EQUAL', generation_id: 7n }]],
  ['ECHO_REQUEST with data', [{ type: 'ECHO_REQUEST', xid: 2, data: Uint8Array.of(1, 2, 3) }]],
  ['BUNDLE open, close, discard', [
    { type: 'BUNDLE_CONTROL', xid: 2, bundle_id: 5, ctrl_type: 'OPEN_REQUEST', flags: 1, properties: new Uint8Array(0) },
    { type: 'BUNDLE_CONTROL', xid: 3, bundle_id: 5, ctrl_type: 'CLOSE_REQUEST', flags: 1, properties: new Uint8Array(0) },
    { type: 'BUNDLE_CONTROL', xid: 4, bundle_id: 5, ctrl_type: 'DISCARD_REQUEST', flags: 1, properties: new Uint8Array(0) },
  ]],
  ...bundleSessions(),
];

function bundleSessions(): Array<[string, Message[]]> {
  const ctrl = (xid: number, id: number, ctrl_type: Extract<Message, { type: 'BUNDLE_CONTROL' }>['ctrl_type'], flags = 3): Message => ({
    type: 'BUNDLE_CONTROL', xid, bundle_id: id, ctrl_type, flags, properties: new Uint8Array(0),
  });
  const flow = (xid: number, table_id: number): Message => ({
    type: 'FLOW_MOD', xid, cookie: 0n, cookie_mask: 0n, table_id, command: 'ADD', idle_timeout: 0, hard_timeout: 0, priority: 5,
    buffer_id: 0xffffffff, out_port: 0xffffffff, out_group: 0xffffffff, flags: 0, match: [], instructions: [],
  });
  const add = (xid: number, id: number, inner: Message, flags = 3): Message => ({
    type: 'BUNDLE_ADD_MESSAGE', xid, bundle_id: id, flags, message: encodeMessage(inner), properties: new Uint8Array(0),
  });
  return [
    ['bundle opened twice', [ctrl(2, 1, 'OPEN_REQUEST'), ctrl(3, 1, 'OPEN_REQUEST')]],
    ['bundle add with another xid inside', [ctrl(2, 1, 'OPEN_REQUEST'), add(3, 1, flow(4, 0))]],
    ['bundle add of a BARRIER', [ctrl(2, 1, 'OPEN_REQUEST'), add(3, 1, { type: 'BARRIER_REQUEST', xid: 3 })]],
    ['bundle add after close', [ctrl(2, 1, 'OPEN_REQUEST'), ctrl(3, 1, 'CLOSE_REQUEST'), add(4, 1, flow(4, 0))]],
    ['bundle add with other flags', [ctrl(2, 1, 'OPEN_REQUEST'), add(3, 1, flow(3, 0), 1)]],
    ['bundle commit with other flags', [ctrl(2, 1, 'OPEN_REQUEST'), ctrl(3, 1, 'COMMIT_REQUEST', 1)]],
    ['bundle add opens implicitly, commit of an empty flow set', [add(2, 7, flow(2, 0)), ctrl(3, 7, 'COMMIT_REQUEST')]],
    ['bundle add of a METER_MOD', [add(2, 1, { type: 'METER_MOD', xid: 2, command: 'ADD', flags: 1, meter_id: 1, bands: [] })]],
    ['bundle add of a malformed flow mod', [{ ...add(2, 1, flow(2, 0)), message: hex('04 0e 00 40 00000002 0000000000000000 0000000000000000 00000000 00000064 ffffffffffffffff ffffffff00000000 0001000a 80001c02 0050 000000000000') } as Message]],
    ['bundle closed twice', [ctrl(2, 1, 'OPEN_REQUEST'), ctrl(3, 1, 'CLOSE_REQUEST'), ctrl(4, 1, 'CLOSE_REQUEST'), ctrl(5, 1, 'DISCARD_REQUEST')]],
  ];
}

describe.skipIf(!haveOvs())('session replies match a real OVS bridge', () => {
  test.each(sessions)('%s', async (_name, reqs) => {
    expect(await replies(join(dir, 'br0.mgmt'), reqs)).toEqual(await replies(ovs!.mgmt('br0'), reqs));
  });

  test('a master demoted by another controller gets ROLE_STATUS', async () => {
    const run = async (mgmt: string) => {
      const a = await RawClient.connect(mgmt);
      const b = await RawClient.connect(mgmt);
      try {
        a.send({ type: 'ROLE_REQUEST', xid: 2, role: 'MASTER', generation_id: 10n });
        await a.next('ROLE_REPLY');
        b.send({ type: 'ROLE_REQUEST', xid: 2, role: 'MASTER', generation_id: 11n });
        await b.next('ROLE_REPLY');
        const status = await a.next('ROLE_STATUS');
        a.send({ type: 'ROLE_REQUEST', xid: 3, role: 'MASTER', generation_id: 9n });
        const stale = await a.next('ERROR');
        // Leave no master behind for the other cases.
        for (const c of [a, b]) c.send({ type: 'ROLE_REQUEST', xid: 4, role: 'EQUAL', generation_id: 0n });
        await a.next('ROLE_REPLY');
        await b.next('ROLE_REPLY');
        return { status, stale: [stale.err_type, stale.code] };
      } finally {
        a.close();
        b.close();
      }
    };
    expect(await run(join(dir, 'br0.mgmt'))).toEqual(await run(ovs!.mgmt('br0')));
  });
});

describe.skipIf(!haveOvs())('an unfinished multipart request', () => {
  test('is dropped after a second with the same error as OVS, carrying its last piece', async () => {
    const run = async (mgmt: string) => {
      const c = await RawClient.connect(mgmt);
      try {
        const t = Date.now();
        c.send({ type: 'MULTIPART_REQUEST', xid: 9, body: { type: 'PORT_DESC', flags: 1 } });
        c.send({ type: 'MULTIPART_REQUEST', xid: 9, body: { type: 'PORT_DESC', flags: 1 } });
        const err = await c.next('ERROR', () => true, 4000);
        return { err, waited: Date.now() - t >= 900 };
      } finally {
        c.close();
      }
    };
    const [ours, theirs] = await Promise.all([run(join(dir, 'br0.mgmt')), run(ovs!.mgmt('br0'))]);
    expect(ours).toEqual(theirs);
    expect(ofpErrorByWire(ours.err.err_type, ours.err.code, 0x4f4e4600)).toBe('OFPBRC_MULTIPART_REQUEST_TIMEOUT');
  });
});

describe.skipIf(!haveOvs())('the controller side drives a real OVS bridge', () => {
  test('transact() pumps flow mods, request() gathers a multipart dump', async () => {
    const c = await ControllerConnection.connect(`unix:${ovs!.mgmt('br0')}`);
    try {
      const mods = Array.from({ length: 3000 }, (_, i): Message => ({
        type: 'FLOW_MOD', xid: 0, cookie: BigInt(i), cookie_mask: 0n, table_id: 0, command: 'ADD', idle_timeout: 0, hard_timeout: 0, priority: 100,
        buffer_id: 0xffffffff, out_port: 0xffffffff, out_group: 0xffffffff, flags: 0,
        match: [{ field: 'ETH_TYPE', value: 0x800 }, { field: 'IPV4_DST', value: `10.0.${i >> 8}.${i & 0xff}` }],
        instructions: [{ type: 'APPLY_ACTIONS', actions: [{ type: 'OUTPUT', port: 1, max_len: 0 }] }],
      }));
      mods.push({ ...(mods[0] as Extract<Message, { type: 'FLOW_MOD' }>), table_id: 254, command: 'ADD', instructions: [{ type: 'GOTO_TABLE', table_id: 1 }] });
      const errors = await c.transact(mods);
      expect(errors.map((e) => ofpErrorByWire(e.err_type, e.code))).toEqual(['OFPBIC_BAD_TABLE_ID']); // goto_table backwards
      const parts = await c.request({ type: 'MULTIPART_REQUEST', xid: 0, body: { type: 'FLOW', flags: 0, table_id: 0, out_port: 0xffffffff, out_group: 0xffffffff, cookie: 0n, cookie_mask: 0n, match: [] } });
      // Besides ours: the bridge's own priority=0 NORMAL flow and one a bundle case left.
      const flows = parts.flatMap((p) => (p.type === 'MULTIPART_REPLY' && p.body.type === 'FLOW' ? p.body.flows : [])).filter((f) => f.priority === 100);
      expect(flows).toHaveLength(3000);
      expect(flows.find((f) => f.cookie === 7n)).toMatchObject({ priority: 100, match: [{ field: 'ETH_TYPE' }, { field: 'IPV4_DST', value: '10.0.0.7' }] });
      await c.transact([{ ...(mods[0] as Extract<Message, { type: 'FLOW_MOD' }>), command: 'DELETE', cookie_mask: 0n, table_id: 0xff, match: [], instructions: [] }]);
    } finally {
      c.close();
    }
  });
});

describe.skipIf(!haveOvs())('errors match a real OVS bridge', () => {
  test.each(cases)('%s', async (name, bytes) => {
    const theirs = await answer(ovs!.mgmt('br0'), bytes);
    const ours = await answer(join(dir, 'br0.mgmt'), bytes);
    if (divergences[name]) expect(ours, divergences[name]).not.toBe(theirs);
    else expect(ours).toBe(theirs);
  });
});
