// test/openflow/ovs-ofctl.test.ts — the real `ovs-ofctl -O OpenFlow13` against the
// endpoint and a small in-test handler, over ptcp: and the bridge's punix: .mgmt socket.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest';
import { OpenFlowEndpoint, silentLogger, SUPPORTED_VERSIONS, type Listener, type MessageOf } from '../../src/openflow/index.js';
import { ofctl } from './ofctl.js';
import { TestSwitch } from './test-switch.js';

let dir: string;
let sw: TestSwitch;
let ep: OpenFlowEndpoint;
let tcp: Listener;
let target: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'xsw-of-'));
  sw = new TestSwitch();
  ep = new OpenFlowEndpoint({ handler: sw, name: 'br0', log: silentLogger });
  tcp = await ep.listen('ptcp:0:127.0.0.1');
  await ep.listen(`punix:${join(dir, 'br0.mgmt')}`);
  target = `tcp:127.0.0.1:${tcp.port}`;
});
afterAll(async () => {
  await ep?.close();
  rmSync(dir, { recursive: true, force: true });
});
beforeEach(() => {
  sw.flows = [];
  sw.seen = [];
  sw.commits = [];
});

describe('ovs-ofctl -O OpenFlow13', () => {
  test('show, through the bridge name and $OVS_RUNDIR/br0.mgmt', async () => {
    const r = await ofctl(['show', 'br0'], { OVS_RUNDIR: dir });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('OFPT_FEATURES_REPLY (OF1.3) (xid=0x2): dpid:00000a0b0c0d0e0f\nn_tables:254, n_buffers:0\n');
    expect(r.stdout).toContain(' LOCAL(br0): addr:0a:0b:0c:0d:0e:0f');
    // A service connection (the .mgmt socket) starts with miss_send_len 0, as in OVS.
    expect(r.stdout).toContain('OFPT_GET_CONFIG_REPLY (OF1.3) (xid=0x5): frags=normal miss_send_len=0');
  });

  test('set-frags is switch-wide: another connection reads it back', async () => {
    expect((await ofctl(['set-frags', target, 'drop'])).code).toBe(0);
    expect((await ofctl(['get-frags', 'br0'], { OVS_RUNDIR: dir })).stdout).toBe('drop\n');
    expect((await ofctl(['set-frags', target, 'normal'])).code).toBe(0);
    expect((await ofctl(['get-frags', target])).stdout).toBe('normal\n');
  });

  test('dump-flows of an empty table', async () => {
    const r = await ofctl(['dump-flows', target]);
    expect(r).toMatchObject({ code: 0, stdout: 'OFPST_FLOW reply (OF1.3) (xid=0x2):\n' });
  });

  test('add-flow reaches the handler and dump-flows shows it', async () => {
    const add = await ofctl(['add-flow', target, 'priority=10,ip,nw_dst=10.0.0.0/8,actions=output:2']);
    expect(add).toMatchObject({ code: 0, stderr: '' });
    expect(sw.seen.filter((m) => m.type === 'FLOW_MOD')).toHaveLength(1);
    expect(sw.flows[0]).toMatchObject({ command: 'ADD', priority: 10, match: [{ field: 'ETH_TYPE' }, { field: 'IPV4_DST', value: '10.0.0.0', mask: '255.0.0.0' }] });
    const dump = await ofctl(['dump-flows', target]);
    expect(dump.stdout).toBe(
      'OFPST_FLOW reply (OF1.3) (xid=0x2):\n cookie=0x0, duration=0s, table=0, n_packets=0, n_bytes=0, priority=10,ip,nw_dst=10.0.0.0/8 actions=output:2\n',
    );
  });

  test('an error from the handler is printed as OVS prints it', async () => {
    const r = await ofctl(['add-flow', target, 'priority=666,actions=drop']);
    expect(r.code).not.toBe(0);
    expect(r.stdout + r.stderr).toContain('OFPT_ERROR (OF1.3) (xid=0x6): OFPFMFC_EPERM\nOFPT_FLOW_MOD (OF1.3) (xid=0x6): ADD priority=666 actions=drop');
    expect(sw.flows).toHaveLength(0);
  });

  test('--bundle add-flows commits all flows at once', async () => {
    const file = join(dir, 'flows.txt');
    writeFileSync(file, 'priority=1,actions=drop\npriority=2,udp,actions=normal\npriority=3,tcp,tp_dst=22,actions=ct(commit,zone=1)\n');
    const r = await ofctl(['--bundle', 'add-flows', target, file]);
    expect(r).toMatchObject({ code: 0, stderr: '' });
    expect(sw.commits).toHaveLength(1);
    expect(sw.commits[0]!.map((m) => (m as MessageOf<'FLOW_MOD'>).priority)).toEqual([1, 2, 3]);
    expect(sw.seen).toEqual(sw.seen.filter((m) => m.type === 'MULTIPART_REQUEST')); // nothing bypassed the bundle
  });

  test('--bundle with a failing flow applies none and prints both errors', async () => {
    const file = join(dir, 'bad-flows.txt');
    writeFileSync(file, 'priority=1,actions=drop\npriority=666,actions=drop\n');
    const r = await ofctl(['--bundle', 'add-flows', target, file]);
    expect(r.code).not.toBe(0);
    const out = r.stdout + r.stderr;
    expect(out).toContain('Error OFPFMFC_EPERM for: OFPT_FLOW_MOD (OF1.3)');
    expect(out).toContain('Error OFPBFC_MSG_FAILED for: ONFT_BUNDLE_CONTROL (OF1.3)');
    expect(sw.flows).toHaveLength(0);
    expect(sw.commits).toHaveLength(0);
  });

  test('a dump bigger than one message arrives whole (REPLY_MORE)', async () => {
    for (let i = 0; i < 3000; i++) {
      sw.flows.push({
        type: 'FLOW_MOD', xid: 0, cookie: BigInt(i), cookie_mask: 0n, table_id: 0, command: 'ADD', idle_timeout: 0, hard_timeout: 0, priority: i,
        buffer_id: 0xffffffff, out_port: 0xffffffff, out_group: 0xffffffff, flags: 0,
        match: [{ field: 'IN_PORT', value: i + 1 }], instructions: [{ type: 'APPLY_ACTIONS', actions: [{ type: 'OUTPUT', port: 1, max_len: 0 }] }],
      });
    }
    const r = await ofctl(['dump-flows', target]);
    expect(r.code).toBe(0);
    const lines = r.stdout.split('\n').filter((l) => l.startsWith(' cookie='));
    expect(lines).toHaveLength(3000);
    expect(lines[2999]).toContain('priority=2999,in_port=3000 actions=output:1');
  });

  test('OpenFlow 1.0 is refused in the handshake when only 1.3 is allowed (Bridge protocols=OpenFlow13)', async () => {
    ep.setAllowedVersions(1 << 4);
    try {
      const r = await ofctl(['show', target], {}, 'OpenFlow10');
      expect(r.code).not.toBe(0);
      expect(r.stderr).toContain('version negotiation failed (we support version 0x01, peer supports version 0x04)');
    } finally {
      ep.setAllowedVersions(SUPPORTED_VERSIONS);
    }
  });

  test('an unsupported request gets the exact error', async () => {
    const r = await ofctl(['dump-groups', target]);
    expect(r.stdout + r.stderr).toContain('OFPBRC_BAD_STAT'); // OVS's name for OFPBRC_BAD_MULTIPART
  });
});
