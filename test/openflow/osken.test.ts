// test/openflow/osken.test.ts — a real third-party controller: the os-ken app in
// examples/openflow-osken-app.py, run by osken-manager, drives the endpoint (and a
// small in-test handler): handshake, role, a group, flows in two tables, barrier,
// packet-in answered by packet-out and a learned flow, then a second controller
// taking over as master.
import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, test } from 'vitest';
import { OpenFlowEndpoint, silentLogger, type MessageOf } from '../../src/openflow/index.js';
import { TestSwitch } from './test-switch.js';

const app = fileURLToPath(new URL('../../examples/openflow-osken-app.py', import.meta.url));
const procs: ChildProcess[] = [];
const cleanups: Array<() => unknown> = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c();
  for (const p of procs) if (p.exitCode === null) p.kill('SIGTERM');
});

async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise((r) => s.close(r));
  return port;
}

/** Starts osken-manager with the example app; `log` collects its `xsw-app:` lines. */
async function controller(env: Record<string, string>): Promise<{ port: number; log: string[] }> {
  const port = await freePort();
  const log: string[] = [];
  const p = spawn('osken-manager', ['--ofp-listen-host', '127.0.0.1', '--ofp-tcp-listen-port', String(port), app], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  procs.push(p);
  const collect = (b: Buffer) => {
    for (const line of b.toString().split('\n')) if (line.includes('xsw-app: ')) log.push(line.slice(line.indexOf('xsw-app: ') + 9));
  };
  p.stdout!.on('data', collect);
  p.stderr!.on('data', collect);
  // osken-manager takes a moment to import; wait until it accepts connections.
  for (let i = 0; i < 100; i++) {
    const up = await new Promise<boolean>((res) => {
      const s = net.connect(port, '127.0.0.1', () => {
        s.destroy();
        res(true);
      });
      s.on('error', () => res(false));
    });
    if (up) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  return { port, log };
}

async function until(what: string, f: () => boolean, ms = 8000): Promise<void> {
  const end = Date.now() + ms;
  while (!f()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function frame(dst: string, src: string): Uint8Array {
  const mac = (m: string) => m.split(':').map((x) => parseInt(x, 16));
  return Uint8Array.from([...mac(dst), ...mac(src), 0x08, 0x00, ...new Array<number>(46).fill(0)]);
}

function packetIn(inPort: number, data: Uint8Array): MessageOf<'PACKET_IN'> {
  return { type: 'PACKET_IN', xid: 0, buffer_id: 0xffffffff, total_len: data.length, reason: 0, table_id: 1, cookie: 0n, match: [{ field: 'IN_PORT', value: inPort }], data };
}

describe('os-ken controller (examples/openflow-osken-app.py)', () => {
  test('installs its pipeline, learns from packet-ins, and hands over to a second master', async () => {
    const [c1, c2] = await Promise.all([controller({ XSW_ROLE: 'master', XSW_GENERATION: '1' }), controller({ XSW_ROLE: 'master', XSW_GENERATION: '2' })]);
    const sw = new TestSwitch();
    const ep = new OpenFlowEndpoint({ handler: sw, log: silentLogger, probeIntervalMs: 0, backoffMinMs: 100 });
    cleanups.push(() => ep.close());

    const first = ep.connect(`tcp:127.0.0.1:${c1.port}`);
    await until('the first app to finish its setup', () => c1.log.includes('barrier reply'));
    expect(c1.log.slice(0, 2)).toEqual(['connected dpid=00000a0b0c0d0e0f n_tables=254', 'role master generation_id=1']);
    expect(sw.groups).toMatchObject([{ command: 'ADD', group_type: 'ALL', group_id: 1, buckets: [{ actions: [{ type: 'OUTPUT', port: 1 }] }, { actions: [{ type: 'OUTPUT', port: 2 }] }] }]);
    expect(sw.flows.map((f) => [f.table_id, f.priority, f.instructions[0]?.type])).toEqual([
      [0, 0, 'GOTO_TABLE'],
      [1, 0, 'APPLY_ACTIONS'],
    ]);
    expect(ep.connections.map((c) => c.role)).toEqual(['MASTER']);

    // An unknown destination is flooded through the group; the way back is learned.
    ep.publish(packetIn(3, frame('00:00:00:00:00:02', '00:00:00:00:00:01')));
    await until('the first packet-out', () => sw.packetOuts.length === 1);
    expect(sw.packetOuts[0]).toMatchObject({ in_port: 3, actions: [{ type: 'GROUP', group_id: 1 }] });
    ep.publish(packetIn(4, frame('00:00:00:00:00:01', '00:00:00:00:00:02')));
    await until('the second packet-out', () => sw.packetOuts.length === 2);
    expect(sw.packetOuts[1]).toMatchObject({ in_port: 4, actions: [{ type: 'OUTPUT', port: 3 }] });
    expect(sw.flows.at(-1)).toMatchObject({
      table_id: 1,
      priority: 1,
      match: [{ field: 'IN_PORT', value: 4 }, { field: 'ETH_DST', value: '00:00:00:00:00:01' }],
      instructions: [{ type: 'APPLY_ACTIONS', actions: [{ type: 'OUTPUT', port: 3 }] }],
    });

    // A second controller claims master with a newer generation: the first becomes slave
    // and, with the default async config, no longer gets packet-ins.
    const second = ep.connect(`tcp:127.0.0.1:${c2.port}`);
    await until('the second app to become master', () => c2.log.includes('role master generation_id=2'));
    await until('two connections', () => ep.connections.length === 2);
    expect(ep.connections.map((c) => c.role).sort()).toEqual(['MASTER', 'SLAVE']);
    ep.publish(packetIn(5, frame('00:00:00:00:00:09', '00:00:00:00:00:05')));
    await until('the second app to see the packet-in', () => c2.log.some((l) => l.startsWith('packet-in in_port=5')));
    expect(c1.log.some((l) => l.startsWith('packet-in in_port=5'))).toBe(false);
    first.close();
    second.close();
  }, 30_000);
});
