// `xdpswitch demo`: the switch as a user meets it. Starts the daemon on a private run
// dir, builds four hosts in network namespaces and joins them on a bridge with the stock
// `ovs-vsctl`; then, in one of three modes, something programs the bridge:
//   - controller (default): the os-ken learning switch in examples/, set with
//     `ovs-vsctl set-controller`, learns MACs from packet-ins and installs flows;
//   - standalone: fail_mode standalone and no controller, so the bridge is a NORMAL
//     (MAC-learning) switch;
//   - static: `ovs-ofctl add-flow`, one flow per host MAC.
// Then pings across, streams TCP through the compiled pipeline and prints
// `ovs-ofctl dump-flows` with its counters. Everything it creates (namespaces, veths,
// the daemon's bridge, the controller process, the run dir) is removed on exit, Ctrl-C
// included; it ends only the processes it started, by PID.
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { appendFileSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs, promisify } from 'node:util';
import { createVeth, deleteLink, setLinkUp } from '../../native/netlink.js';
import { Daemon } from '../../vswitchd/daemon.js';
import type { Command } from '../command.js';
import { UsageError } from '../command.js';
import { version } from '../main.js';

const exec = promisify(execFile);

type Mode = 'controller' | 'standalone' | 'static';

const usage = `usage: xdpswitch demo [--standalone | --static] [--seconds N]

Starts xdpswitch on a private run dir, builds four hosts (network namespaces) on a
bridge with ovs-vsctl, and lets one of these program it:
  (default)      an OpenFlow 1.3 controller: the os-ken learning switch
                 examples/osken-learning-switch.py, started on a free loopback port
                 and set with ovs-vsctl set-controller; it learns MACs from
                 packet-ins and installs one flow per conversation
  --standalone   no controller, fail_mode standalone: the bridge forwards as a
                 MAC-learning switch (NORMAL)
  --static       fail_mode secure and ovs-ofctl add-flow, one flow per host MAC
                 (broadcasts FLOOD)
Then:
  1. pings from the first host to the three others,
  2. streams TCP (iperf3) between two hosts, which keep their default offloads: the
     veth ports run the pipeline at TC ingress,
  3. prints ovs-ofctl dump-flows with the packet counters the BPF pipeline kept.
Removes everything it created when done or interrupted (Ctrl-C). Needs root.

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

function track(child: ChildProcess): ChildProcess {
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}

async function endChildren(): Promise<void> {
  await Promise.all(
    [...children].map(
      (c) =>
        new Promise<void>((resolve) => {
          if (c.exitCode !== null || c.signalCode !== null) return resolve();
          const timer = setTimeout(() => c.kill('SIGKILL'), 3000);
          c.once('exit', () => (clearTimeout(timer), resolve()));
          c.kill('SIGTERM');
        }),
    ),
  );
}

async function ping(from: DemoHost, to: DemoHost, count: number): Promise<string> {
  const r = await exec('ip', ['netns', 'exec', from.ns, 'ping', '-n', '-q', '-c', String(count), '-i', '0.2', '-W', '3', to.ip]).catch(
    (e: { stdout?: string }) => ({ stdout: e.stdout ?? '' }),
  );
  return /\d+ packets transmitted, \d+ received[^\n]*/.exec(r.stdout)?.[0] ?? 'no answer';
}

/** A TCP stream from `client` to `server`; the rate received, or why there was none. */
async function iperf(client: DemoHost, server: DemoHost, seconds: number): Promise<{ ok: boolean; text: string }> {
  const srv = track(spawn('ip', ['netns', 'exec', server.ns, 'iperf3', '-s', '-1', '-B', server.ip], { stdio: 'ignore' }));
  try {
    await new Promise((r) => setTimeout(r, 500));
    const r = await exec('ip', ['netns', 'exec', client.ns, 'iperf3', '-c', server.ip, '-t', String(seconds), '-J'], {
      timeout: (seconds + 8) * 1000,
    }).catch((e: { stdout?: string; killed?: boolean }) => ({ stdout: e.stdout ?? '', killed: e.killed }));
    const j = JSON.parse(r.stdout || '{}') as { end?: { sum_received?: { bits_per_second?: number } }; error?: string };
    const bps = j.end?.sum_received?.bits_per_second ?? 0;
    if (bps > 0) return { ok: true, text: `${(bps / 1e9).toFixed(2)} Gbit/s` };
    return { ok: false, text: `no stream (${j.error ?? ('killed' in r && r.killed ? `iperf3 got no result within ${seconds + 8} s` : 'iperf3 failed')})` };
  } finally {
    if (srv.exitCode === null) srv.kill('SIGTERM');
  }
}

/** The learning-switch app, next to the sources (src/…) or the compiled files (dist/src/…). */
function findApp(): string | undefined {
  for (const up of ['../../../examples/', '../../../../examples/']) {
    const path = fileURLToPath(new URL(`${up}osken-learning-switch.py`, import.meta.url));
    if (existsSync(path)) return path;
  }
  return undefined;
}

async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise((r) => s.close(r));
  return port;
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1', () => (s.destroy(), resolve(true)));
    s.once('error', () => resolve(false));
  });
}

/** osken-manager running the learning switch on a free loopback port, its events relayed as progress lines. */
class OsKenController {
  readonly events: string[] = [];
  private stderr = '';
  private constructor(
    readonly port: number,
    readonly child: ChildProcess,
  ) {}

  static async start(app: string, onEvent: (line: string) => void): Promise<OsKenController> {
    const port = await freePort();
    const args = ['--ofp-listen-host', '127.0.0.1', '--ofp-tcp-listen-port', String(port), app];
    // Debian's python has os-ken; a pyenv `python3` earlier in PATH may not.
    const argv = existsSync('/usr/bin/osken-manager') ? ['/usr/bin/osken-manager', ...args] : ['/usr/bin/python3', '-m', 'os_ken.cmd.manager', ...args];
    const child = track(spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] }));
    const c = new OsKenController(port, child);
    let pending = '';
    child.stdout!.on('data', (b: Buffer) => {
      const lines = (pending + b.toString()).split('\n');
      pending = lines.pop() ?? '';
      for (const l of lines) {
        const i = l.indexOf('xsw-learn: ');
        if (i < 0) continue;
        c.events.push(l.slice(i + 11));
        onEvent(l.slice(i + 11));
      }
    });
    child.stderr!.on('data', (b: Buffer) => (c.stderr = (c.stderr + b.toString()).slice(-4000)));
    const deadline = Date.now() + 20_000;
    while (!(await canConnect(port))) {
      if (child.exitCode !== null || child.signalCode !== null) throw new Error(`osken-manager exited before listening:\n${c.stderr.trim()}`);
      if (Date.now() > deadline) throw new Error(`osken-manager did not listen on 127.0.0.1:${port} within 20 s:\n${c.stderr.trim()}`);
      await new Promise((r) => setTimeout(r, 200));
    }
    return c;
  }
}

async function runDemo(mode: Mode, seconds: number): Promise<number> {
  const topo = new DemoTopology();
  const rundir = mkdtempSync(join(tmpdir(), 'xdpswitch-demo-'));
  const env = { ...process.env, OVS_RUNDIR: rundir, OVS_DBDIR: rundir, OVS_LOGDIR: rundir };
  const vsctl = (...args: string[]) => exec('ovs-vsctl', ['--timeout=20', ...args], { env });
  const ofctl = (...args: string[]) => exec('ovs-ofctl', ['-O', 'OpenFlow13', '--timeout=20', ...args], { env });
  const log = join(rundir, 'xdpswitch.log');
  let daemon: Daemon | undefined;
  let cleaned: Promise<void> | undefined;
  const cleanup = () =>
    (cleaned ??= (async () => {
      await endChildren();
      await daemon?.close().catch(() => undefined);
      daemon = undefined;
      await topo.destroy();
      rmSync(rundir, { recursive: true, force: true });
    })());
  const onSignal = () => {
    step('interrupted: removing what the demo created');
    void cleanup().then(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    let app: string | undefined;
    if (mode === 'controller') {
      app = findApp();
      if (!app) {
        process.stderr.write('xdpswitch demo: examples/osken-learning-switch.py not found next to the program; try --standalone\n');
        return 1;
      }
    }
    step(`starting xdpswitch on ${rundir} (log: ${log})`);
    daemon = await Daemon.start({
      rundir,
      db: join(rundir, 'conf.db'),
      sink: { write: (module, level, text) => appendFileSync(log, `${level} ${module}: ${text}\n`) },
      version: version(),
    });
    let controller: OsKenController | undefined;
    if (app) {
      step(`starting the os-ken learning switch (${app})`);
      try {
        controller = await OsKenController.start(app, (e) => process.stdout.write(`[controller] ${e}\n`));
      } catch (e) {
        process.stderr.write(`xdpswitch demo: the controller did not start (${(e as Error).message.trim()});\n  it needs os-ken (Debian: python3-os-ken); or run the demo with --standalone or --static\n`);
        return 1;
      }
      step(`os-ken listening on tcp:127.0.0.1:${controller.port} (pid ${controller.child.pid})`);
    }
    step(`creating hosts ${topo.hosts.map((h) => `${h.ns} (${h.ip})`).join(', ')}`);
    await topo.create();
    const br = existsSync('/sys/class/net/br0') ? `${topo.prefix}br` : 'br0';
    const ports = topo.hosts.flatMap((h) => ['--', 'add-port', br, h.port, '--', 'set', 'Interface', h.port, `ofport_request=${h.ofport}`]);
    const failMode = mode === 'standalone' ? 'standalone' : 'secure';
    step(`ovs-vsctl add-br ${br}, set-fail-mode ${failMode}, add-port × ${topo.hosts.length}`);
    await vsctl('add-br', br, '--', 'set-fail-mode', br, failMode, ...ports);
    if (controller) {
      step(`ovs-vsctl set-controller ${br} tcp:127.0.0.1:${controller.port}`);
      await vsctl('set-controller', br, `tcp:127.0.0.1:${controller.port}`);
      const deadline = Date.now() + 15_000;
      for (;;) {
        const connected = (await vsctl('get', 'Controller', br, 'is_connected')).stdout.trim();
        if (connected === 'true') break;
        if (Date.now() > deadline) throw new Error(`the controller did not connect within 15 s (Controller is_connected=${connected})`);
        await new Promise((r) => setTimeout(r, 100));
      }
      const role = (await vsctl('get', 'Controller', br, 'role')).stdout.trim();
      step(`Controller is_connected=true role=${role}: packets the bridge has no flow for go to os-ken`);
    } else if (mode === 'static') {
      step('ovs-ofctl add-flow: one flow per host MAC, broadcasts FLOOD');
      for (const h of topo.hosts) await ofctl('add-flow', br, `priority=100,dl_dst=${h.mac},actions=output:${h.ofport}`);
      await ofctl('add-flow', br, 'priority=10,dl_dst=ff:ff:ff:ff:ff:ff,actions=FLOOD');
    } else {
      step('no controller: fail_mode standalone makes the bridge a MAC-learning switch (NORMAL)');
    }
    const [h1, ...others] = topo.hosts as [DemoHost, ...DemoHost[]];
    const failed: string[] = [];
    for (const h of others) {
      const result = await ping(h1, h, 3);
      step(`ping ${h1.ip} → ${h.ip}: ${result}`);
      if (!/ 0% packet loss/.test(result)) failed.push(`ping ${h1.ip} → ${h.ip}`);
    }
    step(`TCP ${h1.ip} → ${others[0]!.ip} for ${seconds} s, default offloads: streaming…`);
    const tcp = await iperf(h1, others[0]!, seconds);
    step(`TCP ${h1.ip} → ${others[0]!.ip} for ${seconds} s, default offloads: ${tcp.text}`);
    if (!tcp.ok) failed.push(`TCP ${h1.ip} → ${others[0]!.ip}`);
    await new Promise((r) => setTimeout(r, 1100)); // counters reach the model each second
    if (controller) {
      const learned = controller.events.filter((e) => e.startsWith('learned ')).length;
      const installed = controller.events.filter((e) => e.startsWith('flow installed ')).length;
      step(`os-ken learned ${learned} MAC addresses from packet-ins and installed ${installed} flows`);
    }
    const { stdout } = await ofctl('dump-flows', br);
    step(`ovs-ofctl dump-flows ${br}:`);
    for (const line of stdout.trim().split('\n')) process.stdout.write(`    ${line.trim()}\n`);
    if (failed.length) step(`FAILED: ${failed.join(', ')}`);
    step(`done: stopping ${controller ? 'os-ken and ' : ''}xdpswitch, removing the hosts`);
    return failed.length ? 1 : 0;
  } finally {
    await cleanup();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

const demo: Command = {
  name: 'demo',
  summary: 'four hosts on an xdpswitch bridge under an os-ken controller (or standalone): ping, TCP, flow counters',
  usage,
  async run(argv) {
    let values: { seconds?: string; standalone?: boolean; static?: boolean };
    try {
      ({ values } = parseArgs({
        args: argv,
        options: { seconds: { type: 'string' }, standalone: { type: 'boolean' }, static: { type: 'boolean' } },
        strict: true,
      }));
    } catch (e) {
      throw new UsageError((e as Error).message);
    }
    const seconds = Number(values.seconds ?? 3);
    if (!Number.isInteger(seconds) || seconds < 1 || seconds > 60) throw new UsageError(`--seconds wants 1..60, got ${values.seconds}`);
    if (values.standalone && values.static) throw new UsageError('--standalone and --static exclude each other');
    const mode: Mode = values.standalone ? 'standalone' : values.static ? 'static' : 'controller';
    if (process.getuid?.() !== 0) {
      process.stderr.write('xdpswitch demo: must run as root (namespaces and BPF programs)\n');
      return 1;
    }
    return runDemo(mode, seconds);
  },
};

export default demo;
