// The stateful firewall (conntrack) under load, beside its references, in one run:
//   xdpswitch   `xdpswitch start`, the classic firewall installed with ovs-ofctl
//               (ct(table=1); +new from inside committed; +est both ways);
//   ovs-afxdp   OVS 3.1, userspace datapath and conntrack, afxdp ports, same flows;
//   xdp         bare XDP redirect between the two ports (no conntrack: the ceiling).
// Per variant: a TCP stream (iperf3, Gbit/s), a UDP stream of 100-byte datagrams at
// the highest rate the sender reaches (received packets/s), and the time to the first
// packet of a new connection (TCP connect() from inside, median of 5; ping's first RTT).
// Hosts send with checksum offload, TSO and GSO off: frames an XDP program redirects
// keep no partial checksum (design.md), so every variant gets the same frames.
// Prints `name value unit` lines and a markdown table (ratios to OVS and to bare XDP).
//   npx tsx bench/ct.ts [--seconds=N] [--only=xdpswitch,ovs-afxdp,xdp]
// Everything is named xbc<pid>…, lives in build/bench-ct-*, and is removed at the end
// (Ctrl-C included); only processes this script started are ended, by PID.
import { type ChildProcess, spawn } from 'node:child_process';
import { end, sh, sleep, started, track, waitFile } from './proc.js';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Datapath } from '../src/datapath/datapath.js';
import { getLink } from '../src/native/netlink.js';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..');
const arg = (name: string) => process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
const SECONDS = Number(arg('seconds') ?? 5);
const only = arg('only')?.split(',');
const id = `xbc${process.pid % 10000}`;
const [H1, H2] = [`${id}h1`, `${id}h2`];
const [P1, P2] = [`${id}a`, `${id}b`];
const [IP1, IP2] = ['10.79.0.1', '10.79.0.2'];

const FIREWALL = [
  'table=0,priority=100,ip,ct_state=-trk,actions=ct(table=1)',
  'table=1,priority=100,in_port=1,ip,ct_state=+trk+new,actions=ct(commit),output:2',
  'table=1,priority=100,in_port=1,ip,ct_state=+trk+est,actions=output:2',
  'table=1,priority=100,in_port=2,ip,ct_state=+trk+est,actions=output:1',
  'table=1,priority=90,in_port=2,ip,ct_state=+trk+new,actions=drop',
];

const cleanups: (() => Promise<void>)[] = [];

const inNs = (ns: string, argv: string[]) => ['ip', 'netns', 'exec', ns, ...argv];

/** Two hosts, each in a namespace with a veth whose other end (P1, P2) is left in the root namespace. */
async function hosts(): Promise<void> {
  for (const [ns, port, ip] of [[H1, P1, IP1], [H2, P2, IP2]] as const) {
    await sh(['ip', 'netns', 'add', ns]);
    cleanups.push(() => sh(['ip', 'netns', 'del', ns], { allowFail: true }).then(() => undefined));
    await sh(['ip', 'link', 'add', port, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns]);
    cleanups.push(() => sh(['ip', 'link', 'del', port], { allowFail: true }).then(() => undefined));
    await sh(inNs(ns, ['ip', 'addr', 'add', `${ip}/24`, 'dev', 'eth0']));
    for (const dev of ['lo', 'eth0']) await sh(inNs(ns, ['ip', 'link', 'set', dev, 'up']));
    await sh(['ip', 'link', 'set', port, 'up']);
    await sh(inNs(ns, ['ethtool', '-K', 'eth0', 'tx', 'off', 'tso', 'off', 'gso', 'off', 'gro', 'on']));
    await sh(inNs(ns, ['sysctl', '-qw', 'net.ipv6.conf.all.disable_ipv6=1']));
  }
  const mac = async (ns: string) => JSON.parse((await sh(inNs(ns, ['ip', '-j', 'link', 'show', 'eth0']))).stdout)[0].address as string;
  const [m1, m2] = [await mac(H1), await mac(H2)];
  await sh(inNs(H1, ['ip', 'neigh', 'replace', IP2, 'lladdr', m2, 'nud', 'permanent', 'dev', 'eth0']));
  await sh(inNs(H2, ['ip', 'neigh', 'replace', IP1, 'lladdr', m1, 'nud', 'permanent', 'dev', 'eth0']));
}

interface Variant {
  name: string;
  up(work: string): Promise<void>;
  down(): Promise<void>;
}

function xdpswitchArgv(): string[] {
  const dist = join(root, 'dist', 'src', 'cli', 'main.js');
  const newest = (dir: string): number =>
    readdirSync(dir, { withFileTypes: true }).reduce((m, e) => Math.max(m, e.isDirectory() ? newest(join(dir, e.name)) : statSync(join(dir, e.name)).mtimeMs), 0);
  if (existsSync(dist) && statSync(dist).mtimeMs >= newest(join(root, 'src'))) return [process.execPath, dist];
  return [process.execPath, '--import', new URL('../node_modules/tsx/dist/loader.mjs', import.meta.url).href, join(root, 'src', 'cli', 'main.ts')];
}

async function firewall(env: NodeJS.ProcessEnv, pre: string[], br: string): Promise<void> {
  for (const f of FIREWALL) await sh([...pre, 'ovs-ofctl', '-O', 'OpenFlow13', 'add-flow', br, f], { env });
}

const xdpswitch: Variant = (() => {
  let daemon: ChildProcess | undefined;
  return {
    name: 'xdpswitch',
    async up(work) {
      const rundir = join(work, 'xdpswitch');
      mkdirSync(rundir, { recursive: true });
      const env = { ...process.env, OVS_RUNDIR: rundir, OVS_DBDIR: rundir, OVS_LOGDIR: rundir };
      daemon = track(spawn(xdpswitchArgv()[0]!, [...xdpswitchArgv().slice(1), 'start', '--log-file'], { env, stdio: 'ignore' }));
      await waitFile(join(rundir, 'db.sock'), 30_000);
      const br = `${id}br`;
      await sh(['ovs-vsctl', '--timeout=30', 'add-br', br, '--', 'set-fail-mode', br, 'secure', '--', 'add-port', br, P1, '--', 'set', 'Interface', P1, 'ofport_request=1', '--', 'add-port', br, P2, '--', 'set', 'Interface', P2, 'ofport_request=2'], { env });
      await firewall(env, [], br);
    },
    async down() {
      if (daemon) await end(daemon);
      await sh(['conntrack', '-D', '-s', '10.79.0.0/24'], { allowFail: true });
      await sh(['conntrack', '-D', '-d', '10.79.0.0/24'], { allowFail: true });
    },
  };
})();

const ovsAfxdp: Variant = (() => {
  const procs: ChildProcess[] = [];
  const ns = `${id}ovs`;
  return {
    name: 'ovs-afxdp',
    async up(work) {
      const rundir = join(work, 'ovs');
      mkdirSync(rundir, { recursive: true });
      const env = { ...process.env, OVS_RUNDIR: rundir, OVS_DBDIR: rundir, OVS_LOGDIR: rundir };
      await sh(['ip', 'netns', 'add', ns]);
      for (const p of [P1, P2]) {
        await sh(['ip', 'link', 'set', p, 'netns', ns]);
        await sh(inNs(ns, ['ip', 'link', 'set', p, 'up']));
      }
      const db = join(rundir, 'conf.db');
      await sh(['ovsdb-tool', 'create', db, '/usr/share/openvswitch/vswitch.ovsschema']);
      procs.push(track(spawn('ovsdb-server', [db, `--remote=punix:${rundir}/db.sock`, `--unixctl=${rundir}/ovsdb-server.ctl`, '--no-chdir', `--log-file=${rundir}/ovsdb-server.log`], { env, stdio: 'ignore' })));
      await waitFile(join(rundir, 'db.sock'), 10_000);
      await sh(['ovs-vsctl', '--no-wait', 'init'], { env });
      procs.push(track(spawn('ip', inNs(ns, ['ovs-vswitchd', `unix:${rundir}/db.sock`, `--unixctl=${rundir}/ovs-vswitchd.ctl`, '--no-chdir', `--log-file=${rundir}/ovs-vswitchd.log`]).slice(1), { env, stdio: 'ignore' })));
      const br = `${id}br`;
      const opts = ['options:xdp-mode=native', 'options:use-need-wakeup=false'];
      await sh(['ovs-vsctl', '--timeout=30', 'add-br', br, '--', 'set', 'bridge', br, 'datapath_type=netdev', 'fail-mode=secure', '--', 'add-port', br, P1, '--', 'set', 'Interface', P1, 'type=afxdp', ...opts, 'ofport_request=1', '--', 'add-port', br, P2, '--', 'set', 'Interface', P2, 'type=afxdp', ...opts, 'ofport_request=2'], { env });
      await firewall(env, [], br);
      await sleep(2000);
    },
    async down() {
      for (const p of procs.splice(0).reverse()) await end(p);
      // The ports go back to the root namespace for the next variant.
      for (const p of [P1, P2]) await sh(inNs(ns, ['ip', 'link', 'set', p, 'netns', '1']), { allowFail: true });
      for (const p of [P1, P2]) await sh(['ip', 'link', 'set', p, 'up'], { allowFail: true });
      await sh(['ip', 'netns', 'del', ns], { allowFail: true });
    },
  };
})();

const bareXdp: Variant = (() => {
  let dp: Datapath | undefined;
  return {
    name: 'xdp',
    async up() {
      dp = Datapath.open(`${id}-xdp`);
      const [a, b] = [(await getLink(P1)).ifindex, (await getLink(P2)).ifindex];
      dp.addPort(a, { hook: 'xdp', ofport: 1, verdict: { action: 'redirect', outIfindex: b } });
      dp.addPort(b, { hook: 'xdp', ofport: 2, verdict: { action: 'redirect', outIfindex: a } });
    },
    async down() {
      dp?.close({ unpin: true });
      dp = undefined;
    },
  };
})();

interface Result {
  tcpGbps: number;
  udpKpps: number;
  connectMs: number;
  pingMs: number;
}

interface IperfJson {
  end?: { sum_received?: { bits_per_second?: number }; sum?: { packets?: number; lost_packets?: number; seconds?: number } };
}

/** One iperf3 run from H1 to H2: the client's report and the server's (what arrived). */
async function iperf(args: string[], port: number): Promise<{ client: IperfJson; server: IperfJson }> {
  const srv = track(spawn('ip', inNs(H2, ['iperf3', '-s', '-1', '-J', '-B', IP2, '-p', String(port)]).slice(1), { stdio: ['ignore', 'pipe', 'ignore'] }));
  let srvOut = '';
  srv.stdout!.on('data', (d: Buffer) => (srvOut += d.toString()));
  const srvDone = new Promise((r) => srv.once('exit', r));
  await sleep(400);
  const r = await sh(inNs(H1, ['iperf3', '-c', IP2, '-p', String(port), '-t', String(SECONDS), '-J', ...args]), { allowFail: true, timeoutMs: (SECONDS + 30) * 1000 });
  await Promise.race([srvDone, sleep(3000)]);
  await end(srv);
  const parse = (t: string): IperfJson => {
    try {
      return JSON.parse(t) as IperfJson;
    } catch {
      return {};
    }
  };
  return { client: parse(r.stdout), server: parse(srvOut) };
}

/** Median time (ms) of a TCP connect() from inside to a listener outside, each a new connection. */
async function connectMs(): Promise<number> {
  const srv = track(spawn('ip', inNs(H2, ['python3', '-c', `import socket\ns=socket.socket()\ns.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)\ns.bind(("${IP2}", 5301))\ns.listen(64)\nwhile True:\n  c,_=s.accept(); c.close()`]).slice(1), { stdio: 'ignore' }));
  await sleep(500);
  // Each attempt a new connection (a new source port); a failed one is left out of the median.
  const script = `import socket, time\nts=[]\nfor i in range(5):\n  t=time.perf_counter()\n  try:\n    c=socket.create_connection(("${IP2}", 5301), timeout=3); ts.append((time.perf_counter()-t)*1000); c.close()\n  except OSError: pass\n  time.sleep(0.05)\nts.sort(); print(ts[len(ts)//2] if ts else "nan")`;
  const r = await sh(inNs(H1, ['/usr/bin/python3', '-c', script]), { allowFail: true, timeoutMs: 30_000 });
  await end(srv);
  return Number(r.stdout.trim()) || NaN;
}

async function pingMs(): Promise<number> {
  const r = await sh(inNs(H1, ['ping', '-n', '-c', '1', '-W', '2', IP2]), { allowFail: true });
  return Number(/time=([\d.]+) ms/.exec(r.stdout)?.[1] ?? NaN);
}

async function measure(v: Variant, work: string): Promise<Result> {
  await v.up(work);
  try {
    const first = await pingMs();
    const connect = await connectMs();
    const tcp = await iperf([], 5201);
    const udp = await iperf(['-u', '-b', '0', '-l', '100'], 5202);
    // What the receiver counted: the sender's flood may starve the client's own report.
    const s = udp.server.end?.sum;
    const received = (s?.packets ?? 0) - (s?.lost_packets ?? 0);
    return { tcpGbps: (tcp.client.end?.sum_received?.bits_per_second ?? 0) / 1e9, udpKpps: received / (s?.seconds || SECONDS) / 1000, connectMs: connect, pingMs: first };
  } finally {
    await v.down();
  }
}

async function main(): Promise<void> {
  const work = mkdtempSync(join(root, 'build', 'bench-ct-'));
  cleanups.push(async () => rmSync(work, { recursive: true, force: true }));
  await hosts();
  const results = new Map<string, Result>();
  for (const v of [xdpswitch, ovsAfxdp, bareXdp]) {
    if (only && !only.includes(v.name)) continue;
    process.stderr.write(`bench ct: ${v.name}\n`);
    try {
      const r = await measure(v, work);
      results.set(v.name, r);
      console.log(`ct.${v.name}.tcp ${r.tcpGbps.toFixed(3)} Gbit/s`);
      console.log(`ct.${v.name}.udp100 ${r.udpKpps.toFixed(1)} kpps`);
      console.log(`ct.${v.name}.first_connect ${r.connectMs.toFixed(3)} ms`);
      console.log(`ct.${v.name}.first_ping ${r.pingMs.toFixed(3)} ms`);
    } catch (e) {
      process.stderr.write(`bench ct: ${v.name} failed: ${e instanceof Error ? e.message : String(e)}\n`);
    }
  }
  const ovs = results.get('ovs-afxdp');
  const xdp = results.get('xdp');
  const ratio = (a: number, b: number | undefined) => (b && Number.isFinite(a / b) ? (a / b).toFixed(2) : '–');
  const num = (v: number, digits: number) => (Number.isFinite(v) ? v.toFixed(digits) : '–');
  console.log('\n| variant | TCP Gbit/s | UDP 100 B kpps | first TCP connect ms | first ping ms | TCP vs OVS | UDP vs OVS | TCP vs XDP | UDP vs XDP |');
  console.log('|---|---|---|---|---|---|---|---|---|');
  for (const [name, r] of results)
    console.log(`| ${name} | ${num(r.tcpGbps, 3)} | ${num(r.udpKpps, 1)} | ${num(r.connectMs, 2)} | ${num(r.pingMs, 2)} | ${ratio(r.tcpGbps, ovs?.tcpGbps)} | ${ratio(r.udpKpps, ovs?.udpKpps)} | ${ratio(r.tcpGbps, xdp?.tcpGbps)} | ${ratio(r.udpKpps, xdp?.udpKpps)} |`);
}

let cleaning = false;
async function cleanup(): Promise<void> {
  if (cleaning) return;
  cleaning = true;
  for (const c of [...started]) await end(c);
  for (const f of cleanups.reverse()) await f().catch(() => undefined);
}
process.on('SIGINT', () => void cleanup().then(() => process.exit(130)));
main()
  .catch((e) => {
    process.stderr.write(`bench ct: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exitCode = 1;
  })
  .finally(() => cleanup());
