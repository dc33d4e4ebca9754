// `xdpswitch demo`: the switch as a user meets it. Starts the daemon on a private run
// dir, builds four hosts in network namespaces, joins them on a bridge with the stock
// `ovs-vsctl`, installs MAC flows with `ovs-ofctl`, then pings across and streams TCP
// through the compiled pipeline and prints `ovs-ofctl dump-flows` with its counters.
// Everything it creates is removed on exit, Ctrl-C included.
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { appendFileSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs, promisify } from 'node:util';
import { createVeth, deleteLink, setLinkUp } from '../../native/netlink.js';
import { Daemon } from '../../vswitchd/daemon.js';
import type { Command } from '../command.js';
import { UsageError } from '../command.js';
import { version } from '../main.js';

const exec = promisify(execFile);

const usage = `usage: xdpswitch demo [--seconds N]

Starts xdpswitch on a private run dir, builds four hosts (network namespaces) on a
bridge with ovs-vsctl, installs one flow per host MAC with ovs-ofctl (broadcasts go
FLOOD, through the slow path), then:
  1. pings from the first host to the three others,
  2. streams TCP (iperf3) between two hosts, which keep their default offloads: the
     veth ports run the pipeline at TC ingress,
  3. prints ovs-ofctl dump-flows with the packet counters the BPF pipeline kept.
Removes everything it created when done or interrupted. Needs root.

  --seconds N   length of the TCP stream (default 3)`;

function step(msg: string): void {
  process.stdout.write(`[demo] ${msg}\n`);
}

interface DemoHost {
  ns: string;
  port: string;
  ip: string;
  mac: string;
  ofport: number;
}

class DemoTopology {
  readonly prefix = `xsd${process.pid % 100000}`;
  readonly hosts: DemoHost[] = [1, 2, 3, 4].map((n) => ({
    ns: `${this.prefix}h${n}`,
    port: `${this.prefix}h${n}`,
    ip: `10.253.0.${n}`,
    mac: `02:00:0a:fd:00:0${n}`,
    ofport: n,
  }));
  private created = false;

  async create(): Promise<void> {
    this.created = true;
    for (const h of this.hosts) {
      await exec('ip', ['netns', 'add', h.ns]);
      await createVeth(h.port, 'eth0', { peerNetns: h.ns });
      await setLinkUp(h.port, true);
      const inNs = (...args: string[]) => exec('ip', ['netns', 'exec', h.ns, ...args]);
      await inNs('ip', 'link', 'set', 'eth0', 'address', h.mac);
      await inNs('ip', 'addr', 'add', `${h.ip}/24`, 'dev', 'eth0');
      await inNs('ip', 'link', 'set', 'lo', 'up');
      await inNs('ip', 'link', 'set', 'eth0', 'up');
    }
  }

  async destroy(): Promise<void> {
    if (!this.created) return;
    this.created = false;
    for (const h of this.hosts) {
      await deleteLink(h.port).catch(() => undefined);
      await exec('ip', ['netns', 'del', h.ns]).catch(() => undefined);
    }
  }
}

/** Processes the demo started, ended by PID on exit (namespaces do not end them). */
const children = new Set<ChildProcess>();

async function ping(from: DemoHost, to: DemoHost, count: number): Promise<string> {
  const r = await exec('ip', ['netns', 'exec', from.ns, 'ping', '-n', '-q', '-c', String(count), '-i', '0.2', '-W', '1', to.ip]).catch(
    (e: { stdout?: string }) => ({ stdout: e.stdout ?? '' }),
  );
  return /\d+ packets transmitted, \d+ received[^\n]*/.exec(r.stdout)?.[0] ?? 'no answer';
}

async function iperf(client: DemoHost, server: DemoHost, seconds: number): Promise<string> {
  const srv = spawn('ip', ['netns', 'exec', server.ns, 'iperf3', '-s', '-1', '-B', server.ip], { stdio: 'ignore' });
  children.add(srv);
  srv.once('exit', () => children.delete(srv));
  try {
    await new Promise((r) => setTimeout(r, 500));
    const r = await exec('ip', ['netns', 'exec', client.ns, 'iperf3', '-c', server.ip, '-t', String(seconds), '-J'], {
      timeout: (seconds + 15) * 1000,
    });
    const j = JSON.parse(r.stdout) as { end?: { sum_received?: { bits_per_second?: number } } };
    return `${((j.end?.sum_received?.bits_per_second ?? 0) / 1e9).toFixed(2)} Gbit/s`;
  } finally {
    if (srv.exitCode === null) srv.kill('SIGTERM');
  }
}

async function runDemo(seconds: number): Promise<number> {
  const topo = new DemoTopology();
  const rundir = mkdtempSync(join(tmpdir(), 'xdpswitch-demo-'));
  const env = { ...process.env, OVS_RUNDIR: rundir, OVS_DBDIR: rundir, OVS_LOGDIR: rundir };
  const vsctl = (...args: string[]) => exec('ovs-vsctl', ['--timeout=20', ...args], { env });
  const ofctl = (...args: string[]) => exec('ovs-ofctl', ['-O', 'OpenFlow13', '--timeout=20', ...args], { env });
  const log = join(rundir, 'xdpswitch.log');
  let daemon: Daemon | undefined;
  const cleanup = async () => {
    for (const c of children) c.kill('SIGTERM');
    await daemon?.close().catch(() => undefined);
    daemon = undefined;
    await topo.destroy();
    rmSync(rundir, { recursive: true, force: true });
  };
  const onSignal = () => {
    step('interrupted: removing what the demo created');
    void cleanup().then(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    step(`starting xdpswitch on ${rundir} (log: ${log})`);
    daemon = await Daemon.start({
      rundir,
      db: join(rundir, 'conf.db'),
      sink: { write: (module, level, text) => appendFileSync(log, `${level} ${module}: ${text}\n`) },
      version: version(),
    });
    step(`creating hosts ${topo.hosts.map((h) => `${h.ns} (${h.ip})`).join(', ')}`);
    await topo.create();
    const br = existsSync('/sys/class/net/br0') ? `${topo.prefix}br` : 'br0';
    const ports = topo.hosts.flatMap((h) => ['--', 'add-port', br, h.port, '--', 'set', 'Interface', h.port, `ofport_request=${h.ofport}`]);
    step(`ovs-vsctl add-br ${br}, set-fail-mode secure, add-port × ${topo.hosts.length}`);
    await vsctl('add-br', br, '--', 'set-fail-mode', br, 'secure', ...ports);
    step('ovs-ofctl add-flow: one flow per host MAC, broadcasts FLOOD');
    for (const h of topo.hosts) await ofctl('add-flow', br, `priority=100,dl_dst=${h.mac},actions=output:${h.ofport}`);
    await ofctl('add-flow', br, 'priority=10,dl_dst=ff:ff:ff:ff:ff:ff,actions=FLOOD');
    const [h1, ...others] = topo.hosts as [DemoHost, ...DemoHost[]];
    for (const h of others) step(`ping ${h1.ip} → ${h.ip}: ${await ping(h1, h, 3)}`);
    step(`TCP ${h1.ip} → ${others[0]!.ip} for ${seconds} s, default offloads: ${await iperf(h1, others[0]!, seconds)}`);
    await new Promise((r) => setTimeout(r, 1100)); // counters reach the model each second
    const { stdout } = await ofctl('dump-flows', br);
    step(`ovs-ofctl dump-flows ${br}:`);
    for (const line of stdout.trim().split('\n')) process.stdout.write(`    ${line.trim()}\n`);
    step('done: stopping xdpswitch, removing the hosts');
    return 0;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await cleanup();
  }
}

const demo: Command = {
  name: 'demo',
  summary: 'four hosts on an xdpswitch bridge: ovs-vsctl, ovs-ofctl, ping, TCP and flow counters',
  usage,
  async run(argv) {
    let values: { seconds?: string };
    try {
      ({ values } = parseArgs({ args: argv, options: { seconds: { type: 'string' } }, strict: true }));
    } catch (e) {
      throw new UsageError((e as Error).message);
    }
    const seconds = Number(values.seconds ?? 3);
    if (!Number.isInteger(seconds) || seconds < 1 || seconds > 60) throw new UsageError(`--seconds wants 1..60, got ${values.seconds}`);
    if (process.getuid?.() !== 0) {
      process.stderr.write('xdpswitch demo: must run as root (namespaces and BPF programs)\n');
      return 1;
    }
    return runDemo(seconds);
  },
};

export default demo;
