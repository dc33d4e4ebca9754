// The switch as a whole, beside real OVS 3.1 (ovsdb-server + ovs-vswitchd with the
// userspace datapath: there is no openvswitch kernel module here), both driven only by
// the stock clients:
//   1. `ovs-vsctl add-br` + 100 `ovs-vsctl add-port` (veths, one command each, no
//      --no-wait: each returns once the port is live), two flows, until the first ping
//      between hosts on the first and last port gets through; the daemon's RSS then.
//   2. a UDP stream (iperf3, fixed rate) between those hosts while the daemon is killed
//      with SIGKILL and started again (xdpswitch: `xdpswitch start` on the same run dir,
//      which adopts the pinned pipeline; OVS: ovs-vswitchd, whose flows are then added
//      back as `ovs-ctl restart` would restore them): packets lost.
// Prints `name value unit` lines per switch and a markdown table with ratios (>1:
// xdpswitch better).
//   npx tsx bench/switch.ts [--ports=N] [--only=xdpswitch|ovs]
// Everything is named xbs<pid>…, lives in build/bench-switch-*, and is removed at the end
// (Ctrl-C included); only processes this script started are ended, by PID.
import { type ChildProcess, spawn } from 'node:child_process';
import { end, sh, sleep, started, track, waitFile } from './proc.js';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..');
const arg = (name: string) => process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
const NPORTS = Number(arg('ports') ?? 100);
const only = arg('only');
const id = `xbs${process.pid % 10000}`;
const UDP_RATE = '50M'; // bit/s, 1000-byte datagrams: ~6,250 packets/s
const UDP_SECONDS = 8;
const KILL_AT_MS = 2500;

const cleanups: (() => Promise<void>)[] = [];

function rssMB(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(m?.[1] ?? 0) / 1024;
}

/** The xdpswitch program: compiled (dist/) when it is at least as new as src/'s .ts files, else the sources through tsx. */
function xdpswitchArgv(): string[] {
  const dist = join(root, 'dist', 'src', 'cli', 'main.js');
  const newest = (dir: string): number =>
    readdirSync(dir, { withFileTypes: true }).reduce((m, e) => Math.max(m, e.isDirectory() ? newest(join(dir, e.name)) : e.name.endsWith('.ts') ? statSync(join(dir, e.name)).mtimeMs : 0), 0);
  if (existsSync(dist) && statSync(dist).mtimeMs >= newest(join(root, 'src'))) return [process.execPath, dist];
  return [process.execPath, '--import', new URL('../node_modules/tsx/dist/loader.mjs', import.meta.url).href, join(root, 'src', 'cli', 'main.ts')];
}

interface Sw {
  name: 'xdpswitch' | 'ovs';
  rundir: string;
  env: NodeJS.ProcessEnv;
  /** argv prefix that runs a command where the switch's ports live. */
  pre: string[];
  /** Processes making up the switch (RSS is their sum). */
  pids(): number[];
  /** SIGKILL the forwarding daemon and start it again; resolves once it serves again. */
  crashAndRestart(): Promise<void>;
  stop(): Promise<void>;
}

async function startXdpswitch(work: string): Promise<Sw> {
  const rundir = join(work, 'xdpswitch');
  mkdirSync(rundir, { recursive: true });
  const env = { ...process.env, OVS_RUNDIR: rundir, OVS_DBDIR: rundir, OVS_LOGDIR: rundir };
  const argv = [...xdpswitchArgv(), 'start', '--log-file'];
  process.stderr.write(`bench switch: xdpswitch runs as ${argv.slice(1).join(' ')}${argv.includes('--import') ? ' (dist/ is older than src/: RSS includes tsx)' : ''}\n`);
  let daemon: ChildProcess | undefined;
  const launch = async () => {
    rmSync(join(rundir, 'db.sock'), { force: true });
    daemon = track(spawn(argv[0]!, argv.slice(1), { env, stdio: 'ignore' }));
    await waitFile(join(rundir, 'db.sock'), 30_000);
    // Served once it has applied the database (cur_cfg caught up, bridges listening).
    await sh(['ovs-vsctl', '--timeout=30', 'set', 'Open_vSwitch', '.', `external_ids:bench-start=${Date.now()}`], { env });
  };
  await launch();
  return {
    name: 'xdpswitch',
    rundir,
    env,
    pre: [],
    pids: () => (daemon?.pid ? [daemon.pid] : []),
    async crashAndRestart() {
      await end(daemon!, 'SIGKILL');
      await launch();
    },
    async stop() {
      if (daemon) await end(daemon);
    },
  };
}

async function startOvs(work: string): Promise<Sw> {
  const rundir = join(work, 'ovs');
  mkdirSync(rundir, { recursive: true });
  const ns = `${id}ovs`;
  await sh(['ip', 'netns', 'add', ns]);
  cleanups.push(() => sh(['ip', 'netns', 'del', ns], { allowFail: true }).then(() => undefined));
  const env = { ...process.env, OVS_RUNDIR: rundir, OVS_DBDIR: rundir, OVS_LOGDIR: rundir };
  const db = join(rundir, 'conf.db');
  await sh(['ovsdb-tool', 'create', db, '/usr/share/openvswitch/vswitch.ovsschema']);
  const dbServer = track(
    spawn('ovsdb-server', [db, `--remote=punix:${rundir}/db.sock`, `--unixctl=${rundir}/ovsdb-server.ctl`, '--no-chdir', `--log-file=${rundir}/ovsdb-server.log`], { env, stdio: 'ignore' }),
  );
  await waitFile(join(rundir, 'db.sock'), 10_000);
  await sh(['ovs-vsctl', '--no-wait', 'init'], { env });
  let vswitchd: ChildProcess | undefined;
  const launch = async () => {
    vswitchd = track(
      spawn('ip', ['netns', 'exec', ns, 'ovs-vswitchd', `unix:${rundir}/db.sock`, `--unixctl=${rundir}/ovs-vswitchd.ctl`, '--no-chdir', `--log-file=${rundir}/ovs-vswitchd.log`], { env, stdio: 'ignore' }),
    );
    // Served again once it has applied the database (cur_cfg caught up).
    await sh(['ovs-vsctl', '--timeout=30', 'set', 'Open_vSwitch', '.', `external_ids:bench-start=${Date.now()}`], { env });
  };
  await launch();
  return {
    name: 'ovs',
    rundir,
    env,
    pre: ['ip', 'netns', 'exec', ns],
    pids: () => [dbServer.pid, vswitchd?.pid].filter((p): p is number => !!p),
    async crashAndRestart() {
      await end(vswitchd!, 'SIGKILL');
      await launch();
    },
    async stop() {
      if (vswitchd) await end(vswitchd);
      await end(dbServer);
    },
  };
}

interface Hosts {
  ports: string[];
  h1: string;
  h2: string;
}

/** NPORTS veth ports where the switch's ports live: the first and last lead to hosts h1 (10.77.0.1) and h2 (10.77.0.2). */
async function makePorts(sw: Sw): Promise<Hosts> {
  const ports = Array.from({ length: NPORTS }, (_, i) => `${id}p${i + 1}`);
  const h1 = `${id}h1`;
  const h2 = `${id}h2`;
  const batch: string[] = [];
  for (const p of ports.slice(1, -1)) batch.push(`link add ${p} type veth peer name ${p}x`, `link set ${p} up`, `link set ${p}x up`);
  const file = join(sw.rundir, 'veths.batch');
  writeFileSync(file, `${batch.join('\n')}\n`);
  cleanups.push(async () => {
    const del = join(sw.rundir, '..', `del-${sw.name}.batch`);
    writeFileSync(del, `${ports.map((p) => `link del ${p}`).join('\n')}\n`);
    await sh([...sw.pre, 'ip', '-force', '-batch', del], { allowFail: true });
  });
  await sh([...sw.pre, 'ip', '-batch', file]);
  const hosts: [string, string, string, string][] = [
    [h1, ports[0]!, '10.77.0.1', '02:77:00:00:00:01'],
    [h2, ports[NPORTS - 1]!, '10.77.0.2', '02:77:00:00:00:02'],
  ];
  for (const [ns, port, ip, mac] of hosts) {
    await sh(['ip', 'netns', 'add', ns]);
    cleanups.push(() => sh(['ip', 'netns', 'del', ns], { allowFail: true }).then(() => undefined));
    await sh(['ip', 'link', 'add', port, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns]);
    if (sw.pre.length) await sh(['ip', 'link', 'set', port, 'netns', sw.pre[3]!]);
    await sh([...sw.pre, 'ip', 'link', 'set', port, 'up']);
    const inNs = (...a: string[]) => sh(['ip', 'netns', 'exec', ns, ...a]);
    await inNs('ip', 'link', 'set', 'eth0', 'address', mac);
    await inNs('ip', 'addr', 'add', `${ip}/24`, 'dev', 'eth0');
    await inNs('ip', 'link', 'set', 'lo', 'up');
    await inNs('ip', 'link', 'set', 'eth0', 'up');
    // OVS's userspace datapath sends what it receives as is: with TX checksum offload on,
    // the frames it forwards carry unfinished checksums. Off on both hosts, for both switches.
    await inNs('ethtool', '-K', 'eth0', 'tx', 'off');
  }
  await sh(['ip', 'netns', 'exec', h1, 'ip', 'neigh', 'replace', '10.77.0.2', 'lladdr', '02:77:00:00:00:02', 'dev', 'eth0', 'nud', 'permanent']);
  await sh(['ip', 'netns', 'exec', h2, 'ip', 'neigh', 'replace', '10.77.0.1', 'lladdr', '02:77:00:00:00:01', 'dev', 'eth0', 'nud', 'permanent']);
  return { ports, h1, h2 };
}

type Results = Map<string, { value: number; unit: string; higherIsBetter: boolean }>;

const FLOWS = [`in_port=1,actions=output:${NPORTS}`, `in_port=${NPORTS},actions=output:1`];

async function measure(sw: Sw): Promise<Results> {
  const r: Results = new Map();
  const put = (name: string, value: number, unit: string, higherIsBetter: boolean) => {
    r.set(name, { value, unit, higherIsBetter });
    process.stdout.write(`${sw.name} ${name} ${Number.isInteger(value) || value >= 10 ? value.toFixed(0) : value.toFixed(3)} ${unit}\n`);
  };
  const vsctl = (...a: string[]) => sh(['ovs-vsctl', '--timeout=60', ...a], { env: sw.env });
  const ofctl = (...a: string[]) => sh(['ovs-ofctl', '-O', 'OpenFlow13', '--timeout=30', ...a], { env: sw.env });
  const { ports, h1, h2 } = await makePorts(sw);
  await sleep(300);
  const rss = () => sw.pids().reduce((s, p) => s + rssMB(p), 0);
  put('rss_empty', rss(), 'MB', false);

  const br = `${id}br`;
  cleanups.push(() => sh(['ovs-vsctl', '--timeout=10', '--if-exists', 'del-br', br], { env: sw.env, allowFail: true }).then(() => undefined));
  const dp = sw.name === 'ovs' ? ['--', 'set', 'Bridge', br, 'datapath_type=netdev'] : [];
  const t0 = performance.now();
  await vsctl('add-br', br, '--', 'set-fail-mode', br, 'secure', ...dp);
  const tBr = performance.now();
  for (const [i, p] of ports.entries()) await vsctl('add-port', br, p, '--', 'set', 'Interface', p, `ofport_request=${i + 1}`);
  const tPorts = performance.now();
  for (const f of FLOWS) await ofctl('add-flow', br, f);
  let pings = 0;
  for (;;) {
    pings++;
    const ok = (await sh(['ip', 'netns', 'exec', h1, 'ping', '-n', '-c1', '-W', '0.2', '10.77.0.2'], { allowFail: true })).code === 0;
    if (ok) break;
    if (performance.now() - t0 > 120_000) throw new Error(`${sw.name}: no ping through after 120 s`);
  }
  const tPing = performance.now();
  put('add_br_s', (tBr - t0) / 1000, 's', false);
  put(`add_port_x${NPORTS}_s`, (tPorts - tBr) / 1000, 's', false);
  put('add_port_mean_ms', (tPorts - tBr) / NPORTS, 'ms', false);
  put('to_first_ping_s', (tPing - t0) / 1000, 's', false);
  put('first_ping_attempts', pings, 'pings', false);
  await sleep(500);
  put(`rss_${NPORTS}_ports`, rss(), 'MB', false);

  // UDP through the two flows while the daemon is killed and restarted.
  const srvOut: string[] = [];
  const srv = track(spawn('ip', ['netns', 'exec', h2, 'iperf3', '-s', '-1', '-J', '-B', '10.77.0.2'], { stdio: ['ignore', 'pipe', 'ignore'] }));
  srv.stdout!.on('data', (b: Buffer) => srvOut.push(b.toString()));
  await sleep(500);
  const cli = track(
    spawn('ip', ['netns', 'exec', h1, 'iperf3', '-u', '-c', '10.77.0.2', '-b', UDP_RATE, '-l', '1000', '-t', String(UDP_SECONDS)], { stdio: 'ignore' }),
  );
  await sleep(KILL_AT_MS);
  const tk = performance.now();
  await sw.crashAndRestart();
  const tServing = performance.now();
  // OVS forgets its flows with the process (ovs-ctl restart saves and restores them); xdpswitch adopts its own.
  let dump = await sh(['ovs-ofctl', '-O', 'OpenFlow13', 'dump-flows', br], { env: sw.env, allowFail: true });
  for (let i = 0; dump.code !== 0 && i < 100; i++) {
    await sleep(50);
    dump = await sh(['ovs-ofctl', '-O', 'OpenFlow13', 'dump-flows', br], { env: sw.env, allowFail: true });
  }
  const kept = dump.stdout.split('\n').filter((l) => l.includes('in_port=')).length;
  if (kept < FLOWS.length) for (const f of FLOWS) await ofctl('add-flow', br, f);
  const tFlows = performance.now();
  put('restart_serving_s', (tServing - tk) / 1000, 's', false);
  put('restart_flows_back_s', (tFlows - tk) / 1000, 's', false);
  put('restart_flows_kept', kept, 'flows', true);
  await new Promise((res) => (cli.exitCode !== null ? res(null) : cli.once('exit', res)));
  await new Promise((res) => (srv.exitCode !== null ? res(null) : srv.once('exit', res)));
  const j = JSON.parse(srvOut.join('') || '{}') as { end?: { sum?: { lost_packets?: number; packets?: number } } };
  const lost = j.end?.sum?.lost_packets ?? NaN;
  const total = j.end?.sum?.packets ?? NaN;
  put('restart_udp_packets', total, 'packets', true);
  put('restart_udp_lost', lost, 'packets', false);
  put('restart_udp_lost_pct', (100 * lost) / total, '%', false);
  await vsctl('del-br', br);
  return r;
}

/**
 * Undoes, newest first (the bridge while its daemon still runs, then devices, namespaces),
 * then ends our processes. Calls queue behind each other, so a Ctrl-C in the middle and
 * the main flow's own clean-up never race and the process exits only after both.
 */
let cleaning: Promise<void> = Promise.resolve();
function cleanup(): Promise<void> {
  cleaning = cleaning.then(async () => {
    for (const f of cleanups.splice(0).reverse()) await f();
    for (const c of [...started]) await end(c);
  });
  return cleaning;
}

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error('bench/switch.ts needs root (namespaces, BPF)');
  mkdirSync(join(root, 'build'), { recursive: true });
  const work = mkdtempSync(join(root, 'build', 'bench-switch-'));
  const onSignal = () => {
    process.stderr.write('bench switch: interrupted, removing what it created\n');
    void cleanup().finally(() => (rmSync(work, { recursive: true, force: true }), process.exit(130)));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const results: Partial<Record<Sw['name'], Results>> = {};
  try {
    for (const name of ['ovs', 'xdpswitch'] as const) {
      if (only && only !== name) continue;
      process.stderr.write(`bench switch: ${name}\n`);
      const sw = name === 'ovs' ? await startOvs(work) : await startXdpswitch(work);
      try {
        results[name] = await measure(sw);
      } finally {
        await cleanup();
      }
    }
  } finally {
    await cleanup();
    rmSync(work, { recursive: true, force: true });
  }
  const ovs = results.ovs;
  const xdp = results.xdpswitch;
  if (!ovs || !xdp) return;
  process.stdout.write('\n| measure | OVS 3.1 (userspace dp) | xdpswitch | ratio (>1: xdpswitch better) |\n|---|---|---|---|\n');
  for (const [name, a] of ovs) {
    const b = xdp.get(name);
    if (!b) continue;
    // A loss of 0 counts as 1 packet, so the ratio stays finite (reported as "≥").
    const floor = name === 'restart_udp_lost' || name === 'restart_udp_lost_pct' ? (name.endsWith('pct') ? (100 * 1) / (xdp.get('restart_udp_packets')?.value ?? 1) : 1) : 0;
    const [av, bv] = [Math.max(a.value, floor), Math.max(b.value, floor)];
    const ratio = a.higherIsBetter ? bv / av : av / bv;
    const ge = floor && b.value < floor ? '≥ ' : '';
    const fmt = (v: number) => (Number.isInteger(v) || Math.abs(v) >= 10 ? v.toFixed(0) : v.toFixed(3));
    const shown = Number.isFinite(ratio) ? `${ge}${ratio.toFixed(2)}` : '—';
    process.stdout.write(`| ${name} | ${fmt(a.value)} ${a.unit} | ${fmt(b.value)} ${b.unit} | ${shown} |\n`);
  }
}

await main();
