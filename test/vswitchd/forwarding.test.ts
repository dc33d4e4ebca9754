// The whole switch as a user drives it: `xdpswitch start` (in-process daemon), the stock
// ovs-vsctl without --no-wait and ovs-ofctl -O OpenFlow13, traffic from two namespaces.
// Flows installed over OpenFlow are compiled into the BPF maps and carry the packets.
import { afterEach, describe, expect, test } from 'vitest';
import { sleep } from '../harness/exec.js';
import { type Host, Topology } from '../harness/topology.js';
import { XdpSwitch } from './switch.js';

let sw: XdpSwitch | undefined;
afterEach(async () => {
  await sw?.close();
  sw = undefined;
});

const ok = async (p: Promise<{ code: number; stdout: string; stderr: string }>) => {
  const r = await p;
  expect(r.code, r.stderr).toBe(0);
  return r.stdout;
};

const nPackets = (dump: string, match: string): number => {
  const line = dump.split('\n').find((l) => l.includes(match));
  return Number(/n_packets=(\d+)/.exec(line ?? '')?.[1] ?? -1);
};

describe('xdpswitch start forwards by the flows ovs-ofctl installs', () => {
  test('secure: nothing without flows; in_port flows carry ping and TCP; counters; del-flows stops it', async () => {
    const topo = await Topology.create();
    const [a, b] = (await topo.hosts(2, '10.252.3.0/24')) as [Host, Host];
    sw = await XdpSwitch.start(topo);
    const br = topo.name('br');
    await ok(sw.vsctl('add-br', br, '--', 'set-fail-mode', br, 'secure', '--', 'add-port', br, a.port, '--', 'set', 'Interface', a.port, 'ofport_request=1', '--', 'add-port', br, b.port, '--', 'set', 'Interface', b.port, 'ofport_request=2'));
    expect((await a.ping(b, { count: 2, timeoutS: 0.5 })).received).toBe(0);

    await ok(sw.ofctl('-O', 'OpenFlow13', 'add-flow', br, 'in_port=1,actions=output:2'));
    await ok(sw.ofctl('-O', 'OpenFlow13', 'add-flow', br, 'in_port=2,actions=output:1'));
    expect(await a.ping(b, { count: 5 })).toEqual({ transmitted: 5, received: 5 });
    expect(await a.iperf(b, 2)).toBeGreaterThan(0.2);
    await sleep(1100); // counters reach dump-flows with the periodic pull
    const dump = await ok(sw.ofctl('-O', 'OpenFlow13', 'dump-flows', br));
    expect(nPackets(dump, 'in_port=1')).toBeGreaterThanOrEqual(5);
    expect(nPackets(dump, 'in_port=2')).toBeGreaterThanOrEqual(5);

    // ovs-ofctl waits for the barrier reply: the deletion is in effect when it returns.
    await ok(sw.ofctl('-O', 'OpenFlow13', 'del-flows', br));
    expect((await a.ping(b, { count: 2, timeoutS: 0.5 })).received).toBe(0);
  });

  test('standalone: NORMAL learns and forwards with no controller', async () => {
    const topo = await Topology.create();
    const [a, b] = (await topo.hosts(2, '10.252.4.0/24')) as [Host, Host];
    sw = await XdpSwitch.start(topo);
    const br = topo.name('br');
    await ok(sw.vsctl('add-br', br, '--', 'add-port', br, a.port, '--', 'add-port', br, b.port));
    expect(await ok(sw.ofctl('-O', 'OpenFlow13', 'dump-flows', br))).toContain('actions=NORMAL');
    expect(await a.ping(b, { count: 3 })).toEqual({ transmitted: 3, received: 3 });
  });
});
