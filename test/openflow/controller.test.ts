// test/openflow/controller.test.ts — the library's controller side against the
// endpoint: requests matched by xid, multipart replies gathered whole, errors as
// OfpRemoteError, transact() of many flow mods, and switches dialing a listener.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { ControllerConnection, listenForSwitches, OfpRemoteError, OpenFlowEndpoint, silentLogger, type MessageOf } from '../../src/openflow/index.js';
import { TestSwitch } from './test-switch.js';

let dir: string;
let sw: TestSwitch;
let ep: OpenFlowEndpoint;
let mgmt: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'xsw-of-'));
  sw = new TestSwitch();
  ep = new OpenFlowEndpoint({ handler: sw, log: silentLogger, probeIntervalMs: 0, backoffMinMs: 50 });
  mgmt = join(dir, 'br0.mgmt');
  await ep.listen(`punix:${mgmt}`);
});
afterAll(async () => {
  await ep?.close();
  rmSync(dir, { recursive: true, force: true });
});

const flowMod = (priority: number): MessageOf<'FLOW_MOD'> => ({
  type: 'FLOW_MOD', xid: 0, cookie: 0n, cookie_mask: 0n, table_id: 0, command: 'ADD', idle_timeout: 0, hard_timeout: 0, priority,
  buffer_id: 0xffffffff, out_port: 0xffffffff, out_group: 0xffffffff, flags: 0,
  match: [{ field: 'IN_PORT', value: priority + 1 }], instructions: [{ type: 'APPLY_ACTIONS', actions: [{ type: 'OUTPUT', port: 2, max_len: 0 }] }],
});

describe('ControllerConnection', () => {
  test('requests, transact and multipart replies over the unix management socket', async () => {
    sw.flows = [];
    const c = await ControllerConnection.connect(`unix:${mgmt}`);
    try {
      const [features] = await c.request({ type: 'FEATURES_REQUEST', xid: 0 });
      expect(features).toMatchObject({ type: 'FEATURES_REPLY', datapath_id: 0x0a0b0c0d0e0fn });

      const errors = await c.transact(Array.from({ length: 5000 }, (_, i) => flowMod(i === 100 ? 666 : 10_000 + i)));
      expect(errors).toHaveLength(1);
      expect(errors[0]).toMatchObject({ err_type: 5, code: 4 });
      expect(sw.flows).toHaveLength(4999);

      const parts = await c.request({ type: 'MULTIPART_REQUEST', xid: 0, body: { type: 'FLOW', flags: 0, table_id: 0xff, out_port: 0xffffffff, out_group: 0xffffffff, cookie: 0n, cookie_mask: 0n, match: [] } });
      expect(parts.length).toBeGreaterThan(1);
      const flows = parts.flatMap((p) => (p.type === 'MULTIPART_REPLY' && p.body.type === 'FLOW' ? p.body.flows : []));
      expect(flows).toHaveLength(4999);

      const err = await c.request({ type: 'MULTIPART_REQUEST', xid: 0, body: { type: 'GROUP_DESC', flags: 0 } }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(OfpRemoteError);
      expect((err as OfpRemoteError).error).toBe('OFPBRC_BAD_MULTIPART');
    } finally {
      c.close();
    }
  });

  test('a switch dials a controller on a unix socket', async () => {
    const got: ControllerConnection[] = [];
    const path = join(dir, 'ctl.sock');
    const l = await listenForSwitches(`punix:${path}`, (c) => got.push(c));
    const active = ep.connect(`unix:${path}`);
    try {
      for (let i = 0; i < 100 && !got.length; i++) await new Promise((r) => setTimeout(r, 20));
      const [reply] = await got[0]!.request({ type: 'FEATURES_REQUEST', xid: 0 });
      expect(reply).toMatchObject({ type: 'FEATURES_REPLY', datapath_id: 0x0a0b0c0d0e0fn });
      expect(active).toMatchObject({ connected: true, state: 'ACTIVE' });
    } finally {
      active.close();
      for (const c of got) c.close();
      await l.close();
    }
  });

  test('a switch dials a controller listening with listenForSwitches', async () => {
    const got: ControllerConnection[] = [];
    const l = await listenForSwitches('ptcp:0:127.0.0.1', (c) => got.push(c));
    const active = ep.connect(`tcp:127.0.0.1:${l.port}`);
    try {
      for (let i = 0; i < 100 && !got.length; i++) await new Promise((r) => setTimeout(r, 20));
      expect(got).toHaveLength(1);
      const [reply] = await got[0]!.request({ type: 'ROLE_REQUEST', xid: 0, role: 'MASTER', generation_id: 1n });
      expect(reply).toMatchObject({ type: 'ROLE_REPLY', role: 'MASTER' });
      const seen = new Promise((r) => got[0]!.once('message', r));
      ep.publish({ type: 'PORT_STATUS', xid: 0, reason: 2, desc: { port_no: 1, hw_addr: '00:00:00:00:00:01', name: 'p1', config: 0, state: 0, curr: 0, advertised: 0, supported: 0, peer: 0, curr_speed: 0, max_speed: 0 } });
      expect(await seen).toMatchObject({ type: 'PORT_STATUS', reason: 2, desc: { name: 'p1' } });
    } finally {
      active.close();
      for (const c of got) c.close();
      await l.close();
    }
  });
});
