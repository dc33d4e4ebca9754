// The whole switch as a user drives it: `xdpswitch start` (in-process daemon), the stock
// ovs-vsctl without --no-wait and ovs-ofctl -O OpenFlow13, traffic from two namespaces.
// Flows installed over OpenFlow are compiled into the BPF maps and carry the packets.
import { join } from 'node:path';
import { afterEach, describe, expect, test } from 'vitest';
import { run, sleep } from '../harness/exec.js';
import { type Host, Topology } from '../harness/topology.js';
import { ok, XdpSwitch } from './switch.js';

let sw: XdpSwitch | undefined;
afterEach(async () => {
  await sw?.close();
  sw = undefined;
});

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
    // Table statistics count the fast path's lookups too (os-ken's switch test checks them).
    const tables = await ok(sw.ofctl('-O', 'OpenFlow13', 'dump-tables', br));
    const t0 = /table 0:\s+active=2, lookup=(\d+), matched=(\d+)/.exec(tables.replace(/\n/g, ' '));
    expect(Number(t0?.[1])).toBeGreaterThanOrEqual(10);
    expect(Number(t0?.[2])).toBeGreaterThanOrEqual(10);

    // ovs-ofctl waits for the barrier reply: the deletion is in effect when it returns.
    await ok(sw.ofctl('-O', 'OpenFlow13', 'del-flows', br));
    expect((await a.ping(b, { count: 2, timeoutS: 0.5 })).received).toBe(0);
  });

  test('a meter run in BPF shows its packets in ovs-ofctl meter-stats', async () => {
    const topo = await Topology.create();
    const [a, b] = (await topo.hosts(2, '10.252.9.0/24')) as [Host, Host];
    sw = await XdpSwitch.start(topo);
    const br = topo.name('br');
    await ok(sw.vsctl('add-br', br, '--', 'set-fail-mode', br, 'secure', '--', 'add-port', br, a.port, '--', 'set', 'Interface', a.port, 'ofport_request=1', '--', 'add-port', br, b.port, '--', 'set', 'Interface', b.port, 'ofport_request=2'));
    await ok(sw.ofctl('-O', 'OpenFlow13', 'add-meter', br, 'meter=1,pktps,band=type=drop,rate=10'));
    await ok(sw.ofctl('-O', 'OpenFlow13', 'add-flow', br, 'in_port=1,udp,actions=meter:1,output:2'));
    const n = 300;
    await a.scapySend(`Ether(src="${a.mac}",dst="${b.mac}")/IP(src="${a.ip}",dst="${b.ip}")/UDP(sport=1111,dport=2222)/Raw(b"x"*20)`, n);
    const stats = await ok(sw.ofctl('-O', 'OpenFlow13', 'meter-stats', br));
    const metered = Number(/packet_in_count:(\d+)/.exec(stats)?.[1]);
    const dropped = Number(/0: packet_count:(\d+)/.exec(stats)?.[1]);
    // Every frame went through the meter in the datapath; at 10 packets/s most were dropped.
    expect(metered, stats).toBe(n);
    expect(dropped, stats).toBeGreaterThan(n / 2);
    expect(dropped, stats).toBeLessThan(n);
    // The same again adds up (the model keeps what it took from the datapath once).
    const again = await ok(sw.ofctl('-O', 'OpenFlow13', 'meter-stats', br));
    expect(Number(/packet_in_count:(\d+)/.exec(again)?.[1]), again).toBe(n);
  });

  test('a meter before an action the fast path hands up meters and counts each packet once', async () => {
    const topo = await Topology.create();
    const [a, b] = (await topo.hosts(2, '10.252.10.0/24')) as [Host, Host];
    sw = await XdpSwitch.start(topo);
    const br = topo.name('br');
    await ok(sw.vsctl('add-br', br, '--', 'set-fail-mode', br, 'secure', '--', 'add-port', br, a.port, '--', 'set', 'Interface', a.port, 'ofport_request=1', '--', 'add-port', br, b.port, '--', 'set', 'Interface', b.port, 'ofport_request=2'));
    await ok(sw.ofctl('-O', 'OpenFlow13', 'add-meter', br, 'meter=1,pktps,band=type=drop,rate=10'));
    // A select group runs in the slow path: BPF meters the packet, then hands it up.
    await ok(sw.ofctl('-O', 'OpenFlow13', 'add-group', br, 'group_id=5,type=select,bucket=output:2'));
    await ok(sw.ofctl('-O', 'OpenFlow13', 'add-flow', br, 'in_port=1,udp,actions=meter:1,group:5'));
    const n = 100;
    await a.scapySend(`Ether(src="${a.mac}",dst="${b.mac}")/IP(src="${a.ip}",dst="${b.ip}")/UDP(sport=1111,dport=2222)/Raw(b"x"*20)`, n);
    await sleep(300); // the slow path drains the upcall ring
    const upcalls = await ok(run(['ovs-appctl', '-t', join(sw.rundir, 'xdpswitch.ctl'), 'dpif/show-upcalls', br]));
    const handedUp = Number(/unsupported: (\d+)/.exec(upcalls)?.[1] ?? 0);
    const stats = await ok(sw.ofctl('-O', 'OpenFlow13', 'meter-stats', br));
    const metered = Number(/packet_in_count:(\d+)/.exec(stats)?.[1]);
    const dropped = Number(/0: packet_count:(\d+)/.exec(stats)?.[1]);
    // Every frame went through the meter once; those it let through went up, and the slow
    // path forwarded each of them (no second bucket taking more).
    expect(metered, stats).toBe(n);
    expect(dropped, stats).toBeGreaterThan(0);
    expect(handedUp, upcalls).toBe(n - dropped);
    const groups = await ok(sw.ofctl('-O', 'OpenFlow13', 'dump-group-stats', br));
    expect(Number(/packet_count=(\d+)/.exec(groups)?.[1]), groups).toBe(handedUp);
  });

  test('standalone: NORMAL learns and forwards with no controller', async () => {
    const topo = await Topology.create();
    const [a, b] = (await topo.hosts(2, '10.252.4.0/24')) as [Host, Host];
    sw = await XdpSwitch.start(topo);
    const br = topo.name('br');
    await ok(sw.vsctl('add-br', br, '--', 'add-port', br, a.port, '--', 'add-port', br, b.port));
    expect(await ok(sw.ofctl('-O', 'OpenFlow13', 'dump-flows', br))).toContain('actions=NORMAL');
    expect(await a.ping(b, { count: 3 })).toEqual({ transmitted: 3, received: 3 });
    // NORMAL runs in the slow path; its packets still count on the flow.
    await sleep(1100);
    expect(nPackets(await ok(sw.ofctl('-O', 'OpenFlow13', 'dump-flows', br)), 'actions=NORMAL')).toBeGreaterThanOrEqual(6);
  });

  test('standalone with Port tags: NORMAL keeps access VLANs apart', async () => {
    const topo = await Topology.create();
    const [a, b, c] = (await topo.hosts(3, '10.252.6.0/24')) as [Host, Host, Host];
    sw = await XdpSwitch.start(topo);
    const br = topo.name('br');
    await ok(sw.vsctl('add-br', br, '--', 'add-port', br, a.port, 'tag=10', '--', 'add-port', br, b.port, 'tag=10', '--', 'add-port', br, c.port, 'tag=20'));
    expect(await a.ping(b, { count: 2 })).toEqual({ transmitted: 2, received: 2 });
    expect((await a.ping(c, { count: 2, timeoutS: 0.5 })).received).toBe(0);
    // Moving c into VLAN 10 joins it (a reconfiguration, no restart of anything).
    await ok(sw.vsctl('set', 'Port', c.port, 'tag=10'));
    expect(await a.ping(c, { count: 2 })).toEqual({ transmitted: 2, received: 2 });
  });

  test('VLAN-tagged frames at TC: set_field rewrites the right bytes with the tag in skb metadata', async () => {
    const topo = await Topology.create();
    const [a, b] = (await topo.hosts(2, '10.252.5.0/24')) as [Host, Host];
    sw = await XdpSwitch.start(topo);
    const br = topo.name('br');
    await ok(sw.vsctl('add-br', br, '--', 'set-fail-mode', br, 'secure', '--', 'add-port', br, a.port, '--', 'set', 'Interface', a.port, 'ofport_request=1', '--', 'add-port', br, b.port, '--', 'set', 'Interface', b.port, 'ofport_request=2'));
    await ok(sw.ofctl('-O', 'OpenFlow13', 'add-flow', br, 'in_port=1,dl_vlan=7,udp,actions=set_field:10.9.9.9->nw_src,set_field:4444->udp_dst,output:2'));
    const cap = await b.capture('vlan 7');
    await a.scapySend(`Ether(src="${a.mac}",dst="${b.mac}")/Dot1Q(vlan=7)/IP(src="10.1.1.1",dst="10.2.2.2")/UDP(sport=1111,dport=2222)/Raw(b"x"*20)`, 2);
    await sleep(300);
    const frames = await cap.stop();
    expect(frames.length).toBe(2);
    const f = frames[0]!.data;
    expect(f.readUInt16BE(12)).toBe(0x8100);
    expect([...f.subarray(18 + 12, 18 + 16)].join('.')).toBe('10.9.9.9');
    expect(f.readUInt16BE(18 + 20 + 2)).toBe(4444);
    // Checksums as the receiver verifies them: IPv4 header, then UDP over the pseudo-header.
    const check = await b.exec(['/usr/bin/python3', '-c', `from scapy.all import *\np=Ether(bytes.fromhex("${f.toString('hex')}"))\nip=p[IP]; u=p[UDP]\nc1,c2=ip.chksum,u.chksum\ndel ip.chksum; del u.chksum\nq=Ether(bytes(p))\nprint(c1==q[IP].chksum, c2==q[UDP].chksum)`]);
    expect(check.stdout.trim()).toBe('True True');
  });
});
