// OVSDB server benchmark: xdpswitch beside the real ovsdb-server 3.1 on the same
// machine, each in its own process on its own copy of an `ovsdb-tool create`d file.
// Prints `name value unit` lines for both and a ratio per line (>1 = xdpswitch better),
// and the server's CPU time for each line (`cpu_NAME`: user + system from
// /proc/PID/stat), which scheduling noise on a busy machine disturbs less.
//   npx tsx bench/ovsdb.ts [--quick] [--only=xdpswitch|ovsdb-server]
// OVSDB_BENCH_MAIN=path/to/cli/main.js runs that build of xdpswitch (A/B of two builds).
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import net from 'node:net';
import { OvsdbClient } from '../src/ovsdb/client.js';
import { JsonStream } from '../src/ovsdb/json.js';
import type { Operation } from '../proto/ovsdb/protocol.js';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..');
const quick = process.argv.includes('--quick');
const SCHEMA = '/usr/share/openvswitch/vswitch.ovsschema';

interface Server {
  name: 'ovsdb-server' | 'xdpswitch';
  proc: ChildProcess;
  remote: string;
  dir: string;
  env: NodeJS.ProcessEnv;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitForSocket(path: string, proc: ChildProcess): Promise<void> {
  for (let i = 0; i < 400; i++) {
    if (existsSync(path)) return;
    if (proc.exitCode !== null) throw new Error(`server exited with ${proc.exitCode}`);
    await sleep(25);
  }
  throw new Error(`${path} never appeared`);
}

async function start(name: Server['name'], base: string, work: string): Promise<Server> {
  const dir = join(work, name);
  execFileSync('mkdir', ['-p', dir]);
  const db = join(dir, 'conf.db');
  copyFileSync(base, db);
  const sock = join(dir, 'db.sock');
  const env = { ...process.env, OVS_RUNDIR: dir, OVS_LOGDIR: dir, OVS_DBDIR: dir };
  let proc: ChildProcess;
  if (name === 'ovsdb-server') {
    proc = spawn('ovsdb-server', [`--remote=punix:${sock}`, `--unixctl=${join(dir, 'ctl')}`, '--no-chdir', db], { env, stdio: 'ignore' });
  } else {
    // The compiled server, as users run it; the sources through tsx if dist/ is stale.
    const dist = join(root, 'dist', 'src', 'cli', 'main.js');
    const built = join(root, 'dist', 'src', 'ovsdb', 'server.js');
    const fresh = existsSync(built) && statSync(built).mtimeMs >= statSync(join(root, 'src', 'ovsdb', 'server.ts')).mtimeMs;
    const tsx = new URL('../node_modules/tsx/dist/loader.mjs', import.meta.url).href;
    const main = process.env.OVSDB_BENCH_MAIN;
    const args = main ? [main] : fresh ? [dist] : ['--import', tsx, join(root, 'src', 'cli', 'main.ts')];
    // OVSDB_BENCH_NODE_ARGS (e.g. "--cpu-prof --cpu-prof-dir=DIR") goes to the server's node.
    const nodeArgs = (process.env.OVSDB_BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean);
    proc = spawn(process.execPath, [...nodeArgs, ...args, 'ovsdb-server', `--remote=punix:${sock}`, db], { env, stdio: 'ignore' });
  }
  await waitForSocket(sock, proc);
  return { name, proc, remote: `unix:${sock}`, dir, env };
}

function rssKiB(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) : NaN;
}

/** CPU time (user + system, all threads) the process has used, in ms (10 ms steps). */
function cpuMs(pid: number): number {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
  return (Number(f[11]) + Number(f[12])) * 10;
}

function vsctl(s: Server, args: string[]): void {
  execFileSync('ovs-vsctl', [`--db=${s.remote}`, '--no-wait', ...args], { env: s.env, stdio: 'ignore' });
}

/** Ports with one interface each, attached to `bridge`, in one transaction. */
function portOps(bridge: string, from: number, n: number): Operation[] {
  const ops: Operation[] = [];
  const ports: ['named-uuid', string][] = [];
  for (let i = from; i < from + n; i++) {
    ops.push({ op: 'insert', table: 'Interface', row: { name: `p${i}`, type: 'internal' }, 'uuid-name': `i${i}` });
    ops.push({ op: 'insert', table: 'Port', row: { name: `p${i}`, interfaces: ['named-uuid', `i${i}`] }, 'uuid-name': `p${i}` });
    ports.push(['named-uuid', `p${i}`]);
  }
  ops.push({ op: 'mutate', table: 'Bridge', where: [['name', '==', bridge]], mutations: [['ports', 'insert', ['set', ports]]] });
  return ops;
}

type Results = Map<string, { value: number; unit: string; higherIsBetter: boolean }>;

async function measure(s: Server): Promise<Results> {
  const r: Results = new Map();
  const pid = s.proc.pid as number;
  let cpu = cpuMs(pid);
  const line = (name: string, value: number, unit: string, higherIsBetter: boolean) => {
    r.set(name, { value, unit, higherIsBetter });
    process.stdout.write(`${s.name} ${name} ${value.toFixed(value < 10 ? 2 : 0)} ${unit}\n`);
  };
  /** A measured line, and the server CPU it took since the previous one (from `mark()`). */
  const put = (name: string, value: number, unit: string, higherIsBetter: boolean) => {
    line(name, value, unit, higherIsBetter);
    if (unit !== 'MB') line(`cpu_${name}`, cpuMs(pid) - cpu, 'ms', false);
  };
  const mark = () => (cpu = cpuMs(pid));
  await sleep(300);
  put('rss_empty', rssKiB(s.proc.pid as number) / 1024, 'MB', false);

  // ovs-vsctl --no-wait calls per second (the client's own start-up dominates).
  vsctl(s, ['init']);
  vsctl(s, ['add-br', 'br0']);
  const nVsctl = quick ? 30 : 100;
  mark();
  let t = performance.now();
  for (let i = 0; i < nVsctl; i++) vsctl(s, ['set', 'bridge', 'br0', `external_ids:k=${i}`]);
  put('vsctl_calls', nVsctl / ((performance.now() - t) / 1000), 'calls/s', true);

  const c = await OvsdbClient.connect(s.remote);

  // One transaction inserting 10,000 rows (5,000 ports with one interface each).
  mark();
  t = performance.now();
  await c.transact('Open_vSwitch', ...portOps('br0', 0, 5000));
  put('bulk_10k_rows', 10000 / ((performance.now() - t) / 1000), 'rows/s', true);

  // 10,000 one-row transactions from 4 client processes, 50 in flight each; the
  // clients are raw sockets, so the server, not the load generator, is measured.
  const nSmall = quick ? 2000 : 10000;
  mark();
  put('txn_1row_pipelined', await load(s, 'p', 4, nSmall / 4, 50), 'txn/s', true);

  // One at a time: each waits for the previous reply. Not the same work: ovsdb-server
  // 3.1 writes each commit with one write(2) and syncs only for {"op":"commit",
  // "durable":true} (one fdatasync); xdpswitch puts every commit on the disk before
  // its reply (one O_DSYNC pwrite per event-loop turn, shared by concurrent clients),
  // so this line mostly measures the disk's sync latency.
  const nSeq = quick ? 300 : 1000;
  mark();
  put('txn_1row_sequential', await load(s, 's', 1, nSeq, 1), 'txn/s', true);

  // 100 monitors (100 connections) seeing one change.
  const watchers: OvsdbClient[] = [];
  for (let i = 0; i < 100; i++) {
    // ovsdb-server listens with a short backlog: wait for each to be accepted.
    const w = await OvsdbClient.connect(s.remote);
    await w.echo();
    watchers.push(w);
  }
  const mons = await Promise.all(watchers.map((w) => w.monitor('Open_vSwitch', { Bridge: ['name', 'external_ids'] })));
  const rounds = 10;
  let total = 0;
  mark();
  for (let k = 0; k < rounds; k++) {
    const seen = mons.map((m) => new Promise<void>((resolve) => m.once('change', () => resolve())));
    t = performance.now();
    const reply = c.transact('Open_vSwitch', {
      op: 'mutate',
      table: 'Bridge',
      where: [['name', '==', 'br0']],
      mutations: [['external_ids', 'insert', ['map', [[`m${k}`, 'x']]]]],
    });
    // From the request to the last monitor's update (not the requester's own reply).
    await Promise.all(seen);
    total += performance.now() - t;
    await reply;
  }
  put('monitors_100_see_change', total / rounds, 'ms', false);
  for (const w of watchers) w.close();

  // Resident memory at 100,000 rows (10,000 already in; 45,000 more port/interface pairs).
  const target = 100000 - 10000 - nSmall - nSeq;
  for (let done = 0; done < target; done += 10000) {
    const n = Math.min(10000, target - done) / 2;
    await c.transact('Open_vSwitch', ...portOps('br0', 100000 + done, n));
  }
  await sleep(500);
  put('rss_100k_rows', rssKiB(s.proc.pid as number) / 1024, 'MB', false);
  c.close();
  return r;
}

/**
 * Runs `procs` load processes (this script with --load): each connects and says
 * "ready", all start on "go", each reports its elapsed ms. Returns transactions/s.
 */
async function load(s: Server, prefix: string, procs: number, n: number, window: number): Promise<number> {
  const self = fileURLToPath(import.meta.url);
  const tsx = new URL('../node_modules/tsx/dist/loader.mjs', import.meta.url).href;
  const sock = s.remote.slice('unix:'.length);
  const children = Array.from({ length: procs }, (_, k) =>
    spawn(process.execPath, ['--import', tsx, self, '--load', sock, `${prefix}${k}-`, String(n), String(window)], {
      stdio: ['pipe', 'pipe', 'inherit'],
    }),
  );
  const lines = children.map((child) => {
    const out: string[] = [];
    let buf = '';
    child.stdout.on('data', (d: Buffer) => {
      buf += d.toString();
      const parts = buf.split('\n');
      buf = parts.pop() as string;
      out.push(...parts);
    });
    return out;
  });
  const waitLine = async (k: number, i: number) => {
    while ((lines[k] as string[]).length <= i) {
      if (children[k]?.exitCode !== null) throw new Error('load process died');
      await sleep(5);
    }
    return (lines[k] as string[])[i] as string;
  };
  await Promise.all(children.map((_, k) => waitLine(k, 0)));
  for (const child of children) child.stdin.write('go\n');
  const elapsed = await Promise.all(children.map(async (_, k) => Number(await waitLine(k, 1))));
  return (procs * n) / (Math.max(...elapsed) / 1000);
}

/** --load SOCK PREFIX N WINDOW: N one-row inserts over one raw connection, WINDOW in flight. */
async function loadWorker(sock: string, prefix: string, n: number, window: number): Promise<void> {
  const conn = net.connect(sock);
  await new Promise((r) => conn.once('connect', r));
  const stream = new JsonStream();
  const request = (i: number) =>
    `{"id":${i},"method":"transact","params":["Open_vSwitch",{"op":"insert","table":"QoS","row":{"type":"${prefix}${i}"}}]}`;
  process.stdout.write('ready\n');
  await new Promise((r) => process.stdin.once('data', r));
  let sent = 0;
  let done = 0;
  const t = performance.now();
  await new Promise<void>((resolve) => {
    const fill = () => {
      let batch = '';
      while (sent < n && sent - done < window) batch += request(sent++);
      if (batch) conn.write(batch);
    };
    conn.on('data', (d: Buffer) => {
      done += stream.feed(d).length;
      if (done >= n) resolve();
      else fill();
    });
    fill();
  });
  process.stdout.write(`${performance.now() - t}\n`);
  conn.destroy();
  process.exit(0);
}

async function main(): Promise<void> {
  if (process.argv[2] === '--load') {
    const [, , , sock, prefix, n, window] = process.argv;
    await loadWorker(sock as string, prefix as string, Number(n), Number(window));
    return;
  }
  const work = mkdtempSync(join(tmpdir(), 'xsw-bench-ovsdb-'));
  const base = join(work, 'base.db');
  execFileSync('ovsdb-tool', ['create', base, SCHEMA]);
  const results: Record<string, Results> = {};
  try {
    const only = process.argv.find((a) => a.startsWith('--only='))?.slice('--only='.length);
    for (const name of ['ovsdb-server', 'xdpswitch'] as const) {
      if (only && only !== name) continue;
      const s = await start(name, base, work);
      try {
        results[name] = await measure(s);
      } finally {
        s.proc.kill('SIGTERM');
        await new Promise((r) => s.proc.once('exit', r));
      }
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  const ovs = results['ovsdb-server'];
  const xdp = results.xdpswitch;
  if (!ovs || !xdp) return;
  process.stdout.write('\n| measure | ovsdb-server | xdpswitch | ratio (>1: xdpswitch better) |\n|---|---|---|---|\n');
  for (const [name, a] of ovs) {
    const b = xdp.get(name);
    if (!b) continue;
    const ratio = a.higherIsBetter ? b.value / a.value : a.value / b.value;
    // CPU times are counted in 10 ms ticks: a zero says "too little to tell", not "free".
    const shown = a.value > 0 && b.value > 0 ? ratio.toFixed(2) : '-';
    process.stdout.write(`| ${name} | ${a.value.toFixed(2)} ${a.unit} | ${b.value.toFixed(2)} ${b.unit} | ${shown} |\n`);
  }
}

await main();
