// test/vswitchd/restart.test.ts — a restart that keeps packets flowing: `xdpswitch start` as a
// process is killed with SIGKILL while iperf3 streams (TCP and UDP) run through its flows; the
// pinned programs, tcx links and maps go on forwarding with no daemon, and the next daemon
// adopts them: ovs-ofctl shows the same flows, their counters still growing. SIGTERM then
// leaves nothing behind.
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, test } from 'vitest';
import { queryTc } from '../../src/native/bpf.js';
import { getLink } from '../../src/native/netlink.js';
import { run, sleep, stopChild, waitFor } from '../harness/exec.js';
import { type Host, Topology } from '../harness/topology.js';

const main = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));
const started: ChildProcess[] = [];
afterEach(async () => {
  for (const c of started.splice(0)) await stopChild(c, 'SIGTERM', 10_000);
});

function start(dir: string): { child: ChildProcess; out: () => string; exit: Promise<number | null> } {
  const env = { ...process.env, OVS_RUNDIR: dir, OVS_DBDIR: dir, OVS_LOGDIR: dir };
  const child = spawn(process.execPath, ['--import', 'tsx', main, 'start'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  started.push(child);
  let out = '';
  child.stdout!.on('data', (b: Buffer) => (out += b.toString()));
  child.stderr!.on('data', (b: Buffer) => (out += b.toString()));
  const exit = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  return { child, out: () => out, exit };
}

interface Interval {
  start: number;
  end: number;
  bytes: number;
}

interface IperfJson {
  intervals?: { sum: Interval & { lost_packets?: number } }[];
  end?: { sum?: { lost_packets?: number; packets?: number } };
  server_output_json?: IperfJson;
  error?: string;
}

/** iperf3 -J --get-server-output: bytes sent per interval, and (UDP) what the receiver lost. */
function iperfResult(stdout: string): { intervals: Interval[]; lost: number; packets: number; error?: string; lostIn: (from: number, to: number) => number } {
  const j = JSON.parse(stdout) as IperfJson;
  const srv = j.server_output_json?.intervals ?? [];
  return {
    ...(j.error ? { error: j.error } : {}),
    intervals: (j.intervals ?? []).map((i) => i.sum),
    lost: j.end?.sum?.lost_packets ?? 0,
    packets: j.end?.sum?.packets ?? 0,
    lostIn: (from, to) => srv.filter((i) => i.sum.end > from && i.sum.start < to).reduce((n, i) => n + (i.sum.lost_packets ?? 0), 0),
  };
}

/** Programs on a device's tcx ingress (Debian's bpftool does not list tcx). */
const tcx = async (dev: string): Promise<number> => queryTc((await getLink(dev)).ifindex, 'ingress').tcx.length;

const nPackets = (dump: string, match: string): number => {
  const line = dump.split('\n').find((l) => l.includes(match));
  return Number(/n_packets=(\d+)/.exec(line ?? '')?.[1] ?? -1);
};

/** The flows as dump-flows prints them, counters and durations left out. */
const flowSet = (dump: string): string[] =>
  dump
    .split('\n')
    .filter((l) => l.includes('actions='))
    .map((l) => l.replace(/\s*(duration|n_packets|n_bytes|idle_age|hard_age)=[^,]*,/g, '').trim())
    .sort();

describe.each([
  { hook: 'tc', subnet: '10.252.31.0/24' },
  { hook: 'xdp', subnet: '10.252.32.0/24' },
])('SIGKILL under load, ports at $hook', ({ hook, subnet }) => {
  test('streams go on while no daemon runs; the restarted daemon reports the same flows, counters grown', async () => {
    const topo = await Topology.create();
    const dir = topo.dir;
    const env = { ...process.env, OVS_RUNDIR: dir, OVS_DBDIR: dir, OVS_LOGDIR: dir };
    const vsctl = (...a: string[]) => run(['ovs-vsctl', '--timeout=30', ...a], { env });
    const ofctl = async (...a: string[]) => (await run(['ovs-ofctl', '--timeout=30', '-O', 'OpenFlow13', ...a], { env })).stdout;
    const [a, b] = (await topo.hosts(2, subnet)) as [Host, Host];
    if (hook === 'xdp') {
      // XDP loses the partial checksums a local stack leaves to the device (design.md).
      for (const h of [a, b]) await h.ethtool('tx-checksumming', false);
    }
    const br = topo.name('br');
    const first = start(dir);
    await waitFor(() => existsSync(join(dir, 'db.sock')), 'db.sock', 30_000, 100);
    const hookCfg = (p: string) => (hook === 'xdp' ? ['--', 'set', 'Interface', p, 'other_config:datapath-hook=xdp'] : []);
    await vsctl('add-br', br, '--', 'set-fail-mode', br, 'secure', '--', 'add-port', br, a.port, '--', 'set', 'Interface', a.port, 'ofport_request=1', ...hookCfg(a.port), '--', 'add-port', br, b.port, '--', 'set', 'Interface', b.port, 'ofport_request=2', ...hookCfg(b.port));
    await ofctl('add-flow', br, 'cookie=0x11,in_port=1,actions=output:2');
    await ofctl('add-flow', br, 'cookie=0x22,priority=200,in_port=2,actions=output:1');
    await ofctl('add-flow', br, 'table=0,priority=10,idle_timeout=600,dl_type=0x0806,actions=drop');
    expect(await a.ping(b, { count: 2 })).toEqual({ transmitted: 2, received: 2 });

    // TCP and UDP streams, 8 s, reported every 0.5 s.
    const tcpSrv = b.spawn(['iperf3', '-s', '-1', '-B', b.ip, '-p', '5201']);
    const udpSrv = b.spawn(['iperf3', '-s', '-1', '-B', b.ip, '-p', '5202']);
    await sleep(400);
    const t0 = Date.now();
    const tcp = a.exec(['iperf3', '-c', b.ip, '-p', '5201', '-t', '8', '-i', '0.5', '-J'], { timeoutMs: 30_000, allowFail: true });
    const udp = a.exec(['iperf3', '-c', b.ip, '-p', '5202', '-u', '-b', '10M', '-l', '1000', '-t', '8', '-i', '0.5', '-J', '--get-server-output'], { timeoutMs: 30_000, allowFail: true });
    await sleep(1500);
    await sleep(1100); // counters reach dump-flows with the periodic pull
    const before = await ofctl('dump-flows', br);
    first.child.kill('SIGKILL');
    await first.exit;
    const killedAt = (Date.now() - t0) / 1000;
    // No daemon for a while: only the pinned datapath forwards.
    await sleep(1500);
    const second = start(dir);
    await waitFor(() => second.out().includes(`${br}: adopted the pinned datapath`), 'the bridge adopted', 30_000, 50);
    await waitFor(() => existsSync(join(dir, `${br}.mgmt`)), 'the bridge socket', 30_000, 50);
    const adoptedAt = (Date.now() - t0) / 1000;
    const tcpR = iperfResult((await tcp).stdout);
    const udpR = iperfResult((await udp).stdout);
    tcpSrv.kill('SIGTERM');
    udpSrv.kill('SIGTERM');
    expect(second.out()).toMatch(new RegExp(`${br}: adopted the pinned datapath: kept 3 flows`));
    expect(second.out()).toContain('replaced in place');

    // Every half second of the streams carried data, the down time (and restart) included.
    for (const r of [tcpR, udpR]) {
      const down = r.intervals.filter((i) => i.end > killedAt && i.start < Math.min(adoptedAt, 8));
      expect(down.length).toBeGreaterThan(0);
      for (const i of down) expect(i.bytes, `${i.start}-${i.end}s (killed at ${killedAt.toFixed(1)}s, adopted at ${adoptedAt.toFixed(1)}s)`).toBeGreaterThan(0);
    }
    // What the README reports: UDP datagrams lost while no daemon ran and while the next one adopted.
    const lostDown = udpR.lostIn(killedAt, adoptedAt);
    console.log(`restart at ${hook}: killed at ${killedAt.toFixed(1)} s, adopted at ${adoptedAt.toFixed(1)} s; UDP lost ${lostDown} of ${udpR.packets} in that window, ${udpR.lost} in all; TCP MB per 0.5 s: ${tcpR.intervals.map((i) => Math.round(i.bytes / 1e6)).join(' ')}`);
    // The streams ran their whole 8 s (an aborted one would have stopped reporting).
    for (const r of [tcpR, udpR]) expect(r.error).toBeUndefined();
    expect(tcpR.intervals.at(-1)!.end).toBeGreaterThan(7.5);
    expect(udpR.packets).toBeGreaterThan(0);
    // The CPU is shared: a few datagrams may drop under load, restart or not; a stall would lose thousands.
    expect(lostDown).toBeLessThan(250);

    await sleep(1100);
    const after = await ofctl('dump-flows', br);
    expect(flowSet(after)).toEqual(flowSet(before));
    expect(after).toContain('cookie=0x11');
    expect(nPackets(after, 'in_port=1')).toBeGreaterThan(nPackets(before, 'in_port=1'));
    expect(nPackets(after, 'in_port=2')).toBeGreaterThan(nPackets(before, 'in_port=2'));
    // The adopted daemon goes on serving: a new flow takes effect, ping still works.
    await ofctl('add-flow', br, 'priority=300,icmp,actions=drop');
    expect((await a.ping(b, { count: 2, timeoutS: 0.5 })).received).toBe(0);
    await ofctl('del-flows', br, '--strict', 'priority=300,icmp');
    expect(await a.ping(b, { count: 2 })).toEqual({ transmitted: 2, received: 2 });

    // SIGTERM removes everything: links, programs, pins, saved flows.
    second.child.kill('SIGTERM');
    expect(await second.exit).toBe(0);
    const pins = `vswitchd-${createHash('sha1').update(dir).digest('hex').slice(0, 8)}-${br}`;
    expect((await run(['sh', '-c', `ls -d /sys/fs/bpf/xdpswitch/v*/${pins}`], { allowFail: true })).code).not.toBe(0);
    expect(existsSync(join(dir, `${br}.ofstate`))).toBe(false);
    for (const p of [a.port, b.port]) {
      const link = (await run(['ip', '-d', 'link', 'show', p])).stdout;
      expect(link).not.toContain('prog/xdp');
      expect(await tcx(p)).toBe(0);
    }
  }, 90_000);
});

test('ovs-appctl exit leaves the datapath; pins of a bridge deleted meanwhile are removed at the next start', async () => {
  const topo = await Topology.create();
  const dir = topo.dir;
  const env = { ...process.env, OVS_RUNDIR: dir, OVS_DBDIR: dir, OVS_LOGDIR: dir };
  const vsctl = (...a: string[]) => run(['ovs-vsctl', '--timeout=30', ...a], { env });
  const br = topo.name('br');
  const [p0] = await topo.vethPair('p0', 'q0');
  const [p1] = await topo.vethPair('p1', 'q1');
  const first = start(dir);
  await waitFor(() => existsSync(join(dir, 'db.sock')), 'db.sock', 30_000, 100);
  const i0 = topo.name('i0');
  await vsctl('add-br', br, '--', 'add-port', br, p0, '--', 'add-port', br, p1, '--', 'set', 'Interface', p1, 'other_config:datapath-hook=xdp', '--', 'add-port', br, i0, '--', 'set', 'Interface', i0, 'type=internal');
  const uuid = (await vsctl('get', 'Bridge', br, '_uuid')).stdout.trim();
  const pins = `vswitchd-${createHash('sha1').update(dir).digest('hex').slice(0, 8)}-${br}`;
  const pinDir = (await run(['sh', '-c', `ls -d /sys/fs/bpf/xdpswitch/v*/${pins}`])).stdout.trim();
  expect((await run(['ls', pinDir])).stdout).toMatch(/tcx_ingress_\d+/);
  expect((await run(['ip', 'link', 'show', br])).code).toBe(0);
  // As OVS's: without --cleanup, exit leaves the datapath in place.
  await run(['ovs-appctl', '-t', join(dir, 'xdpswitch.ctl'), 'exit']);
  expect(await first.exit).toBe(0);
  expect(existsSync(join(dir, 'db.sock'))).toBe(false);
  expect(await tcx(p0)).toBe(1);
  expect((await run(['ip', '-d', 'link', 'show', p1])).stdout).toContain('prog/xdp');
  expect(existsSync(join(dir, `${br}.ofstate`))).toBe(true);

  // The database changes behind the daemon's back (its file is OVSDB's own format).
  const del = JSON.stringify(['Open_vSwitch', { op: 'mutate', table: 'Open_vSwitch', where: [], mutations: [['bridges', 'delete', ['uuid', uuid]]] }]);
  await run(['ovsdb-tool', 'transact', join(dir, 'conf.db'), del]);
  const second = start(dir);
  await waitFor(() => second.out().includes('no longer in the database'), 'the stale pins removed', 30_000, 50);
  expect(existsSync(pinDir)).toBe(false);
  expect(existsSync(join(dir, `${br}.ofstate`))).toBe(false);
  for (const dev of [br, i0]) expect((await run(['ip', 'link', 'show', dev], { allowFail: true })).code).not.toBe(0);
  expect(await tcx(p0)).toBe(0);
  expect((await run(['ip', '-d', 'link', 'show', p1])).stdout).not.toContain('prog/xdp');
  second.child.kill('SIGTERM');
  expect(await second.exit).toBe(0);
}, 60_000);

test('standalone: the NORMAL flow and its slow-path counters, PORT_MOD bits, group and meter stats survive a SIGKILL, and the bridge forwards again', async () => {
  const topo = await Topology.create();
  const dir = topo.dir;
  const env = { ...process.env, OVS_RUNDIR: dir, OVS_DBDIR: dir, OVS_LOGDIR: dir };
  const dump = async () => (await run(['ovs-ofctl', '--timeout=30', '-O', 'OpenFlow13', 'dump-flows', topo.name('br')], { env })).stdout;
  const [a, b] = (await topo.hosts(2, '10.252.33.0/24')) as [Host, Host];
  const br = topo.name('br');
  const first = start(dir);
  await waitFor(() => existsSync(join(dir, 'db.sock')), 'db.sock', 30_000, 100);
  await run(['ovs-vsctl', '--timeout=30', 'add-br', br, '--', 'add-port', br, a.port, '--', 'set', 'Interface', a.port, 'ofport_request=1', '--', 'add-port', br, b.port, '--', 'set', 'Interface', b.port, 'ofport_request=2'], { env });
  expect(await a.ping(b, { count: 5 })).toEqual({ transmitted: 5, received: 5 });
  const before = nPackets(await dump(), 'actions=NORMAL');
  expect(before).toBeGreaterThanOrEqual(10);
  // UDP from a through a meter and a group; a PORT_MOD bit on b.
  const ofctl = async (...args: string[]) => (await run(['ovs-ofctl', '--timeout=30', '-O', 'OpenFlow13', ...args], { env })).stdout;
  await ofctl('add-group', br, 'group_id=1,type=all,bucket=output:2');
  await ofctl('add-meter', br, 'meter=1,pktps,band=type=drop,rate=10000');
  await ofctl('add-flow', br, 'priority=10,in_port=1,udp,tp_dst=2222,actions=group:1');
  await ofctl('add-flow', br, 'priority=10,in_port=1,udp,tp_dst=3333,actions=meter:1,output:2');
  await ofctl('mod-port', br, b.port, 'no-packet-in');
  for (const port of [2222, 3333]) await a.scapySend(`Ether(src="${a.mac}",dst="${b.mac}")/IP(src="${a.ip}",dst="${b.ip}")/UDP(sport=1111,dport=${port})`, 7);
  const groupPackets = async () => Number(/group_id=1,.*?packet_count=(\d+)/.exec(await ofctl('dump-group-stats', br))?.[1] ?? -1);
  const meterPackets = async () => Number(/meter:1 .*?packet_in_count:(\d+)/s.exec(await ofctl('meter-stats', br))?.[1] ?? -1);
  const noPacketIn = async () => new RegExp(`\\(${b.port}\\):.*?\n\\s*config:\\s*NO_PACKET_IN`, 's').test(await ofctl('dump-ports-desc', br));
  expect(await groupPackets()).toBe(7);
  expect(await meterPackets()).toBe(7);
  expect(await noPacketIn()).toBe(true);
  await sleep(1200); // the slow path's counts are saved once a second
  first.child.kill('SIGKILL');
  await first.exit;
  const second = start(dir);
  await waitFor(() => second.out().includes(`${br}: adopted the pinned datapath: kept 3 flows`), 'the bridge adopted', 30_000, 50);
  await waitFor(() => existsSync(join(dir, `${br}.mgmt`)), 'the bridge socket', 30_000, 50);
  expect(nPackets(await dump(), 'actions=NORMAL')).toBeGreaterThanOrEqual(before);
  expect(await groupPackets()).toBe(7);
  expect(await meterPackets()).toBe(7);
  // NORMAL's learned MACs: the fast path's table is pinned, and fdb/show reads it.
  const fdb = (await run(['ovs-appctl', '-t', join(dir, 'xdpswitch.ctl'), 'fdb/show', br])).stdout.toLowerCase();
  for (const h of [a, b]) expect(fdb).toContain(h.mac.toLowerCase());
  await waitFor(noPacketIn, 'NO_PACKET_IN on the port again', 10_000, 100);
  expect(await a.ping(b, { count: 2 })).toEqual({ transmitted: 2, received: 2 });
  expect(nPackets(await dump(), 'actions=NORMAL')).toBeGreaterThanOrEqual(before + 4);
  second.child.kill('SIGTERM');
  expect(await second.exit).toBe(0);
}, 60_000);

test('the LOCAL port and patch ports keep forwarding across a SIGKILL and are adopted', async () => {
  const topo = await Topology.create();
  const dir = topo.dir;
  const env = { ...process.env, OVS_RUNDIR: dir, OVS_DBDIR: dir, OVS_LOGDIR: dir };
  const vsctl = (...x: string[]) => run(['ovs-vsctl', '--timeout=30', ...x], { env });
  const ofctl = (...x: string[]) => run(['ovs-ofctl', '--timeout=30', '-O', 'OpenFlow13', ...x], { env });
  const [a, b] = (await topo.hosts(2, '10.252.34.0/24')) as [Host, Host];
  const [br, br2, pa, pb] = [topo.name('br'), topo.name('b2'), topo.name('pa'), topo.name('pb')];
  const first = start(dir);
  await waitFor(() => existsSync(join(dir, 'db.sock')), 'db.sock', 30_000, 100);
  // a — br — patch — b2 — b, and the host on br's LOCAL port, all by flows (the fast path).
  const port = (bridge: string, dev: string, n: number) => ['--', 'add-port', bridge, dev, '--', 'set', 'Interface', dev, `ofport_request=${n}`];
  const patch = (dev: string, peer: string) => ['--', 'set', 'Interface', dev, 'type=patch', `options:peer=${peer}`];
  await vsctl('add-br', br, '--', 'set-fail-mode', br, 'secure', ...port(br, a.port, 1), ...port(br, pa, 2), ...patch(pa, pb));
  await vsctl('add-br', br2, '--', 'set-fail-mode', br2, 'secure', ...port(br2, b.port, 1), ...port(br2, pb, 2), ...patch(pb, pa));
  await run(['ip', 'addr', 'add', '10.252.34.250/24', 'dev', br]);
  await run(['ip', 'link', 'set', br, 'up']);
  for (const f of ['in_port=1,ip,nw_dst=10.252.34.250,actions=LOCAL', 'in_port=1,arp,arp_tpa=10.252.34.250,actions=LOCAL', 'in_port=LOCAL,actions=output:1', 'in_port=1,actions=output:2', 'in_port=2,actions=output:1']) await ofctl('add-flow', br, f);
  for (const f of ['in_port=1,actions=output:2', 'in_port=2,actions=output:1']) await ofctl('add-flow', br2, f);
  expect(await a.ping('10.252.34.250', { count: 2 })).toEqual({ transmitted: 2, received: 2 });
  expect(await a.ping(b, { count: 2 })).toEqual({ transmitted: 2, received: 2 });

  const toLocal = a.ping('10.252.34.250', { count: 25, intervalS: 0.2 });
  const acrossPatch = a.ping(b, { count: 25, intervalS: 0.2 });
  await sleep(1000);
  first.child.kill('SIGKILL');
  await first.exit;
  await sleep(1000);
  const second = start(dir);
  expect(await toLocal).toEqual({ transmitted: 25, received: 25 });
  expect(await acrossPatch).toEqual({ transmitted: 25, received: 25 });
  await waitFor(() => second.out().includes(`${br2}: patch port ${pb} (ofport 2) joined`), 'the patch ports adopted', 30_000, 50);
  expect(second.out()).toMatch(new RegExp(`${br}: ${br} \\(ofport 4294967294\\) runs the pipeline at TC ingress.*pinned tcx link kept`));
  expect(second.out()).toMatch(/patch port .* joined to .* \(pinned tcx link kept, program replaced in place\)/);
  second.child.kill('SIGTERM');
  expect(await second.exit).toBe(0);
}, 60_000);
