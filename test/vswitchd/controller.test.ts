// test/vswitchd/controller.test.ts — a controller set with `ovs-vsctl set-controller`: the
// os-ken app in examples/os-ken-port-watch.py connects, sees the bridge's ports, and gets
// PORT_STATUS when a veth goes down; the Controller row shows the connection.
import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import { fileURLToPath } from 'node:url';
import { afterEach, expect, test } from 'vitest';
import { listenForSwitches, type ControllerConnection } from '../../src/openflow/index.js';
import { run, stopChild, waitFor } from '../harness/exec.js';
import { Topology } from '../harness/topology.js';
import { XdpSwitch } from './switch.js';

const app = fileURLToPath(new URL('../../examples/os-ken-port-watch.py', import.meta.url));
let sw: XdpSwitch | undefined;
let ctl: ChildProcess | undefined;
let snoop: ChildProcess | undefined;
afterEach(async () => {
  if (snoop) await stopChild(snoop, 'SIGTERM', 3000);
  if (ctl) await stopChild(ctl, 'SIGTERM', 3000);
  await sw?.close();
});

async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise((r) => s.close(r));
  return port;
}

test('set-controller: os-ken connects, sees the ports, gets PORT_STATUS when a veth goes down', async () => {
  const topo = await Topology.create();
  sw = await XdpSwitch.start(topo);
  const br = topo.name('br');
  const [a, peer] = await topo.vethPair('a0', 'a1');
  const port = await freePort();
  const lines: string[] = [];
  ctl = spawn('osken-manager', ['--ofp-listen-host', '127.0.0.1', '--ofp-tcp-listen-port', String(port), app], { stdio: ['ignore', 'pipe', 'pipe'] });
  const collect = (b: Buffer) => {
    for (const l of b.toString().split('\n')) if (l.includes('xsw-watch: ')) lines.push(l.slice(l.indexOf('xsw-watch: ') + 11));
  };
  ctl.stdout!.on('data', collect);
  ctl.stderr!.on('data', collect);
  await waitFor(
    () =>
      new Promise<boolean>((r) => {
        const s = net.connect(port, '127.0.0.1', () => (s.destroy(), r(true)));
        s.once('error', () => r(false));
      }),
    'osken-manager to listen',
    20_000,
    200,
  );

  expect((await sw.vsctl('add-br', br, '--', 'set', 'Interface', br, 'ofport_request=1', '--', 'add-port', br, a, '--', 'set', 'Interface', a, 'ofport_request=3')).code).toBe(0);
  expect((await sw.vsctl('set-controller', br, `tcp:127.0.0.1:${port}`)).code).toBe(0);
  const dpid = await sw.get('Bridge', br, 'datapath_id');
  await waitFor(() => lines.includes(`connected dpid=${dpid}`), 'the controller to connect', 10_000);
  await waitFor(() => lines.includes(`port 3 ${a} state=4`), 'the port list (port 3 live)', 5000);
  await waitFor(async () => (await sw!.get('Controller', br, 'is_connected')) === 'true', 'is_connected', 3000);
  expect(await sw.get('Controller', br, 'role')).toBe('other');
  expect(await sw.get('Controller', br, 'status')).toBe('{state=ACTIVE}');

  // `ovs-ofctl snoop` on <rundir>/<bridge>.snoop sees what goes to the controller.
  let snooped = '';
  snoop = spawn('ovs-ofctl', ['-O', 'OpenFlow13', 'snoop', br], { env: { ...process.env, OVS_RUNDIR: sw.rundir }, stdio: ['ignore', 'pipe', 'pipe'] });
  snoop.stderr!.on('data', (b: Buffer) => (snooped += b.toString())); // where ovs-ofctl snoop prints
  await waitFor(() => sw!.vswitchd.bridges.get(br)!.endpoint.snoopers.length === 1, 'the snoop session', 5000);

  await run(['ip', 'link', 'set', peer, 'down']);
  const t0 = Date.now();
  await waitFor(() => lines.includes(`port-status MODIFY 3 ${a} link=down`), 'PORT_STATUS link down', 1000, 20);
  expect(Date.now() - t0).toBeLessThan(1000);
  await waitFor(() => new RegExp(`OFPT_PORT_STATUS \\(OF1\\.3\\) \\(xid=0x0\\): MOD: 3\\(${a}\\)[^]*state: +LINK_DOWN`).test(snooped), 'the snooped PORT_STATUS', 2000);
  await run(['ip', 'link', 'set', peer, 'up']);
  await waitFor(() => lines.includes(`port-status MODIFY 3 ${a} link=up`), 'PORT_STATUS link up', 1000, 20);

  // A port added later is announced; removing the controller closes the session.
  const [b] = await topo.vethPair('b0', 'b1');
  expect((await sw.vsctl('add-port', br, b)).code).toBe(0);
  await waitFor(() => lines.some((l) => l.startsWith(`port-status ADD 1 ${b}`)), 'PORT_STATUS ADD', 2000);
  expect((await sw.vsctl('del-controller', br)).code).toBe(0);
  expect(await sw.get('Bridge', br, 'controller')).toBe('[]');
  expect(sw.vswitchd.bridges.get(br)?.endpoint.connections.filter((c) => c.type === 'primary')).toHaveLength(0);
}, 60_000);

test('unix: and punix: controller targets', async () => {
  const topo = await Topology.create();
  sw = await XdpSwitch.start(topo);
  const br = topo.name('br');
  expect((await sw.vsctl('add-br', br)).code).toBe(0);
  // unix: the switch dials a controller listening on a socket.
  const dialled: ControllerConnection[] = [];
  const listener = await listenForSwitches(`punix:${topo.dir}/ctl.sock`, (c) => dialled.push(c));
  try {
    expect((await sw.vsctl('set-controller', br, `unix:${topo.dir}/ctl.sock`)).code).toBe(0);
    await waitFor(() => dialled.length === 1, 'the switch to dial unix:', 5000);
    const [features] = await dialled[0]!.request({ type: 'FEATURES_REQUEST', xid: 0 });
    expect(features).toMatchObject({ type: 'FEATURES_REPLY', datapath_id: BigInt(`0x${await sw.get('Bridge', br, 'datapath_id')}`) });
    await waitFor(async () => (await sw!.get('Controller', br, 'is_connected')) === 'true', 'is_connected', 3000);
    // punix: the switch listens; ovs-ofctl connects there as a controller would.
    expect((await sw.vsctl('set-controller', br, `punix:${topo.dir}/sw.sock`)).code).toBe(0);
    const show = await run(['ovs-ofctl', '-O', 'OpenFlow13', 'show', `unix:${topo.dir}/sw.sock`]);
    expect(show.stdout).toContain(`LOCAL(${br})`);
    expect(await sw.get('Controller', br, 'status')).toBe('{state=LISTENING}');
  } finally {
    for (const c of dialled) c.close();
    await listener.close();
  }
});
