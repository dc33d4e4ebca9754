// Several outputs through a switch set up as a user would (the daemon of `xdpswitch
// start`, the stock ovs-vsctl and ovs-ofctl): FLOOD, ALL, group ALL and an output list
// send one copy to every other port, each as the actions left it, and no packet leaves
// the fast path — at TC (the default for veths: clones) and at XDP (one devmap
// broadcast when the copies are one frame to each other port).
import { afterEach, describe, expect, test } from 'vitest';
import type { XdpBridgeDatapath } from '../../src/datapath/xdp-bridge.js';
import { sleep } from '../harness/exec.js';
import { type Host, Topology } from '../harness/topology.js';
import { ok, XdpSwitch } from '../vswitchd/switch.js';

let sw: XdpSwitch | undefined;
afterEach(async () => {
  await sw?.close();
  sw = undefined;
});

describe.each(['auto', 'xdp'] as const)('datapath-hook=%s', (hook) => {
  test('FLOOD, ALL, group ALL (and at TC an output list) from ovs-ofctl: one copy on every other port, no upcall', async () => {
    const topo = await Topology.create();
    const hosts = (await topo.hosts(4, '10.252.11.0/24')) as [Host, Host, Host, Host];
    const [a, b, c, d] = hosts;
    sw = await XdpSwitch.start(topo);
    const br = topo.name('br');
    const args = ['add-br', br, '--', 'set-fail-mode', br, 'secure'];
    for (const [i, h] of hosts.entries()) {
      args.push('--', 'add-port', br, h.port, '--', 'set', 'Interface', h.port, `ofport_request=${i + 1}`);
      if (hook === 'xdp') args.push(`other_config:datapath-hook=xdp`);
    }
    await ok(sw.vsctl(...args));
    const dp = sw.vswitchd.bridges.get(br)!.datapath as XdpBridgeDatapath;
    const upcalls = () => [...dp.slowPath.byReason.values()].reduce((x, y) => x + y, 0);

    /** a pings b three times; what c and d heard of it, and what b answered. */
    const pingHeard = async () => {
      const caps = await Promise.all([c.capture('icmp[icmptype] = icmp-echo'), d.capture('icmp[icmptype] = icmp-echo')]);
      const res = await a.ping(b, { count: 3 });
      await sleep(200);
      return { res, heard: await Promise.all(caps.map(async (x) => (await x.stop()).length)) };
    };
    // Every packet floods (ARP too): b's answers as well, to a, c and d.
    await ok(sw.ofctl('-O', 'OpenFlow13', 'add-flow', br, 'priority=1,actions=FLOOD'));
    expect(await pingHeard()).toEqual({ res: { transmitted: 3, received: 3 }, heard: [3, 3] });
    expect(upcalls(), JSON.stringify([...dp.slowPath.byReason])).toBe(0);

    await ok(sw.ofctl('-O', 'OpenFlow13', 'mod-flows', br, 'actions=ALL'));
    expect(await pingHeard()).toEqual({ res: { transmitted: 3, received: 3 }, heard: [3, 3] });
    expect(upcalls(), JSON.stringify([...dp.slowPath.byReason])).toBe(0);
    // The flow counted every packet, as OVS counts a flooding flow.
    const stats = await ok(sw.ofctl('-O', 'OpenFlow13', 'dump-flows', br));
    expect(Number(/n_packets=(\d+)/.exec(stats)?.[1])).toBeGreaterThanOrEqual(12);

    // Group ALL, a bucket per other port: at TC each copy is cloned (one with a rewrite);
    // at XDP, where copies must be one frame, the same buckets without it and one for the
    // bridge's LOCAL port too (every port but the ingress one): a broadcast.
    const last = hook === 'auto' ? 'bucket=mod_dl_src:02:00:00:00:00:99,output:4' : 'bucket=output:4,bucket=output:LOCAL';
    await ok(sw.ofctl('-O', 'OpenFlow13', 'add-group', br, `group_id=1,type=all,bucket=output:2,bucket=output:3,${last}`));
    await ok(sw.ofctl('-O', 'OpenFlow13', 'add-flow', br, 'priority=20,in_port=1,icmp,actions=group:1'));
    const fromA = await Promise.all([c.capture(`icmp and ether src ${a.mac}`), d.capture(`icmp and ether src ${hook === 'auto' ? '02:00:00:00:00:99' : a.mac}`)]);
    expect(await a.ping(b, { count: 3 })).toEqual({ transmitted: 3, received: 3 });
    await sleep(200);
    expect(await Promise.all(fromA.map(async (x) => (await x.stop()).length))).toEqual([3, 3]);
    expect(upcalls(), JSON.stringify([...dp.slowPath.byReason])).toBe(0);
    expect(await ok(sw.ofctl('-O', 'OpenFlow13', 'dump-group-stats', br))).toMatch(/group_id=1,.*packet_count=3,.*bucket0:packet_count=3/);

    if (hook === 'auto') {
      await ok(sw.ofctl('-O', 'OpenFlow13', '--strict', 'del-flows', br, 'priority=20,in_port=1,icmp'));

      // An output list with a rewrite between: b gets the frame as sent, c and d a copy
      // tagged VLAN 7 (TC clones each).
      await ok(sw.ofctl('-O', 'OpenFlow13', 'add-flow', br, 'priority=10,in_port=1,icmp,actions=output:2,push_vlan:0x8100,set_field:4103->vlan_vid,output:3,output:4'));
      const caps = await Promise.all([c.capture('vlan 7 and icmp'), d.capture('vlan 7 and icmp')]);
      expect(await a.ping(b, { count: 3 })).toEqual({ transmitted: 3, received: 3 });
      await sleep(200);
      expect(await Promise.all(caps.map(async (x) => (await x.stop()).length))).toEqual([3, 3]);
      expect(upcalls(), JSON.stringify([...dp.slowPath.byReason])).toBe(0);
    }
  });
});
