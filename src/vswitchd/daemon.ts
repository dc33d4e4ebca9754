// src/vswitchd/daemon.ts — the whole switch in one process: the OVSDB server on
// `<rundir>/db.sock` (and the Manager rows' remotes), the reconciler as its client, and
// the run dir claimed by a pid file so a second instance refuses to start.
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import net from 'node:net';
import { dirname, join } from 'node:path';
import { claimPidfile, PidfileBusyError, type Pidfile } from '../native/pidfile.js';
import { startOvsdbServer, type OvsdbServer } from '../ovsdb/server.js';
import { addOvsdbServerCommands } from '../ovsdb/unixctl.js';
import type { LogSink } from '../ovsdb/vlog.js';
import { registerAppctl } from './appctl.js';
import { probeKernelTier } from './kernel-tier.js';
import { moduleLog } from './log.js';
import { listenUnixctl, type UnixctlServer } from './unixctl.js';
import { Vswitchd, type VswitchdOptions } from './vswitchd.js';

export interface DaemonOptions {
  rundir: string;
  /** The database file; created from `schema` when missing. */
  db: string;
  schema?: string;
  /** Default: `<rundir>/xdpswitch.pid`. */
  pidfile?: string;
  sink: LogSink;
  /** xdpswitch's version (OpenFlow sw_desc). */
  version: string;
  statsIntervalMs?: number;
  /** What `ovs-appctl exit [--cleanup]` does (the CLI stops, keeping the datapath without --cleanup). */
  onExit?: (cleanup: boolean) => void;
  /** Serve the database only, with no reconciler (what benchmarks of ovsdb-server compare to). */
  ovsdbOnly?: boolean;
  /** The datapath of each bridge (default: the pending one); see VswitchdOptions. */
  datapath?: VswitchdOptions['datapath'];
}

/** The OVS release whose interfaces (schema, clients) xdpswitch serves: Open_vSwitch ovs_version. */
export const OVS_COMPAT_VERSION = '3.1.0';

export class RundirBusyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RundirBusyError';
  }
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Does a process answer on this unix socket? */
function socketLive(path: string): Promise<boolean> {
  if (!existsSync(path)) return Promise.resolve(false);
  return new Promise((resolve) => {
    const s = net.connect(path);
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

export class Daemon {
  private constructor(
    readonly opts: DaemonOptions,
    private readonly pidfiles: Pidfile[],
    readonly server: OvsdbServer,
    /** Absent with `ovsdbOnly`. */
    readonly vswitchd: Vswitchd | undefined,
    private readonly unixctls: UnixctlServer[],
  ) {}

  /** The run dir's claim (`--pidfile`, default `<rundir>/xdpswitch.pid`). */
  get pidfile(): string {
    return this.pidfiles[0]?.path ?? '';
  }

  get dbSocket(): string {
    return join(this.opts.rundir, 'db.sock');
  }

  /** Claims the run dir, serves the database, applies it. Throws RundirBusyError when another instance owns the run dir. */
  static async start(o: DaemonOptions): Promise<Daemon> {
    const log = moduleLog(o.sink, 'xdpswitch');
    mkdirSync(o.rundir, { recursive: true });
    mkdirSync(dirname(o.db), { recursive: true });
    const pidfile = o.pidfile ?? join(o.rundir, 'xdpswitch.pid');
    const sock = join(o.rundir, 'db.sock');
    if (existsSync(pidfile)) {
      const pid = Number(readFileSync(pidfile, 'utf8').trim());
      if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && pidAlive(pid)) throw new RundirBusyError(`${o.rundir} is in use by another xdpswitch (pid ${pid}, from ${pidfile})`);
    }
    if (await socketLive(sock)) throw new RundirBusyError(`${sock} is served by another process; stop it first`);
    // Locked pid files under OVS's names too, so `ovs-appctl` (default target
    // ovs-vswitchd) and `ovs-appctl -t ovsdb-server` find this process.
    const held: Pidfile[] = [];
    try {
      for (const f of [pidfile, join(o.rundir, 'ovs-vswitchd.pid'), join(o.rundir, 'ovsdb-server.pid')]) held.push(claimPidfile(f));
    } catch (e) {
      for (const h of held) h.release();
      if (e instanceof PidfileBusyError) throw new RundirBusyError(`${o.rundir} is in use by another process (${e.message})`);
      throw e;
    }
    let server: OvsdbServer | undefined;
    try {
      server = await startOvsdbServer({
        databases: [o.db],
        schema: o.schema,
        // As `ovs-ctl start` runs ovsdb-server: the socket, and the Manager rows as remotes.
        remotes: [`punix:${sock}`, 'db:Open_vSwitch,Open_vSwitch,manager_options'],
        log: o.sink,
      });
      const dbctl = await listenUnixctl(o.rundir, `ovsdb-server.${process.pid}`, log);
      addOvsdbServerCommands(dbctl, server, o.version, () => o.onExit?.(false));
      if (o.ovsdbOnly) {
        log.info(`serving ${o.db} on ${sock} (database only: no bridges are run)`);
        return new Daemon(o, held, server, undefined, [dbctl]);
      }
      await probeKernelTier(moduleLog(o.sink, 'kdp'));
      const vswitchd = await Vswitchd.start({ rundir: o.rundir, dbRemote: `unix:${sock}`, sink: o.sink, swVersion: OVS_COMPAT_VERSION, ofVersion: o.version, statsIntervalMs: o.statsIntervalMs, datapath: o.datapath });
      // ovs-appctl -t <rundir>/xdpswitch.ctl
      // and ovs-appctl's default target, <rundir>/ovs-vswitchd.<pid>.ctl
      const ctls = [await listenUnixctl(o.rundir, 'xdpswitch', log), await listenUnixctl(o.rundir, `ovs-vswitchd.${process.pid}`, log)];
      for (const u of ctls) registerAppctl(u, { vswitchd, sink: o.sink, version: o.version, exit: (cleanup) => o.onExit?.(cleanup) });
      log.info(`serving ${o.db} on ${sock}; bridges' OpenFlow sockets in ${o.rundir}`);
      return new Daemon(o, held, server, vswitchd, [dbctl, ...ctls]);
    } catch (e) {
      await server?.close();
      for (const h of held) h.release();
      throw e;
    }
  }

  /**
   * Removes every bridge (devices, programs, maps, sockets), stops serving, releases the run
   * dir. With `keepDatapath`, ports, programs, pins and saved flows stay for the next start.
   */
  async close(opts: { keepDatapath?: boolean } = {}): Promise<void> {
    for (const u of this.unixctls) await u.close();
    await this.vswitchd?.close({ keepPinned: opts.keepDatapath === true });
    await this.server.close();
    for (const p of this.pidfiles) p.release();
  }
}
