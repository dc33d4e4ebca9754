// test/vswitchd/switch.ts — the switches the scenarios run against, driven only with the
// stock clients: xdpswitch (the daemon in this process, so a test can also ask the
// reconciler how many calls a pass made) and real Open vSwitch (ovsdb-server +
// ovs-vswitchd, userspace datapath, in a private run dir and network namespace).
import { expect } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { register, unregister } from '../harness/cleanup.js';
import { run, sleep, waitFor, type RunResult } from '../harness/exec.js';
import type { Topology } from '../harness/topology.js';
import type { LogSink } from '../../src/ovsdb/vlog.js';
import { Daemon, type DaemonOptions } from '../../src/vswitchd/daemon.js';
import type { Vswitchd } from '../../src/vswitchd/vswitchd.js';

export interface Switch {
  readonly kind: 'xdpswitch' | 'ovs';
  readonly rundir: string;
  /** ovs-vsctl with the switch's run dir, and no --no-wait: it returns once the change is live. */
  vsctl(...args: string[]): Promise<RunResult>;
  ofctl(...args: string[]): Promise<RunResult>;
  /** `ovs-vsctl get TABLE RECORD COLUMN`, unquoted. */
  get(table: string, record: string, column: string): Promise<string>;
  /** Runs argv where the switch's devices are (its network namespace, if any). */
  exec(argv: string[]): Promise<RunResult>;
  close(): Promise<void>;
}

function clients(rundir: string, pre: string[] = []) {
  const env = { ...process.env, OVS_RUNDIR: rundir, OVS_DBDIR: rundir, OVS_LOGDIR: rundir };
  const vsctl = (...args: string[]) => run(['ovs-vsctl', '--timeout=20', ...args], { env, allowFail: true });
  return {
    env,
    vsctl,
    ofctl: (...args: string[]) => run(['ovs-ofctl', '--timeout=20', ...args], { env, allowFail: true }),
    get: async (table: string, record: string, column: string) => (await vsctl('get', table, record, column)).stdout.trim().replace(/^"(.*)"$/, '$1'),
    exec: (argv: string[]) => run([...pre, ...argv], { allowFail: true }),
  };
}

export class XdpSwitch implements Switch {
  readonly kind = 'xdpswitch';
  private closed = false;
  private constructor(
    readonly log: string[],
    readonly rundir: string,
    readonly daemon: Daemon,
    private readonly c: ReturnType<typeof clients>,
  ) {}

  static async start(topo: Topology, opts: { schema?: string; datapath?: DaemonOptions['datapath'] } = {}): Promise<XdpSwitch> {
    const rundir = join(topo.dir, 'xdpswitch');
    const log: string[] = [];
    const sink: LogSink = { write: (module, level, text) => void log.push(`${level} ${module}: ${text}`) };
    const daemon = await Daemon.start({ rundir, db: join(rundir, 'conf.db'), schema: opts.schema, sink, version: 'test', statsIntervalMs: 1000, datapath: opts.datapath });
    const sw = new XdpSwitch(log, rundir, daemon, clients(rundir));
    register(sw);
    return sw;
  }

  vsctl = (...args: string[]) => this.c.vsctl(...args);
  ofctl = (...args: string[]) => this.c.ofctl(...args);
  get = (t: string, r: string, c: string) => this.c.get(t, r, c);
  exec = (argv: string[]) => this.c.exec(argv);

  /** The reconciler (these tests never start the database-only mode). */
  get vswitchd(): Vswitchd {
    if (!this.daemon.vswitchd) throw new Error('database-only daemon');
    return this.daemon.vswitchd;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    unregister(this);
    await this.daemon.close();
  }
  destroy = () => this.close();
  destroySync(): void {
    // Process exit: the kernel detaches programs of closed fds; devices go with the topology.
  }
}

/** Real OVS 3.1 with the userspace datapath, in its own namespace (its ovs-netdev device is per namespace). */
export class OvsSwitch implements Switch {
  readonly kind = 'ovs';
  private closed = false;
  private constructor(
    readonly rundir: string,
    readonly ns: string,
    private readonly c: ReturnType<typeof clients>,
  ) {}

  static async start(topo: Topology): Promise<OvsSwitch> {
    const rundir = join(topo.dir, 'ovs');
    const ns = topo.name('ovs');
    await run(['mkdir', '-p', rundir]);
    await run(['ip', 'netns', 'add', ns]);
    const sw = new OvsSwitch(rundir, ns, clients(rundir, ['ip', 'netns', 'exec', ns]));
    register(sw);
    const db = join(rundir, 'conf.db');
    await run(['ovsdb-tool', 'create', db, '/usr/share/openvswitch/vswitch.ovsschema']);
    const common = ['--detach', '--no-chdir', `--log-file=${rundir}/LOG.log`];
    await run(['ovsdb-server', db, `--remote=punix:${rundir}/db.sock`, `--pidfile=${rundir}/ovsdb-server.pid`, `--unixctl=${rundir}/ovsdb-server.ctl`, ...common.map((x) => x.replace('LOG', 'ovsdb-server'))], { env: sw.c.env });
    await run(['ovs-vsctl', '--no-wait', 'init'], { env: sw.c.env });
    await run(['ip', 'netns', 'exec', ns, 'ovs-vswitchd', `unix:${rundir}/db.sock`, `--pidfile=${rundir}/ovs-vswitchd.pid`, `--unixctl=${rundir}/ovs-vswitchd.ctl`, ...common.map((x) => x.replace('LOG', 'ovs-vswitchd'))], { env: sw.c.env });
    return sw;
  }

  vsctl = (...args: string[]) => this.c.vsctl(...args);
  ofctl = (...args: string[]) => this.c.ofctl(...args);
  get = (t: string, r: string, c: string) => this.c.get(t, r, c);
  exec = (argv: string[]) => this.c.exec(argv);

  private pids(): number[] {
    return ['ovs-vswitchd', 'ovsdb-server']
      .map((n) => join(this.rundir, `${n}.pid`))
      .filter((f) => existsSync(f))
      .map((f) => Number(readFileSync(f, 'utf8').trim()))
      .filter((p) => p > 0);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    unregister(this);
    for (const pid of this.pids()) {
      try {
        process.kill(pid, 'SIGTERM');
      } catch {
        // already gone
      }
      await waitFor(() => {
        try {
          process.kill(pid, 0);
          return false;
        } catch {
          return true;
        }
      }, `OVS pid ${pid} to exit`, 5000).catch(() => process.kill(pid, 'SIGKILL'));
    }
    await sleep(50);
    await run(['ip', 'netns', 'del', this.ns], { allowFail: true });
  }
  destroy = () => this.close();
  destroySync(): void {
    for (const pid of this.pids()) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  }
}

/** Awaits a client command (vsctl, ofctl, ...) that must succeed; its stdout. */
export const ok = async (p: Promise<{ code: number; stdout: string; stderr: string }>): Promise<string> => {
  const r = await p;
  expect(r.code, r.stderr).toBe(0);
  return r.stdout;
};
