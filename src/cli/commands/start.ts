// `xdpswitch start`: the switch a user starts instead of ovsdb-server + ovs-vswitchd.
// In the foreground by default (what scripts and the bench harness expect), with the OVS
// run dir and file names so the stock ovs-vsctl, ovs-ofctl and ovsdb-client need no flags.
import { fork } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { UsageError, type Command } from '../command.js';
import { DEFAULT_SCHEMA_PATH } from '../../ovsdb/schema.js';
import { VlogSink } from '../../ovsdb/vlog.js';
import { Daemon, RundirBusyError } from '../../vswitchd/daemon.js';
import { ModuleLevels } from '../../vswitchd/log.js';
import { packageRoot } from '../../native/paths.js';

// Read here rather than imported from main.ts, which imports this file through the command list.
const version = (): string => (JSON.parse(readFileSync(join(packageRoot(), 'package.json'), 'utf8')) as { version: string }).version;
const rundir = (): string => process.env.OVS_RUNDIR ?? '/var/run/openvswitch';
const dbdir = (): string => process.env.OVS_DBDIR ?? process.env.OVS_SYSCONFDIR ?? '/etc/openvswitch';
const logdir = (): string => process.env.OVS_LOGDIR ?? '/var/log/openvswitch';

const usage = `usage: xdpswitch start [OPTIONS]
Runs the switch: the Open_vSwitch database on RUNDIR/db.sock, and for every Bridge row
its OpenFlow socket RUNDIR/BRIDGE.mgmt, its ports and its controllers.

Options:
  --rundir=DIR        run directory (default: $OVS_RUNDIR or /var/run/openvswitch;
                      now ${rundir()})
  --db=FILE           database (default: $OVS_DBDIR/conf.db; now ${join(dbdir(), 'conf.db')}),
                      created from the schema when missing
  --schema=FILE       schema for a new database (default: ${DEFAULT_SCHEMA_PATH})
  --pidfile[=FILE]    pid file claiming the run dir (default: RUNDIR/xdpswitch.pid;
                      always written)
  --detach            run in the background once serving
  --log-file[=FILE]   also log to FILE (default: $OVS_LOGDIR/xdpswitch.log)
  --ovsdb-only        serve the database only (no bridges, ports or controllers)
  -v, --verbose       log debug messages too
  -h, --help          show this help`;

export interface StartArgs {
  rundir: string;
  db: string;
  schema?: string;
  pidfile?: string;
  detach: boolean;
  logFile: string | null;
  verbose: boolean;
  ovsdbOnly: boolean;
}

export function parseStartArgs(argv: string[]): StartArgs {
  const a: StartArgs = { rundir: rundir(), db: '', detach: false, logFile: null, verbose: false, ovsdbOnly: false };
  let db: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    const eq = arg.indexOf('=');
    const name = arg.startsWith('--') ? (eq < 0 ? arg.slice(2) : arg.slice(2, eq)) : arg;
    const inline = arg.startsWith('--') && eq >= 0 ? arg.slice(eq + 1) : undefined;
    const value = (): string => {
      const v = inline ?? argv[++i];
      if (v === undefined) throw new UsageError(`option '--${name}' requires an argument`);
      return v;
    };
    switch (name) {
      case 'rundir':
        a.rundir = resolve(value());
        break;
      case 'db':
        db = resolve(value());
        break;
      case 'schema':
        a.schema = resolve(value());
        break;
      case 'pidfile':
        if (inline !== undefined) a.pidfile = resolve(inline);
        break;
      case 'detach':
        a.detach = true;
        break;
      case 'ovsdb-only':
        a.ovsdbOnly = true;
        break;
      case 'log-file':
        a.logFile = resolve(inline ?? join(logdir(), 'xdpswitch.log'));
        break;
      case 'verbose':
      case '-v':
        a.verbose = true;
        break;
      default:
        throw new UsageError(`unrecognized option '${arg}'`);
    }
  }
  a.db = db ?? join(dbdir(), 'conf.db');
  return a;
}

/** Runs in the background: the parent returns once the child serves. */
function detach(argv: string[]): Promise<number> {
  return new Promise((resolvePromise) => {
    const child = fork(process.argv[1] as string, ['start', ...argv.filter((x) => x !== '--detach')], {
      detached: true,
      stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
      env: { ...process.env, XDPSWITCH_DETACHED: '1' },
    });
    child.once('message', () => {
      child.disconnect();
      child.unref();
      resolvePromise(0);
    });
    child.once('exit', (code) => resolvePromise(code ?? 1));
  });
}

async function run(argv: string[]): Promise<number> {
  const a = parseStartArgs(argv);
  if (a.detach) return detach(argv);
  const sink = new VlogSink();
  sink.logFile = a.logFile;
  if (a.verbose) sink.consoleLevel = sink.fileLevel = 'DBG';
  if (process.env.XDPSWITCH_DETACHED) sink.consoleLevel = 'ERR';
  // Levels per module, as `ovs-appctl vlog/set` changes them.
  const log = new ModuleLevels(sink);
  // Signals are taken before anything is created: a SIGTERM while the first pass builds
  // bridges must still remove them.
  let stopRequested: [string, boolean] | undefined;
  let stop: (signal: string, keep?: boolean) => void = (signal, keep = false) => (stopRequested = [signal, keep]);
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
  let daemon: Daemon;
  try {
    daemon = await Daemon.start({ rundir: a.rundir, db: a.db, schema: a.schema, pidfile: a.pidfile, sink: log, version: version(), onExit: (cleanup) => stop(cleanup ? 'ovs-appctl exit --cleanup' : 'ovs-appctl exit', !cleanup), ovsdbOnly: a.ovsdbOnly });
  } catch (e) {
    process.stderr.write(`xdpswitch start: ${e instanceof RundirBusyError ? e.message : e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    return 1;
  }
  process.send?.({ ready: true });
  return new Promise<number>((resolvePromise) => {
    let stopping = false;
    stop = (signal: string, keep = false): void => {
      if (stopping) return;
      stopping = true;
      log.write('xdpswitch', 'INFO', keep ? `${signal}: stopping; bridges go on forwarding for the next start to adopt` : `${signal}: removing bridges and stopping`);
      daemon.close({ keepDatapath: keep }).then(
        () => resolvePromise(0),
        (e: unknown) => {
          log.write('xdpswitch', 'ERR', `shutdown incomplete: ${e instanceof Error ? e.message : String(e)}`);
          resolvePromise(1);
        },
      );
    };
    if (stopRequested) stop(...stopRequested);
  });
}

const command: Command = {
  name: 'start',
  summary: 'run the switch (OVSDB server + bridges, ports, controllers)',
  usage,
  run,
};

export default command;
