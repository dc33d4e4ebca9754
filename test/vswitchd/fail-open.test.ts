// test/vswitchd/fail-open.test.ts — fail_mode with a controller that comes and goes, as OVS
// does it: standalone fails open (flows flushed, a hidden NORMAL flow forwards) once every
// controller has been down for three probe intervals, and leaves that mode when one is
// admitted; secure never fails open.
import { afterEach, expect, test } from 'vitest';
import { listenForSwitches, type ControllerConnection } from '../../src/openflow/index.js';
import { waitFor } from '../harness/exec.js';
import { type Host, Topology } from '../harness/topology.js';
import { ok, XdpSwitch } from './switch.js';

let sw: XdpSwitch | undefined;
afterEach(async () => {
  await sw?.close();
  sw = undefined;
});

test('standalone fails open while the controller is away and hands the table back when it connects; secure does not', async () => {
  const topo = await Topology.create();
  const [a, b] = (await topo.hosts(2, '10.252.42.0/24')) as [Host, Host];
  sw = await XdpSwitch.start(topo);
  const br = topo.name('br');
  const sock = `${topo.dir}/ctl.sock`;
  const flows = async () => (await ok(sw!.ofctl('-O', 'OpenFlow13', 'dump-flows', br))).split('\n').filter((l) => l.includes('actions=')).length;
  await ok(sw.vsctl('add-br', br, '--', 'add-port', br, a.port, '--', 'add-port', br, b.port));
  expect(await a.ping(b, { count: 2 })).toEqual({ transmitted: 2, received: 2 });

  // A controller nobody answers; with probes off (inactivity_probe=0) rconn's trigger is 0 s.
  await ok(sw.vsctl('set-controller', br, `unix:${sock}`, '--', 'set', 'Controller', br, 'inactivity_probe=0', 'max_backoff=1000'));
  await waitFor(() => sw!.log.some((l) => l.includes(`${br}: Could not connect to controller`) && l.includes('failing open')), 'fail-open', 5000, 50);
  expect(await a.ping(b, { count: 2 })).toEqual({ transmitted: 2, received: 2 });
  expect(await flows()).toBe(0); // the fail-open flow is hidden, as in OVS

  // The controller appears: once admitted the switch leaves fail-open, and with no flows of
  // the controller's nothing forwards.
  const dialled: ControllerConnection[] = [];
  const listener = await listenForSwitches(`punix:${sock}`, (c) => dialled.push(c));
  try {
    await waitFor(() => sw!.log.some((l) => l.includes(`${br}: No longer in fail-open mode`)), 'recovery', 8000, 50);
    expect((await a.ping(b, { count: 2, timeoutS: 0.5 })).received).toBe(0);
    // The controller's flows carry traffic as usual.
    await ok(sw.ofctl('-O', 'OpenFlow13', 'add-flow', br, 'actions=NORMAL'));
    expect(await a.ping(b, { count: 2 })).toEqual({ transmitted: 2, received: 2 });

    // Secure: the controller leaves, the flows stay, nothing fails open.
    await ok(sw.vsctl('set-fail-mode', br, 'secure'));
    await ok(sw.ofctl('-O', 'OpenFlow13', 'del-flows', br));
  } finally {
    for (const c of dialled) c.close();
    await listener.close();
  }
  await new Promise((r) => setTimeout(r, 2000));
  expect(sw.log.filter((l) => l.includes('failing open'))).toHaveLength(1);
  expect((await a.ping(b, { count: 2, timeoutS: 0.5 })).received).toBe(0);
}, 60_000);
