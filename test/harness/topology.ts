// Throwaway network topologies for tests: namespaces joined to the root namespace by
// veths, uniquely named per test and removed even when the test fails (see cleanup.ts).
// Tests then read like the network: `await a.ping(b)`, `await b.capture(...)`.
import { randomBytes } from 'node:crypto';
import { type ChildProcess, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { register, unregister } from './cleanup.js';
import { run, type RunOptions, type RunResult, spawnChild, stopChild, waitFor } from './exec.js';

/** Debian's python, which has scapy and os-ken (a pyenv `python3` may shadow it). */
export const PYTHON = '/usr/bin/python3';

export interface PingResult {
  transmitted: number;
  received: number;
}

export interface Frame {
  data: Buffer;
  /** Length on the wire (may exceed data.length when the capture truncated it). */
  origLen: number;
}

export class Host {
  constructor(
    readonly topo: Topology,
    /** Short name within the topology, e.g. "h1". */
    readonly name: string,
    /** Network namespace the host lives in. */
    readonly ns: string,
    /** The veth end left in the root namespace: what a switch gets as its port. */
    readonly port: string,
    /** The host's interface inside its namespace. */
    readonly ifname: string,
    readonly ip: string,
    readonly prefixLen: number,
    readonly mac: string,
  ) {}

  /** Runs argv inside the host's namespace. */
  exec(argv: string[], opts?: RunOptions): Promise<RunResult> {
    return run(['ip', 'netns', 'exec', this.ns, ...argv], opts);
  }

  spawn(argv: string[]): ChildProcess {
    return this.topo.track(spawnChild(['ip', 'netns', 'exec', this.ns, ...argv]));
  }

  async ping(to: Host | string, opts: { count?: number; intervalS?: number; timeoutS?: number; size?: number } = {}): Promise<PingResult> {
    const dst = typeof to === 'string' ? to : to.ip;
    const count = opts.count ?? 3;
    const argv = ['ping', '-n', '-q', '-c', String(count), '-i', String(opts.intervalS ?? 0.2), '-W', String(opts.timeoutS ?? 1)];
    if (opts.size !== undefined) argv.push('-s', String(opts.size));
    const r = await this.exec([...argv, dst], { allowFail: true, timeoutMs: 30_000 + count * 2000 });
    const m = /(\d+) packets transmitted, (\d+) received/.exec(r.stdout);
    if (!m) throw new Error(`ping ${this.name} → ${dst}: unexpected output:\n${r.stdout}${r.stderr}`);
    return { transmitted: Number(m[1]), received: Number(m[2]) };
  }

  /** A TCP stream from this host to `server` for `seconds` (iperf3); Gbit/s received. */
  async iperf(server: Host, seconds: number): Promise<number> {
    const srv = server.spawn(['iperf3', '-s', '-1', '-B', server.ip]);
    await new Promise((r) => setTimeout(r, 400));
    const r = await this.exec(['iperf3', '-c', server.ip, '-t', String(seconds), '-J'], { timeoutMs: (seconds + 20) * 1000, allowFail: true });
    srv.kill('SIGTERM');
    const j = JSON.parse(r.stdout || '{}') as { end?: { sum_received?: { bits_per_second?: number } } };
    return (j.end?.sum_received?.bits_per_second ?? 0) / 1e9;
  }

  /** Turns an ethtool feature of the host's interface on or off (e.g. "tx-checksumming"). */
  async ethtool(feature: string, on: boolean): Promise<void> {
    await this.exec(['ethtool', '-K', this.ifname, feature, on ? 'on' : 'off']);
  }

  /**
   * Sends raw frames out of the host's interface (AF_PACKET), byte for byte.
   */
  async sendFrames(frames: Buffer[]): Promise<void> {
    const script = [
      'import socket, sys',
      `s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)`,
      `s.bind((${JSON.stringify(this.ifname)}, 0))`,
      'for line in sys.stdin.read().split():',
      '    s.send(bytes.fromhex(line))',
    ].join('\n');
    await this.exec([PYTHON, '-c', script], { input: frames.map((f) => f.toString('hex')).join('\n') });
  }

  /** Sends frames described in scapy syntax, e.g. `Ether(dst=...)/IP(...)/UDP()`. */
  async scapySend(expr: string, count = 1): Promise<void> {
    const script = `from scapy.all import *\nsendp(${expr}, iface=${JSON.stringify(this.ifname)}, count=${count}, verbose=False)`;
    await this.exec([PYTHON, '-c', script], { timeoutMs: 60_000 });
  }

  /**
   * Starts capturing on the host's interface; `stop()` returns the frames seen.
   * Resolves once tcpdump is listening, so frames sent afterwards are caught.
   */
  async capture(filter = '', opts: { inbound?: boolean } = {}): Promise<{ stop: () => Promise<Frame[]> }> {
    const file = join(this.topo.dir, `cap-${this.name}-${randomBytes(3).toString('hex')}.pcap`);
    const argv = ['tcpdump', '-Z', 'root', '-i', this.ifname, '--immediate-mode', '-U', '-n', '-s', '65535', '-w', file];
    if (opts.inbound) argv.push('-Q', 'in');
    if (filter) argv.push(...filter.split(' '));
    const child = this.spawn(argv);
    let stderr = '';
    child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    await waitFor(() => stderr.includes('listening on') || child.exitCode !== null, `tcpdump on ${this.name}`);
    if (child.exitCode !== null) throw new Error(`tcpdump on ${this.name} failed: ${stderr}`);
    return {
      stop: async () => {
        await stopChild(child, 'SIGINT');
        return parsePcap(readFileSync(file));
      },
    };
  }
}

/** Reads a classic pcap file (as tcpdump -w writes it). */
export function parsePcap(buf: Buffer): Frame[] {
  if (buf.length < 24) return [];
  const magic = buf.readUInt32LE(0);
  const le = magic === 0xa1b2c3d4 || magic === 0xa1b23c4d;
  if (!le && buf.readUInt32BE(0) !== 0xa1b2c3d4 && buf.readUInt32BE(0) !== 0xa1b23c4d) throw new Error('not a pcap file');
  const u32 = (o: number) => (le ? buf.readUInt32LE(o) : buf.readUInt32BE(o));
  const frames: Frame[] = [];
  for (let off = 24; off + 16 <= buf.length; ) {
    const incl = u32(off + 8);
    const orig = u32(off + 12);
    if (off + 16 + incl > buf.length) break; // torn last record
    frames.push({ data: buf.subarray(off + 16, off + 16 + incl), origLen: orig });
    off += 16 + incl;
  }
  return frames;
}

function randomMac(): string {
  const b = randomBytes(6);
  b[0] = (b[0]! & 0xfe) | 0x02; // unicast, locally administered
  return [...b].map((x) => x.toString(16).padStart(2, '0')).join(':');
}

function ipAdd(base: string, n: number): string {
  const v = base.split('.').reduce((acc, o) => acc * 256 + Number(o), 0) + n;
  return [24, 16, 8, 0].map((s) => (v >>> s) & 255).join('.');
}

/**
 * A set of namespaces and veths with a unique prefix. Names: `<pfx><host>` for the
 * namespace and the root-side veth (at most 15 characters), `eth0` inside.
 */
export class Topology {
  readonly prefix: string;
  readonly dir: string;
  readonly hostsByName = new Map<string, Host>();
  private readonly children = new Set<ChildProcess>();
  private readonly extraLinks: string[] = [];
  private destroyed = false;

  private constructor(prefix: string) {
    this.prefix = prefix;
    this.dir = mkdtempSync(join(tmpdir(), `${prefix}-`));
  }

  /** A new empty topology, its cleanup registered before anything is created. */
  static async create(opts: { prefix?: string } = {}): Promise<Topology> {
    const prefix = opts.prefix ?? `xt${randomBytes(3).toString('hex').slice(0, 5)}`;
    if (prefix.length > 9) throw new Error(`topology prefix "${prefix}" too long (9 characters at most)`);
    const topo = new Topology(prefix);
    register(topo);
    return topo;
  }

  /** Registers a child process to be ended when the topology is destroyed. */
  track(child: ChildProcess): ChildProcess {
    this.children.add(child);
    child.once('exit', () => this.children.delete(child));
    return child;
  }

  /**
   * Adds `count` hosts on `subnet` (e.g. "10.11.1.0/24", hosts get .1, .2, …), each in
   * its own namespace with a veth to the root namespace, both ends up, neighbours pinned.
   */
  async hosts(count: number, subnet: string, opts: { napi?: boolean } = {}): Promise<Host[]> {
    const [base, len] = subnet.split('/');
    if (!base || !len) throw new Error(`bad subnet ${subnet}`);
    const hosts: Host[] = [];
    for (let i = 0; i < count; i++) {
      const name = `h${this.hostsByName.size + 1}`;
      const ns = `${this.prefix}${name}`;
      const port = `${this.prefix}${name}`;
      const mac = randomMac();
      const ip = ipAdd(base, this.hostsByName.size + 1);
      await run(['ip', 'netns', 'add', ns]);
      const host = new Host(this, name, ns, port, 'eth0', ip, Number(len), mac);
      this.hostsByName.set(name, host);
      await run(['ip', 'link', 'add', port, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns]);
      await host.exec(['ip', 'link', 'set', 'eth0', 'address', mac]);
      await host.exec(['ip', 'addr', 'add', `${ip}/${len}`, 'dev', 'eth0']);
      await host.exec(['ip', 'link', 'set', 'lo', 'up']);
      await host.exec(['ip', 'link', 'set', 'eth0', 'up']);
      await run(['ip', 'link', 'set', port, 'up']);
      // A veth only receives XDP-redirected frames when its own NAPI runs: GRO turns it on.
      if (opts.napi !== false) await host.exec(['ethtool', '-K', 'eth0', 'gro', 'on']);
      // IPv6 DAD and router solicitations would add frames tests did not send.
      await host.exec(['sysctl', '-qw', 'net.ipv6.conf.all.disable_ipv6=1']);
      await run(['sysctl', '-qw', `net.ipv6.conf.${port}.disable_ipv6=1`]);
      hosts.push(host);
    }
    // Pinned neighbours: the first packet of a test is the one the test sent, no ARP.
    const all = [...this.hostsByName.values()];
    for (const h of all)
      for (const o of all)
        if (h !== o) await h.exec(['ip', 'neigh', 'replace', o.ip, 'lladdr', o.mac, 'nud', 'permanent', 'dev', 'eth0']);
    return hosts;
  }

  /** A veth pair in the root namespace, removed with the topology. */
  async vethPair(suffixA: string, suffixB: string): Promise<[string, string]> {
    const a = `${this.prefix}${suffixA}`;
    const b = `${this.prefix}${suffixB}`;
    this.extraLinks.push(a);
    await run(['ip', 'link', 'add', a, 'type', 'veth', 'peer', 'name', b]);
    // No IPv6 autoconfiguration: a test sees only the frames it sent.
    for (const l of [a, b]) await run(['sysctl', '-qw', `net.ipv6.conf.${l}.disable_ipv6=1`]);
    await run(['ip', 'link', 'set', a, 'up']);
    await run(['ip', 'link', 'set', b, 'up']);
    return [a, b];
  }

  /** Names a device in the root namespace with this topology's prefix (removed with it). */
  name(suffix: string): string {
    const n = `${this.prefix}${suffix}`;
    if (n.length > 15) throw new Error(`interface name ${n} longer than 15 characters`);
    this.extraLinks.push(n);
    return n;
  }

  /** Removes everything: children, namespaces (and the veth ends in them), root-side links. */
  async destroy(): Promise<void> {
    if (this.destroyed) return;
    this.destroyed = true;
    unregister(this);
    await Promise.all([...this.children].map((c) => stopChild(c, 'SIGTERM', 2000)));
    for (const h of this.hostsByName.values()) {
      await run(['ip', 'link', 'del', h.port], { allowFail: true });
      await run(['ip', 'netns', 'del', h.ns], { allowFail: true });
    }
    for (const l of this.extraLinks) await run(['ip', 'link', 'del', l], { allowFail: true });
    rmSync(this.dir, { recursive: true, force: true });
  }

  /** Synchronous last-resort cleanup, for process exit. */
  destroySync(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    for (const c of this.children) c.kill('SIGKILL');
    const cmds: string[] = [];
    for (const h of this.hostsByName.values()) cmds.push(`ip link del ${h.port}`, `ip netns del ${h.ns}`);
    for (const l of this.extraLinks) cmds.push(`ip link del ${l}`);
    for (const c of cmds) spawnSyncQuiet(c);
    rmSync(this.dir, { recursive: true, force: true });
  }
}

function spawnSyncQuiet(cmd: string): void {
  const [f, ...a] = cmd.split(' ');
  spawnSync(f!, a, { stdio: 'ignore' });
}
