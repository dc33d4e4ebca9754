// test/ct/firewall.test.ts — the classic stateful firewall through `xdpswitch start`, driven
// with the stock ovs-vsctl and ovs-ofctl, traffic between two namespaces: new connections
// from inside pass and are committed, established traffic passes both ways, new ones from
// outside are dropped. The same scenario against real Open vSwitch 3.1 (userspace
// datapath, its own conntrack) gives the same packets through and the same counters.
import { join } from 'node:path';
import { afterEach, describe, expect, test } from 'vitest';
import { run, sleep } from '../harness/exec.js';
import { type Host, PYTHON, Topology } from '../harness/topology.js';
import { OvsSwitch, ok, XdpSwitch, type Switch } from '../vswitchd/switch.js';
import { haveOvs } from '../ofproto/ovs.js';

const switches: Switch[] = [];
const subnets: string[] = [];
afterEach(async () => {
  for (const s of switches.splice(0)) await s.close();
  // The kernel's table outlives the switch: forget this test's connections.
  for (const n of subnets.splice(0)) for (const dir of ['-s', '-d']) await run(['conntrack', '-D', dir, n], { allowFail: true });
});

const FIREWALL = [
  'table=0,priority=100,ip,ct_state=-trk,actions=ct(table=1)',
  'table=1,priority=100,in_port=1,ip,ct_state=+trk+new,actions=ct(commit),output:2',
  'table=1,priority=100,in_port=1,ip,ct_state=+trk+est,actions=output:2',
  'table=1,priority=100,in_port=2,ip,ct_state=+trk+est,actions=output:1',
  'table=1,priority=90,in_port=2,ip,ct_state=+trk+new,actions=drop',
];

const flowLines = (dump: string) =>
  dump
    .split('\n')
    .filter((l) => l.includes('n_packets'))
    .map((l) => l.replace(/duration=[\d.]+s, /, '').trim())
    .sort();

/**
 * Brings up the bridge with a (inside, port 1) and b (outside, port 2), installs the
 * firewall. The hosts send whole checksums and unsegmented frames: the slow path (and
 * OVS's userspace datapath) forwards frames as they are, with no partial checksum to finish.
 */
async function setUp(sw: Switch, topo: Topology, a: Host, b: Host): Promise<string> {
  const br = topo.name('br');
  for (const h of [a, b]) for (const f of ['tx', 'tso', 'gso']) await h.ethtool(f, false);
  if (sw instanceof OvsSwitch) {
    // OVS runs in a namespace of its own: its ports go there.
    for (const h of [a, b]) {
      await run(['ip', 'link', 'set', h.port, 'netns', sw.ns]);
      await sw.exec(['ip', 'link', 'set', h.port, 'up']);
    }
  }
  const dpType = sw instanceof OvsSwitch ? ['--', 'set', 'bridge', br, 'datapath_type=netdev'] : [];
  await ok(sw.vsctl('add-br', br, ...dpType, '--', 'set-fail-mode', br, 'secure', '--', 'add-port', br, a.port, '--', 'set', 'Interface', a.port, 'ofport_request=1', '--', 'add-port', br, b.port, '--', 'set', 'Interface', b.port, 'ofport_request=2'));
  for (const f of FIREWALL) await ok(sw.ofctl('-O', 'OpenFlow13', 'add-flow', br, f));
  return br;
}

/** Pings both ways, outside first, then 3 UDP datagrams from inside, each echoed: what passed and the counters dump-flows shows after. */
async function pings(sw: Switch, br: string, a: Host, b: Host) {
  const refused = await b.ping(a, { count: 3, timeoutS: 0.5 });
  const opened = await a.ping(b, { count: 3 });
  const echoed = await udpEcho(a, b, 3);
  await sleep(1500); // counters reach dump-flows with the periodic pull (OVS: revalidators)
  const ctl = join(sw.rundir, sw instanceof OvsSwitch ? 'ovs-vswitchd.ctl' : 'xdpswitch.ctl');
  const dump = await run(['ovs-appctl', '-t', ctl, 'dpctl/dump-conntrack'], { allowFail: true });
  // This test's connections (the kernel's table has the host's too); ping ids vary by run.
  const conntrack = dump.stdout
    .split('\n')
    .filter((l) => l.includes(`src=${a.ip},`))
    .map((l) => l.replace(/id=\d+/g, 'id=X'))
    .sort();
  return { refused, opened, echoed, conntrack, flows: flowLines(await ok(sw.ofctl('-O', 'OpenFlow13', 'dump-flows', br))) };
}

/** `n` UDP datagrams from `c` to an echo server on `s`, one at a time: how many came back. */
async function udpEcho(c: Host, s: Host, n: number): Promise<number> {
  const srv = s.spawn([PYTHON, '-c', `import socket\nu=socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\nu.bind(("${s.ip}", 7007))\nwhile True:\n  d,a=u.recvfrom(2048); u.sendto(d, a)`]);
  await sleep(500);
  const r = await c.exec([PYTHON, '-c', `import socket\nu=socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\nu.settimeout(2)\nu.bind(("${c.ip}", 7008))\nk=0\nfor i in range(${n}):\n  u.sendto(b"x"*32, ("${s.ip}", 7007))\n  try:\n    u.recvfrom(2048); k+=1\n  except OSError: pass\nprint(k)`], { allowFail: true, timeoutMs: 20_000 });
  srv.kill('SIGTERM');
  return Number(r.stdout.trim());
}

describe('the stateful firewall', () => {
  test('xdpswitch: ping, TCP and UDP from inside; nothing new from outside; conntrack -L lists them', async () => {
    const topo = await Topology.create();
    const [a, b] = (await topo.hosts(2, '10.253.8.0/24')) as [Host, Host];
    subnets.push('10.253.8.0/24');
    const sw = await XdpSwitch.start(topo);
    switches.push(sw);
    const br = await setUp(sw, topo, a, b);
    const r = await pings(sw, br, a, b);
    expect(r.refused.received).toBe(0);
    expect(r.opened).toEqual({ transmitted: 3, received: 3 });
    expect(r.echoed).toBe(3);

    // Tier 1: after the slow path committed the connection, its packets stay in XDP/TC
    // (bpf/lib/ct.h): the est rules count the stream, the slow path sees a handful.
    const ctl = join(sw.rundir, 'xdpswitch.ctl');
    const before = await upcalls(ctl, br);
    const estBefore = await estPackets(sw, br);
    expect(await a.iperf(b, 2)).toBeGreaterThan(0.001);
    await sleep(1500);
    const est = (await estPackets(sw, br)) - estBefore;
    const slow = (await upcalls(ctl, br)) - before;
    expect(est).toBeGreaterThan(2000);
    expect(slow, `${slow} slow-path packets for ${est} established`).toBeLessThan(50);
    const udp = await udpFrom(a, b);
    expect(udp.lost).toBeLessThan(udp.packets);
    // The reverse: a TCP connection from outside gets nowhere.
    expect(await connects(b, a)).toBe(false);
    // TCP and UDP were tracked in the kernel's table; ICMP in userspace.
    const listed = (await run(['conntrack', '-L', '-s', a.ip, '-d', b.ip], { allowFail: true })).stdout;
    expect(listed).toMatch(new RegExp(`tcp\\s+6 \\d+ \\S+ src=${a.ip} dst=${b.ip} sport=\\d+ dport=5201 src=${b.ip} dst=${a.ip}`));
    expect(listed).toMatch(new RegExp(`udp\\s+17 \\d+ src=${a.ip} dst=${b.ip} sport=\\d+ dport=5202 src=${b.ip}`));
    expect(listed).not.toMatch(/dport=5203/);
  }, 120_000);

  test.skipIf(!haveOvs)('xdpswitch and Open vSwitch 3.1: the same pings and UDP through, the same counters and dpctl/dump-conntrack', async () => {
    const results = [];
    for (const kind of ['xdpswitch', 'ovs'] as const) {
      const topo = await Topology.create();
      const [a, b] = (await topo.hosts(2, '10.253.9.0/24')) as [Host, Host];
      subnets.push('10.253.9.0/24');
      const sw = kind === 'ovs' ? await OvsSwitch.start(topo) : await XdpSwitch.start(topo);
      switches.push(sw);
      const br = await setUp(sw, topo, a, b);
      const r = await pings(sw, br, a, b);
      results.push({ refused: r.refused.received, opened: r.opened.received, echoed: r.echoed, conntrack: r.conntrack, flows: r.flows.map((l) => l.replace(br, 'BR')) });
      await sw.close();
      await topo.destroy();
    }
    expect(results[0]).toEqual(results[1]);
    expect(results[0]).toMatchObject({ refused: 0, opened: 3, echoed: 3 });
    expect(results[0]?.conntrack).toHaveLength(2); // the ping and the UDP echo
  }, 120_000);
});

/** Packets the slow path got from the bridge's datapath, all reasons (`dpif/show-upcalls`). */
async function upcalls(ctl: string, br: string): Promise<number> {
  const out = await ok(run(['ovs-appctl', '-t', ctl, 'dpif/show-upcalls', br]));
  return [...out.matchAll(/^\s+\w+: (\d+)$/gm)].reduce((n, m) => n + Number(m[1]), 0);
}

/** n_packets of the rules for established traffic, both ways. */
async function estPackets(sw: Switch, br: string): Promise<number> {
  const dump = await ok(sw.ofctl('-O', 'OpenFlow13', 'dump-flows', br, 'table=1'));
  return [...dump.matchAll(/n_packets=(\d+),.*ct_state=\+est\+trk/g)].reduce((n, m) => n + Number(m[1]), 0);
}

/** A UDP stream from `c` to `s` (iperf3 -u, 1 s): datagrams sent and lost. */
async function udpFrom(c: Host, s: Host): Promise<{ packets: number; lost: number }> {
  const srv = s.spawn(['iperf3', '-s', '-1', '-B', s.ip, '-p', '5202']);
  await sleep(400);
  const r = await c.exec(['iperf3', '-c', s.ip, '-p', '5202', '-u', '-b', '2M', '-l', '500', '-t', '1', '-J'], { timeoutMs: 30_000, allowFail: true });
  srv.kill('SIGTERM');
  const j = JSON.parse(r.stdout || '{}') as { end?: { sum?: { packets?: number; lost_packets?: number } } };
  return { packets: j.end?.sum?.packets ?? 0, lost: j.end?.sum?.lost_packets ?? 0 };
}

/** Whether a TCP connection from `c` to a listener on `s` completes within a second. */
async function connects(c: Host, s: Host): Promise<boolean> {
  const srv = s.spawn(['iperf3', '-s', '-1', '-B', s.ip, '-p', '5203']);
  await sleep(400);
  const r = await c.exec(['iperf3', '-c', s.ip, '-p', '5203', '-t', '1', '--connect-timeout', '1000'], { timeoutMs: 20_000, allowFail: true });
  srv.kill('SIGTERM');
  return r.code === 0;
}
