// `xdpswitch demo`: two hosts in network namespaces joined by the xdpswitch datapath,
// first at XDP (ping), then at TC ingress (a TCP stream with the hosts' default
// offloads), printing the per-CPU counters read back from the BPF maps. Everything it
// creates is removed on exit, Ctrl-C included.
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { parseArgs, promisify } from 'node:util';
import { Datapath, type Hook } from '../../datapath/datapath.js';
import { createVeth, deleteLink, getLink, setLinkUp } from '../../native/netlink.js';
import type { Command } from '../command.js';
import { UsageError } from '../command.js';

const exec = promisify(execFile);

const usage = `usage: xdpswitch demo [--seconds N]

Builds two hosts (network namespaces) joined by the xdpswitch datapath and shows:
  1. ping between them forwarded by XDP (XDP_REDIRECT through a devmap),
  2. a TCP stream (iperf3) forwarded at TC ingress, the hosts keeping their default
     TX checksum and segmentation offloads,
with the per-port counters read from the datapath's per-CPU maps. Removes everything
it created when done or interrupted. Needs root.

  --seconds N   length of the TCP stream (default 3)`;

function step(msg: string): void {
  process.stdout.write(`[demo] ${msg}\n`);
}

class DemoTopology {
  readonly prefix = `xsd${process.pid % 100000}`;
  readonly hosts = ['a', 'b'].map((h, i) => ({
    ns: `${this.prefix}${h}`,
    port: `${this.prefix}${h}`,
    ip: `10.253.0.${i + 1}`,
  }));
  private created = false;

  async create(): Promise<void> {
    this.created = true;
    for (const h of this.hosts) {
      await exec('ip', ['netns', 'add', h.ns]);
      await createVeth(h.port, 'eth0', { peerNetns: h.ns });
      await setLinkUp(h.port, true);
      const inNs = (...args: string[]) => exec('ip', ['netns', 'exec', h.ns, ...args]);
      await inNs('ip', 'addr', 'add', `${h.ip}/24`, 'dev', 'eth0');
      await inNs('ip', 'link', 'set', 'lo', 'up');
      await inNs('ip', 'link', 'set', 'eth0', 'up');
      // A veth receives XDP-redirected frames only while its NAPI runs: GRO turns it on.
      await inNs('ethtool', '-K', 'eth0', 'gro', 'on');
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

function countersLine(dp: Datapath, ifindex: number, name: string): string {
  const s = dp.portStats(ifindex);
  return `${name}: rx ${s.rx_packets} pkts / ${s.rx_bytes} B, redirected out ${s.tx_packets} pkts / ${s.tx_bytes} B, drops ${s.drops}`;
}

async function ping(ns: string, ip: string, count: number): Promise<string> {
  const r = await exec('ip', ['netns', 'exec', ns, 'ping', '-n', '-q', '-c', String(count), '-i', '0.2', '-W', '1', ip]).catch(
    (e: { stdout?: string }) => ({ stdout: e.stdout ?? '' }),
  );
  return /\d+ packets transmitted, \d+ received[^\n]*/.exec(r.stdout)?.[0] ?? 'no answer';
}

/** Processes the demo started, ended by PID on exit (namespaces do not end them). */
const children = new Set<ChildProcess>();

async function iperf(client: string, server: string, serverIp: string, seconds: number): Promise<string> {
  const srv = spawn('ip', ['netns', 'exec', server, 'iperf3', '-s', '-1', '-B', serverIp], { stdio: 'ignore' });
  children.add(srv);
  srv.once('exit', () => children.delete(srv));
  try {
    await new Promise((r) => setTimeout(r, 500));
    const r = await exec('ip', ['netns', 'exec', client, 'iperf3', '-c', serverIp, '-t', String(seconds), '-J'], {
      timeout: (seconds + 15) * 1000,
    });
    const j = JSON.parse(r.stdout) as { end?: { sum_received?: { bits_per_second?: number } } };
    const bps = j.end?.sum_received?.bits_per_second ?? 0;
    return `${(bps / 1e9).toFixed(2)} Gbit/s`;
  } finally {
    if (srv.exitCode === null) srv.kill('SIGTERM');
  }
}

async function runDemo(seconds: number): Promise<number> {
  const topo = new DemoTopology();
  let dp: Datapath | undefined;
  const cleanup = async () => {
    for (const c of children) c.kill('SIGTERM');
    dp?.close({ unpin: true });
    dp = undefined;
    await topo.destroy();
  };
  const onSignal = () => {
    step('interrupted: removing what the demo created');
    void cleanup().then(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    step(`creating hosts ${topo.hosts.map((h) => `${h.ns} (${h.ip})`).join(' and ')}`);
    await topo.create();
    const [a, b] = topo.hosts as [(typeof topo.hosts)[0], (typeof topo.hosts)[0]];
    const ia = (await getLink(a.port)).ifindex;
    const ib = (await getLink(b.port)).ifindex;
    dp = Datapath.open(`demo-${process.pid}`);

    const join = (hook: Hook) => {
      dp!.removePort(ia);
      dp!.removePort(ib);
      dp!.addPort(ia, { hook, ofport: 1, verdict: { action: 'redirect', outIfindex: ib } });
      dp!.addPort(ib, { hook, ofport: 2, verdict: { action: 'redirect', outIfindex: ia } });
      step(`ports ${a.port} and ${b.port} joined at ${dp!.hookOf(ia)}`);
    };

    join('xdp');
    step(`ping ${a.ip} → ${b.ip} through XDP: ${await ping(a.ns, b.ip, 5)}`);
    step(countersLine(dp, ia, a.port));
    step(countersLine(dp, ib, b.port));

    join('tc');
    step(`TCP ${a.ip} → ${b.ip} for ${seconds} s through TC, default offloads: ${await iperf(a.ns, b.ns, b.ip, seconds)}`);
    step(countersLine(dp, ia, a.port));
    step(countersLine(dp, ib, b.port));
    step('done: removing the hosts and the datapath');
    return 0;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await cleanup();
  }
}

const demo: Command = {
  name: 'demo',
  summary: 'two namespaces joined by the XDP/TC datapath: ping, TCP and counters',
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
