// test/vswitchd/patch.test.ts — patch ports join two bridges: a veth pair xdpswitch makes
// and removes, each end running its bridge's pipeline at TC, so a frame output to one patch
// port enters the other bridge (fast path with flows, slow path with NORMAL).
import { afterEach, expect, test } from 'vitest';
import { run } from '../harness/exec.js';
import { type Host, Topology } from '../harness/topology.js';
import { ok, XdpSwitch } from './switch.js';

let sw: XdpSwitch | undefined;
afterEach(async () => {
  await sw?.close();
  sw = undefined;
});

const patchDevices = async () => (await run(['ip', '-o', 'link', 'show'])).stdout.split('\n').filter((l) => /: xsp[0-9a-f]{8}[ab]@/.test(l)).length;

test('hosts on two bridges joined by patch ports reach each other: NORMAL, then flows; del-port and del-br remove the pair', async () => {
  const topo = await Topology.create();
  const [a, b] = (await topo.hosts(2, '10.252.41.0/24')) as [Host, Host];
  sw = await XdpSwitch.start(topo);
  const [br1, br2, pa, pb] = [topo.name('b1'), topo.name('b2'), topo.name('pa'), topo.name('pb')];
  const before = await patchDevices();
  await ok(sw.vsctl('add-br', br1, '--', 'add-port', br1, a.port, '--', 'add-br', br2, '--', 'add-port', br2, b.port));
  await ok(sw.vsctl('add-port', br1, pa, '--', 'set', 'Interface', pa, 'type=patch', `options:peer=${pb}`, '--', 'add-port', br2, pb, '--', 'set', 'Interface', pb, 'type=patch', `options:peer=${pa}`));
  expect(await patchDevices()).toBe(before + 2);
  expect(await sw.get('Interface', pa, 'error')).toBe('[]');
  // Standalone: NORMAL on each bridge floods and learns across the patch.
  expect(await a.ping(b, { count: 3 })).toEqual({ transmitted: 3, received: 3 });

  // Secure, with flows: the fast path outputs to the patch port and the peer bridge takes it.
  await ok(sw.vsctl('set-fail-mode', br1, 'secure', '--', 'set-fail-mode', br2, 'secure'));
  const port = async (name: string) => Number(await sw!.get('Interface', name, 'ofport'));
  const [a1, pa1, b2, pb2] = [await port(a.port), await port(pa), await port(b.port), await port(pb)];
  for (const f of [`in_port=${a1},actions=output:${pa1}`, `in_port=${pa1},actions=output:${a1}`]) await ok(sw.ofctl('-O', 'OpenFlow13', 'add-flow', br1, f));
  for (const f of [`in_port=${b2},actions=output:${pb2}`, `in_port=${pb2},actions=output:${b2}`]) await ok(sw.ofctl('-O', 'OpenFlow13', 'add-flow', br2, f));
  expect(await a.ping(b, { count: 3 })).toEqual({ transmitted: 3, received: 3 });
  expect(await a.iperf(b, 1)).toBeGreaterThan(0.2);
  const dump = await ok(sw.ofctl('-O', 'OpenFlow13', 'dump-flows', br2));
  expect(Number(/n_packets=(\d+).*in_port=/.exec(dump.split('\n').find((l) => l.includes(`in_port=${pb2}`)) ?? '')?.[1])).toBeGreaterThan(3);

  // Removing one end parts the other (it stays, with an error) and deletes the pair.
  await ok(sw.vsctl('del-port', br1, pa));
  expect(await patchDevices()).toBe(before);
  expect((await a.ping(b, { count: 1, timeoutS: 0.5 })).received).toBe(0);
  expect(await sw.get('Interface', pb, 'error')).toContain(`No usable peer '${pa}'`);
  await ok(sw.vsctl('add-port', br1, pa, '--', 'set', 'Interface', pa, 'type=patch', `options:peer=${pb}`, `ofport_request=${pa1}`));
  expect(await patchDevices()).toBe(before + 2);
  expect(await a.ping(b, { count: 2 })).toEqual({ transmitted: 2, received: 2 });
  await ok(sw.vsctl('del-br', br1, '--', 'del-br', br2));
  expect(await patchDevices()).toBe(before);
}, 60_000);
