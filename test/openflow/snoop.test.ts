// test/openflow/snoop.test.ts — `ovs-ofctl snoop` on the bridge's .snoop socket sees
// the traffic between the switch and the controller it dialed, both directions.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, test } from 'vitest';
import { listenForSwitches, OpenFlowEndpoint, silentLogger, type ControllerConnection } from '../../src/openflow/index.js';
import { TestSwitch } from './test-switch.js';

const cleanups: Array<() => unknown> = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c();
});

async function until(what: string, f: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!f()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

test('ovs-ofctl snoop prints controller traffic', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'xsw-of-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  const ep = new OpenFlowEndpoint({ handler: new TestSwitch(), log: silentLogger, probeIntervalMs: 0, backoffMinMs: 50 });
  cleanups.push(() => ep.close());
  const snoopPath = join(dir, 'br0.snoop');
  await ep.listen(`punix:${snoopPath}`, { snoop: true });

  let out = '';
  const snoop = spawn('ovs-ofctl', ['-O', 'OpenFlow13', 'snoop', `unix:${snoopPath}`], { env: { ...process.env, OVS_RUNDIR: dir }, stdio: ['ignore', 'pipe', 'pipe'] });
  cleanups.push(() => snoop.exitCode === null && snoop.kill('SIGTERM'));
  snoop.stdout.on('data', (b: Buffer) => (out += b.toString()));
  snoop.stderr.on('data', (b: Buffer) => (out += b.toString()));
  await until('the snoop session', () => ep.snoopers.length === 1);
  expect(ep.connections).toHaveLength(0); // a snooper is not a controller

  const switches: ControllerConnection[] = [];
  const l = await listenForSwitches('ptcp:0:127.0.0.1', (c) => switches.push(c));
  cleanups.push(() => l.close());
  const active = ep.connect(`tcp:127.0.0.1:${l.port}`);
  cleanups.push(() => active.close());
  await until('the switch to dial the controller', () => switches.length === 1);
  await switches[0]!.request({ type: 'FEATURES_REQUEST', xid: 0 });
  await until('snoop to print the exchange', () => out.includes('OFPT_FEATURES_REPLY'));
  expect(out).toContain('OFPT_FEATURES_REQUEST (OF1.3)');
  expect(out).toContain('OFPT_FEATURES_REPLY (OF1.3)');
  expect(out).toContain('dpid:00000a0b0c0d0e0f');
  switches[0]!.close();
});
