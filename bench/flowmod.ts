// Flow-mod benchmark: `xdpswitch start` beside a real OVS 3.1 (ovsdb-server + ovs-vswitchd,
// netdev datapath, in its own network namespace) in the same run, driven by the stock
// ovs-ofctl and by a raw OpenFlow client. Per switch:
//   add_flows_plain    ovs-ofctl -O OpenFlow13 add-flows of N flows            flows/s
//   add_flows_bundle   the same with --bundle                                   flows/s
//   raw_flowmods       N FLOW_MODs pumped over one connection, then a BARRIER   flows/s
//   dump_flows         ovs-ofctl -O OpenFlow13 dump-flows of the N flows        s
//   rss_flows          RSS of the process holding the N flows                   MB
// The flows are the shared harness's `udp,nw_dst=10.a.b.c,tp_dst=P,actions=output:2`
// (half of them) plus L2 and masked L3/L4 shapes in tables 0 and 1, all distinct.
// xdpswitch's bridge has two veth ports, so its flows are compiled into the XDP datapath.
//   npx tsx bench/flowmod.ts [--quick] [--only=xdpswitch|ovs]   (FLOWMOD_N=100000)
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { decodeMessage, encodeMessage, Framer, OfpError, type Message, type MessageOf } from '../src/openflow/index.js';
import type { OxmEntry } from '../proto/openflow/oxm.js';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..');
const quick = process.argv.includes('--quick');
const only = process.argv.find((a) => a.startsWith('--only='))?.slice('--only='.length);
const N = Number(process.env.FLOWMOD_N ?? (quick ? 10000 : 100000));
const BR = 'xfmbr';
const SCHEMA = '/usr/share/openvswitch/vswitch.ovsschema';
const tag = `xfm${process.pid % 10000}`;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// --- the flows ------------------------------------------------------------------------

const ip = (i: number, a = 10) => `${a}.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;
const mac = (i: number, hi: number) => `02:${hi.toString(16).padStart(2, '0')}:${[(i >> 24) & 255, (i >> 16) & 255, (i >> 8) & 255, i & 255].map((x) => x.toString(16).padStart(2, '0')).join(':')}`;

interface Flow {
  text: string;
  table_id: number;
  priority: number;
  match: OxmEntry[];
  instructions: MessageOf<'FLOW_MOD'>['instructions'];
}

const output = (port: number): Flow['instructions'] => [{ type: 'APPLY_ACTIONS', actions: [{ type: 'OUTPUT', port, max_len: 0 }] }];

/** Flow i: four shapes, the shared harness's L3/L4 one for half of them. */
function flow(i: number): Flow {
  switch (i % 4) {
    case 0:
    case 1:
      return {
        text: `table=0,priority=100,udp,nw_dst=${ip(i)},tp_dst=${1000 + (i % 50000)},actions=output:2`,
        table_id: 0,
        priority: 100,
        match: [
          { field: 'ETH_TYPE', value: 0x0800 },
          { field: 'IP_PROTO', value: 17 },
          { field: 'IPV4_DST', value: ip(i) },
          { field: 'UDP_DST', value: 1000 + (i % 50000) },
        ],
        instructions: output(2),
      };
    case 2:
      return {
        text: `table=0,priority=200,in_port=1,dl_src=${mac(i, 1)},dl_dst=${mac(i, 2)},actions=goto_table:1`,
        table_id: 0,
        priority: 200,
        match: [
          { field: 'IN_PORT', value: 1 },
          { field: 'ETH_DST', value: mac(i, 2) },
          { field: 'ETH_SRC', value: mac(i, 1) },
        ],
        instructions: [{ type: 'GOTO_TABLE', table_id: 1 }],
      };
    default:
      return {
        text: `table=1,priority=150,tcp,nw_src=${ip(i, 172)},nw_dst=192.168.0.0/16,tp_dst=80,actions=output:1`,
        table_id: 1,
        priority: 150,
        match: [
          { field: 'ETH_TYPE', value: 0x0800 },
          { field: 'IP_PROTO', value: 6 },
          { field: 'IPV4_SRC', value: ip(i, 172) },
          { field: 'IPV4_DST', value: '192.168.0.0', mask: '255.255.0.0' },
          { field: 'TCP_DST', value: 80 },
        ],
        instructions: output(1),
      };
  }
}

// --- the switches ---------------------------------------------------------------------

interface Switch {
  name: 'ovs' | 'xdpswitch';
  dir: string;
  env: NodeJS.ProcessEnv;
  /** The process that holds the flows. */
  pid: number;
  /** Its log, where a failed datapath write shows (xdpswitch). */
  log?: string;
  stop(): Promise<void>;
}

function run(argv: string[], env: NodeJS.ProcessEnv, input?: string): string {
  const r = spawnSync(argv[0] as string, argv.slice(1), { env, encoding: 'utf8', input, maxBuffer: 1 << 30 });
  if (r.status !== 0) throw new Error(`${argv.join(' ')}: exit ${r.status}: ${r.stderr}`);
  return r.stdout;
}

async function waitFor(path: string, proc: ChildProcess, ms = 60_000): Promise<void> {
  const end = Date.now() + ms;
  while (!existsSync(path)) {
    if (proc.exitCode !== null) throw new Error(`${proc.spawnargs.join(' ')} exited with ${proc.exitCode}`);
    if (Date.now() > end) throw new Error(`${path} did not appear`);
    await sleep(20);
  }
}

async function kill(proc: ChildProcess): Promise<void> {
  if (proc.exitCode !== null || proc.signalCode !== null) return;
  const gone = new Promise((r) => proc.once('exit', r));
  proc.kill('SIGTERM');
  const t = setTimeout(() => proc.kill('SIGKILL'), 10_000);
  await gone;
  clearTimeout(t);
}

/** Newest mtime of the .ts files under `dir`. */
function newest(dir: string): number {
  let m = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) m = Math.max(m, newest(p));
    else if (e.name.endsWith('.ts')) m = Math.max(m, statSync(p).mtimeMs);
  }
  return m;
}

/** `xdpswitch start` as users run it: the compiled daemon, or the sources through tsx if dist/ is stale. */
function xdpswitchArgv(): string[] {
  // FLOWMOD_MAIN: another compiled main.js (e.g. a patched build to compare).
  if (process.env.FLOWMOD_MAIN) return [process.env.FLOWMOD_MAIN, 'start'];
  const main = join(root, 'dist', 'src', 'cli', 'main.js');
  const fresh = existsSync(main) && statSync(main).mtimeMs >= Math.max(newest(join(root, 'src')), newest(join(root, 'proto')));
  if (fresh) return [main, 'start'];
  process.stderr.write('flowmod: dist/ is older than the sources (npm run build): running them through tsx\n');
  const tsx = new URL('../node_modules/tsx/dist/loader.mjs', import.meta.url).href;
  return ['--import', tsx, join(root, 'src', 'cli', 'main.ts'), 'start'];
}

async function startXdpswitch(work: string): Promise<Switch> {
  const dir = join(work, 'xdpswitch');
  run(['mkdir', '-p', dir], process.env);
  const env = { ...process.env, OVS_RUNDIR: dir, OVS_DBDIR: dir, OVS_LOGDIR: dir };
  // Extra node flags for the daemon (e.g. a profiler preload). Not --cpu-prof: its SIGPROF
  // interrupts the BPF verifier (EAGAIN).
  const prof = process.env.FLOWMOD_NODE_ARGS?.split(' ').filter(Boolean) ?? [];
  const out = openSync(join(work, 'xdpswitch.log'), 'a');
  const proc = spawn(process.execPath, [...prof, ...xdpswitchArgv()], { env, stdio: ['ignore', out, out] });
  const veths = [`${tag}a`, `${tag}b`];
  const stop = async () => {
    await kill(proc);
    for (const v of veths) spawnSync('ip', ['link', 'del', v], { stdio: 'ignore' });
  };
  try {
    await waitFor(join(dir, 'db.sock'), proc);
    run(['ovs-vsctl', '--timeout=60', 'add-br', BR, '--', 'set-fail-mode', BR, 'secure'], env);
    veths.forEach((v, k) => {
      run(['ip', 'link', 'add', v, 'type', 'veth', 'peer', 'name', `${v}p`], env);
      run(['ip', 'link', 'set', v, 'up'], env);
      run(['ip', 'link', 'set', `${v}p`, 'up'], env);
      run(['ovs-vsctl', '--timeout=60', 'add-port', BR, v, '--', 'set', 'Interface', v, `ofport_request=${k + 1}`], env);
    });
    await waitFor(join(dir, `${BR}.mgmt`), proc);
    // The flows must go into the compiled XDP pipeline, not the stand-in that only counts them.
    const log = readFileSync(join(work, 'xdpswitch.log'), 'utf8');
    if (!log.includes('compiled OpenFlow pipeline loaded')) throw new Error(`xdpswitch did not load the compiled XDP pipeline: ${/cannot load.*/.exec(log)?.[0] ?? '?'}`);
  } catch (e) {
    await stop();
    process.stderr.write(readFileSync(join(work, 'xdpswitch.log'), 'utf8').split('\n').slice(-20).join('\n'));
    throw e;
  }
  return { name: 'xdpswitch', dir, env, pid: proc.pid as number, log: join(work, 'xdpswitch.log'), stop };
}

async function startOvs(work: string): Promise<Switch> {
  const dir = join(work, 'ovs');
  run(['mkdir', '-p', dir], process.env);
  const env = { ...process.env, OVS_RUNDIR: dir, OVS_DBDIR: dir, OVS_LOGDIR: dir };
  const db = join(dir, 'conf.db');
  const sock = join(dir, 'db.sock');
  run(['ovsdb-tool', 'create', db, SCHEMA], env);
  const procs: ChildProcess[] = [];
  const stop = async () => {
    for (const p of procs.reverse()) await kill(p);
  };
  try {
    procs.push(spawn('ovsdb-server', [`--remote=punix:${sock}`, `--unixctl=${join(dir, 'ovsdb-server.ctl')}`, `--log-file=${join(dir, 'ovsdb-server.log')}`, db], { env, stdio: 'ignore' }));
    await waitFor(sock, procs[0] as ChildProcess);
    run(['ovs-vsctl', '--no-wait', 'init'], env);
    // Its own network namespace: the netdev datapath makes an `ovs-netdev` tap. unshare
    // execs ovs-vswitchd, so the pid is the daemon's.
    const vsd = spawn('unshare', ['--net', 'ovs-vswitchd', `--log-file=${join(dir, 'ovs-vswitchd.log')}`, `unix:${sock}`], { env, stdio: 'ignore' });
    procs.push(vsd);
    run(['ovs-vsctl', '--timeout=60', 'add-br', BR, '--', 'set', 'bridge', BR, 'datapath_type=netdev', '--', 'set-fail-mode', BR, 'secure'], env);
    await waitFor(join(dir, `${BR}.mgmt`), vsd);
    return { name: 'ovs', dir, env, pid: vsd.pid as number, stop };
  } catch (e) {
    await stop();
    throw e;
  }
}

// --- the measures ---------------------------------------------------------------------

function rssMB(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

const ofctl = (s: Switch, ...args: string[]) => run(['ovs-ofctl', '--timeout=600', '-O', 'OpenFlow13', ...args], s.env);

function flowCount(s: Switch): number {
  const m = /flow_count=(\d+)/.exec(ofctl(s, 'dump-aggregate', BR));
  return m ? Number(m[1]) : NaN;
}

function check(s: Switch, what: string): void {
  const n = flowCount(s);
  if (n !== N) throw new Error(`${s.name} ${what}: ${n} flows installed, not ${N}`);
}

function timed(fn: () => void): number {
  const t = performance.now();
  fn();
  return (performance.now() - t) / 1000;
}

/** A raw OpenFlow 1.3 session: HELLO, every FLOW_MOD in as few writes as the socket takes, a BARRIER. */
async function pump(s: Switch, mods: Uint8Array): Promise<{ seconds: number; errors: number }> {
  const sock = net.connect(join(s.dir, `${BR}.mgmt`));
  await new Promise<void>((res, rej) => sock.once('connect', res).once('error', rej));
  const framer = new Framer();
  const got: Message[] = [];
  let wake = () => {};
  sock.on('data', (chunk: Buffer) => {
    for (const f of framer.push(new Uint8Array(chunk))) {
      if (f[1] === 0) continue; // HELLO (OVS offers newer versions in its header)
      const m = decodeMessage(f);
      if (!(m instanceof OfpError)) got.push(m);
    }
    wake();
  });
  const until = (pred: () => boolean) =>
    new Promise<void>((resolve) => {
      const tick = () => (pred() ? resolve() : (wake = tick));
      tick();
    });
  sock.write(encodeMessage({ type: 'HELLO', xid: 1, elements: [{ type: 'VERSIONBITMAP', bitmaps: [0x10] }] }));
  sock.write(encodeMessage({ type: 'ECHO_REQUEST', xid: 2, data: new Uint8Array() }));
  await until(() => got.some((m) => m.type === 'ECHO_REPLY'));
  const t = performance.now();
  sock.write(mods);
  sock.write(encodeMessage({ type: 'BARRIER_REQUEST', xid: 3 }));
  await until(() => got.some((m) => m.type === 'BARRIER_REPLY'));
  const seconds = (performance.now() - t) / 1000;
  sock.destroy();
  return { seconds, errors: got.filter((m) => m.type === 'ERROR').length };
}

type Results = Map<string, { value: number; unit: string; higherIsBetter: boolean }>;

async function measure(s: Switch, file: string, mods: Uint8Array): Promise<Results> {
  const r: Results = new Map();
  const put = (name: string, value: number, unit: string, higherIsBetter: boolean) => {
    r.set(name, { value, unit, higherIsBetter });
    process.stdout.write(`flowmod.${s.name}.${name} ${value.toFixed(value < 10 ? 2 : 0)} ${unit}\n`);
  };
  await sleep(300);
  put('rss_empty', rssMB(s.pid), 'MB', false);

  ofctl(s, 'del-flows', BR);
  put('add_flows_plain', N / timed(() => ofctl(s, 'add-flows', BR, file)), 'flows/s', true);
  check(s, 'add-flows');
  let lines = 0;
  put('dump_flows', timed(() => (lines = ofctl(s, 'dump-flows', BR).split('\n').filter((l) => l.includes('actions=')).length)), 's', false);
  if (lines !== N) throw new Error(`${s.name} dump-flows printed ${lines} flows, not ${N}`);
  await sleep(500);
  put('rss_flows', rssMB(s.pid), 'MB', false);

  ofctl(s, 'del-flows', BR);
  put('add_flows_bundle', N / timed(() => ofctl(s, '--bundle', 'add-flows', BR, file)), 'flows/s', true);
  check(s, 'add-flows --bundle');

  ofctl(s, 'del-flows', BR);
  const p = await pump(s, mods);
  if (p.errors) throw new Error(`${s.name}: ${p.errors} flow mods refused`);
  put('raw_flowmods', N / p.seconds, 'flows/s', true);
  check(s, 'raw flow mods');
  // The model may hold flows the datapath refused (a full map): the rates would then be wrong.
  if (s.log) {
    const errors = readFileSync(s.log, 'utf8').split('\n').filter((l) => l.includes('|ERR|'));
    process.stdout.write(`flowmod.${s.name}.errors_logged ${errors.length} lines\n`);
    if (errors.length) process.stderr.write(`flowmod: WARNING ${s.name} logged ${errors.length} errors, the first: ${errors[0]}\n`);
  }
  return r;
}

async function main(): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), 'xsw-bench-flowmod-'));
  const file = join(work, 'flows.txt');
  const flows = Array.from({ length: N }, (_, i) => flow(i));
  writeFileSync(file, flows.map((f) => f.text).join('\n') + '\n');
  const parts = flows.map((f, i) =>
    encodeMessage({
      type: 'FLOW_MOD', xid: 100 + i, cookie: 0n, cookie_mask: 0n, table_id: f.table_id, command: 'ADD', idle_timeout: 0, hard_timeout: 0,
      priority: f.priority, buffer_id: 0xffffffff, out_port: 0xffffffff, out_group: 0xffffffff, flags: 0, match: f.match, instructions: f.instructions,
    }),
  );
  const mods = Buffer.concat(parts);
  const results: Partial<Record<Switch['name'], Results>> = {};
  try {
    for (const [name, start] of [['ovs', startOvs], ['xdpswitch', startXdpswitch]] as const) {
      if (only && only !== name) continue;
      process.stderr.write(`flowmod: ${name}, ${N} flows\n`);
      const s = await start(work);
      // FLOWMOD_SIGNAL=1: SIGUSR2 to the daemon around the measures (a profiler preload's start/stop).
      const signal = () => process.env.FLOWMOD_SIGNAL && name === 'xdpswitch' && process.kill(s.pid, 'SIGUSR2');
      try {
        signal();
        results[name] = await measure(s, file, mods);
        signal();
        await sleep(1000);
      } finally {
        await s.stop();
      }
    }
  } finally {
    if (process.env.FLOWMOD_KEEP) process.stderr.write(`flowmod: kept ${work}\n`);
    else rmSync(work, { recursive: true, force: true });
  }
  const ovs = results.ovs;
  const xdp = results.xdpswitch;
  if (!ovs || !xdp) return;
  process.stdout.write(`\n${N} flows\n\n| measure | ovs-vswitchd 3.1 | xdpswitch | ratio (>1: xdpswitch better) |\n|---|---|---|---|\n`);
  for (const [name, a] of ovs) {
    const b = xdp.get(name);
    if (!b) continue;
    const ratio = a.higherIsBetter ? b.value / a.value : a.value / b.value;
    process.stdout.write(`| ${name} | ${a.value.toFixed(2)} ${a.unit} | ${b.value.toFixed(2)} ${b.unit} | ${ratio.toFixed(2)} |\n`);
  }
}

await main();
