// src/vswitchd/daemon.ts — the whole switch in one process: the OVSDB server on
// `<rundir>/db.sock` (and the Manager rows' remotes), the reconciler as its client, and
// the run dir claimed by a pid file so a second instance refuses to start.
import { existsSync, mkdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { dirname, join } from 'node:path';
import { startOvsdbServer, type OvsdbServer } from '../ovsdb/server.js';
import type { LogSink } from '../ovsdb/vlog.js';
import { registerAppctl } from './appctl.js';
import { moduleLog } from './log.js';
import { UnixctlServer } from './unixctl.js';
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
    readonly pidfile: string,
    readonly server: OvsdbServer,
    /** Absent with `ovsdbOnly`. */
    readonly vswitchd: Vswitchd | undefined,
    readonly unixctl: UnixctlServer | undefined,
  ) {}

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
    writeFileSync(pidfile, `${process.pid}\n`);
    let server: OvsdbServer | undefined;
    try {
      server = await startOvsdbServer({
        databases: [o.db],
        schema: o.schema,
        // As `ovs-ctl start` runs ovsdb-server: the socket, and the Manager rows as remotes.
        remotes: [`punix:${sock}`, 'db:Open_vSwitch,Open_vSwitch,manager_options'],
        log: o.sink,
      });
      if (o.ovsdbOnly) {
        log.info(`serving ${o.db} on ${sock} (database only: no bridges are run)`);
        return new Daemon(o, pidfile, server, undefined, undefined);
      }
      const vswitchd = await Vswitchd.start({ rundir: o.rundir, dbRemote: `unix:${sock}`, sink: o.sink, swVersion: OVS_COMPAT_VERSION, ofVersion: o.version, statsIntervalMs: o.statsIntervalMs, datapath: o.datapath });
      // ovs-appctl -t <rundir>/xdpswitch.ctl
      const unixctl = await UnixctlServer.listen(o.rundir, 'xdpswitch', log);
      registerAppctl(unixctl, { vswitchd, sink: o.sink, version: o.version, exit: (cleanup) => o.onExit?.(cleanup) });
      log.info(`serving ${o.db} on ${sock}; bridges' OpenFlow sockets in ${o.rundir}`);
      return new Daemon(o, pidfile, server, vswitchd, unixctl);
    } catch (e) {
      await server?.close();
      if (existsSync(pidfile)) unlinkSync(pidfile);
      throw e;
    }
  }

  /**
   * Removes every bridge (devices, programs, maps, sockets), stops serving, releases the run
   * dir. With `keepDatapath`, ports, programs, pins and saved flows stay for the next start.
   */
  async close(opts: { keepDatapath?: boolean } = {}): Promise<void> {
    await this.unixctl?.close();
    await this.vswitchd?.close({ keepPinned: opts.keepDatapath === true });
    await this.server.close();
    if (existsSync(this.pidfile) && readFileSync(this.pidfile, 'utf8').trim() === String(process.pid)) unlinkSync(this.pidfile);
  }
}
