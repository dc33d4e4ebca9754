// test/vswitchd/internal.test.ts — the bridge's LOCAL port and type=internal ports are host
// devices that carry traffic: the host addresses them and reaches the hosts on the bridge.
import { afterEach, expect, test } from 'vitest';
import { run } from '../harness/exec.js';
import { type Host, Topology } from '../harness/topology.js';
import { ok, XdpSwitch } from './switch.js';

let sw: XdpSwitch | undefined;
afterEach(async () => {
  await sw?.close();
  sw = undefined;
});

const hidden = async () => (await run(['ip', '-o', 'link', 'show'])).stdout.split('\n').filter((l) => /: xsi[0-9a-f]{8}@/.test(l)).length;

test('the host reaches a namespace through the LOCAL port and an internal port; del-br removes both', async () => {
  const topo = await Topology.create();
  const [a] = (await topo.hosts(1, '10.252.43.0/24')) as [Host];
  sw = await XdpSwitch.start(topo);
  const [br, i0] = [topo.name('br'), topo.name('i0')];
  const before = await hidden();
  await ok(sw.vsctl('add-br', br, '--', 'add-port', br, a.port, '--', 'add-port', br, i0, '--', 'set', 'Interface', i0, 'type=internal'));
  expect(await hidden()).toBe(before + 2);
  // As with OVS, internal devices start down; the host brings them up and addresses them.
  expect(await sw.get('Interface', br, 'admin_state')).toBe('down');
  for (const [dev, ip] of [[br, '10.252.43.250/24'], [i0, '10.252.44.250/24']] as const) {
    await run(['ip', 'addr', 'add', ip, 'dev', dev]);
    await run(['ip', 'link', 'set', dev, 'up']);
  }
  await a.exec(['ip', 'addr', 'add', '10.252.44.1/24', 'dev', a.ifname]);
  expect(await a.ping('10.252.43.250', { count: 3 })).toEqual({ transmitted: 3, received: 3 });
  expect(await a.ping('10.252.44.250', { count: 3 })).toEqual({ transmitted: 3, received: 3 });
  expect(await sw.get('Interface', br, 'link_state')).toBe('up');
  expect(await sw.get('Interface', i0, 'link_state')).toBe('up');
  // Counted from the bridge's side: what the host sent out of LOCAL came in on it.
  const ports = await ok(sw.ofctl('-O', 'OpenFlow13', 'dump-ports', br, 'LOCAL'));
  expect(Number(/rx pkts=(\d+)/.exec(ports)?.[1])).toBeGreaterThan(0);

  await ok(sw.vsctl('del-port', br, i0));
  expect((await run(['ip', 'link', 'show', i0], { allowFail: true })).code).not.toBe(0);
  await ok(sw.vsctl('del-br', br));
  expect((await run(['ip', 'link', 'show', br], { allowFail: true })).code).not.toBe(0);
  expect(await hidden()).toBe(before);
}, 60_000);
