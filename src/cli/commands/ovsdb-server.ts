// `xdpswitch ovsdb-server`: the OVSDB server on its own, with ovsdb-server's options
// (--remote, --pidfile, --log-file, --detach, the SSL options), so scripts written for
// ovsdb-server run it unchanged.
import { fork } from 'node:child_process';
import { existsSync, unlinkSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { UsageError, type Command } from '../command.js';
import { version } from '../main.js';
import { DEFAULT_SCHEMA_PATH } from '../../../proto/ovsdb/protocol.js';
import type { OvsdbServer, SslOptions } from '../../ovsdb/server.js';
import type { UnixctlServer } from '../../ovsdb/unixctl.js';
import type { Level, VlogSink } from '../../ovsdb/vlog.js';

const rundir = (): string => process.env.OVS_RUNDIR ?? '/var/run/openvswitch';
const logdir = (): string => process.env.OVS_LOGDIR ?? '/var/log/openvswitch';
const dbdir = (): string => process.env.OVS_DBDIR ?? '/etc/openvswitch';

const usage = `usage: xdpswitch ovsdb-server [OPTIONS] [DATABASE]...
A JSON-RPC server for OVSDB databases, compatible with ovsdb-server.
where each DATABASE is a database file in ovsdb format
(default: ${dbdir()}/conf.db, created from the schema if missing).

JSON-RPC options (may be specified any number of times):
  --remote=REMOTE         connect or listen to REMOTE: punix:FILE, ptcp:PORT[:IP],
                          pssl:PORT[:IP], unix:FILE, tcp:IP:PORT, ssl:IP:PORT,
                          or db:DB,TABLE,COLUMN for remotes read from a database

PKI configuration:
  -p, --private-key=FILE  file with private key
  -c, --certificate=FILE  file with certificate for private key
  -C, --ca-cert=FILE      file with peer CA certificate
  --bootstrap-ca-cert=FILE  file with peer CA certificate to read or create
  --ssl-protocols=PROTOS  list of SSL protocols to enable
  --ssl-ciphers=CIPHERS   list of SSL ciphers to enable

Daemon options:
  --detach                run in background as daemon
  --pidfile[=FILE]        create pidfile (default: ${rundir()}/ovsdb-server.pid)
  --overwrite-pidfile     with --pidfile, start even if already running
  --no-chdir, --monitor   accepted for compatibility

Logging options:
  --log-file[=FILE]       enable logging to specified FILE
                          (default: ${logdir()}/ovsdb-server.log)
  -v, --verbose=[SPEC]    set logging levels (console:LEVEL, file:LEVEL)

Other options:
  --schema=FILE           schema for databases that do not exist yet
                          (default: ${DEFAULT_SCHEMA_PATH})
  --unixctl=SOCKET        override default control socket name
                          (default: ${rundir()}/ovsdb-server.<pid>.ctl)
  -h, --help              display this help message
  -V, --version           display version information`;

export interface OvsdbServerArgs {
  databases: string[];
  remotes: string[];
  pidfile: string | null;
  logFile: string | null;
  detach: boolean;
  schema?: string;
  ssl: Partial<SslOptions>;
  verbose: string[];
  unixctl: string | null;
}

/** Parses the command line as getopt_long would for ovsdb-server. */
export function parseArgs(argv: string[]): OvsdbServerArgs {
  const a: OvsdbServerArgs = { databases: [], remotes: [], pidfile: null, logFile: null, detach: false, ssl: {}, verbose: [], unixctl: null };
  const required: Record<string, (v: string) => void> = {
    remote: (v) => a.remotes.push(v),
    'private-key': (v) => (a.ssl.privateKey = v),
    certificate: (v) => (a.ssl.certificate = v),
    'ca-cert': (v) => (a.ssl.caCert = v),
    'bootstrap-ca-cert': (v) => {
      a.ssl.caCert = v;
      a.ssl.bootstrap = true;
    },
    'peer-ca-cert': () => undefined,
    'ssl-protocols': (v) => (a.ssl.protocols = v),
    'ssl-ciphers': (v) => (a.ssl.ciphers = v),
    schema: (v) => (a.schema = v),
    unixctl: (v) => (a.unixctl = resolve(v)),
    'sync-from': () => undefined,
    'sync-exclude-tables': () => undefined,
    run: () => undefined,
  };
  const optional: Record<string, (v: string | undefined) => void> = {
    pidfile: (v) => (a.pidfile = resolve(v ?? join(rundir(), 'ovsdb-server.pid'))),
    'log-file': (v) => (a.logFile = resolve(v ?? join(logdir(), 'ovsdb-server.log'))),
    verbose: (v) => a.verbose.push(v ?? 'dbg'),
  };
  const flags: Record<string, () => void> = {
    detach: () => (a.detach = true),
    'no-chdir': () => undefined,
    monitor: () => undefined,
    'overwrite-pidfile': () => undefined,
    'disable-file-column-diff': () => undefined,
    'active': () => undefined,
  };
  const short: Record<string, string> = { p: 'private-key', c: 'certificate', C: 'ca-cert' };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === '--') {
      a.databases.push(...argv.slice(i + 1));
      break;
    }
    if (arg.startsWith('--')) {
      const eq = arg.indexOf('=');
      const name = eq < 0 ? arg.slice(2) : arg.slice(2, eq);
      const value = eq < 0 ? undefined : arg.slice(eq + 1);
      if (name in required) {
        const v = value ?? argv[++i];
        if (v === undefined) throw new UsageError(`option '--${name}' requires an argument`);
        (required[name] as (v: string) => void)(v);
      } else if (name in optional) {
        (optional[name] as (v: string | undefined) => void)(value);
      } else if (name in flags) {
        if (value !== undefined) throw new UsageError(`option '--${name}' doesn't allow an argument`);
        (flags[name] as () => void)();
      } else {
        throw new UsageError(`unrecognized option '${arg}'`);
      }
    } else if (arg.startsWith('-') && arg.length > 1) {
      const c = arg[1] as string;
      if (c === 'v') a.verbose.push(arg.slice(2) || 'dbg');
      else if (c in short) {
        const v = arg.length > 2 ? arg.slice(2) : argv[++i];
        if (v === undefined) throw new UsageError(`option requires an argument -- '${c}'`);
        (required[short[c] as string] as (v: string) => void)(v);
      } else throw new UsageError(`invalid option -- '${c}'`);
    } else {
      a.databases.push(arg);
    }
  }
  if (!a.databases.length) a.databases.push(join(dbdir(), 'conf.db'));
  return a;
}

function applyVerbose(sink: VlogSink, specs: string[]): void {
  const levels: Record<string, Level> = { off: 'ERR', emer: 'ERR', err: 'ERR', warn: 'WARN', info: 'INFO', dbg: 'DBG' };
  for (const spec of specs) {
    for (const word of spec.split(/[:,]/)) {
      const lvl = levels[word.toLowerCase()];
      if (!lvl) continue;
      if (spec.includes('console')) sink.consoleLevel = lvl;
      else if (spec.includes('file')) sink.fileLevel = lvl;
      else sink.consoleLevel = sink.fileLevel = lvl;
    }
  }
}

/**
 * Runs in the background, as daemonize() does: the parent relays the child's
 * start-up errors and returns once the child is serving; the child then lets go
 * of the parent's stderr.
 */
function detach(argv: string[]): Promise<number> {
  return new Promise((resolvePromise) => {
    const args = argv.filter((x) => x !== '--detach');
    const child = fork(process.argv[1] as string, ['ovsdb-server', ...args], {
      detached: true,
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
      env: { ...process.env, XDPSWITCH_DETACHED: '1' },
    });
    child.stderr?.on('data', (d: Buffer) => process.stderr.write(d));
    child.once('message', () => {
      child.stderr?.destroy();
      child.disconnect();
      child.unref();
      resolvePromise(0);
    });
    child.once('exit', (code) => resolvePromise(code ?? 1));
  });
}

interface LockedPidfile {
  /** The pid the file holds (ours). */
  pid: number;
  release(): void;
}

// ovs-appctl trusts a pid file only while the pid written in it holds an fcntl()
// write lock on it (lib/daemon-unix.c read_pidfile()); the addon takes that lock.
async function lockPidfile(path: string): Promise<LockedPidfile> {
  const { claimPidfile } = await import('../../native/pidfile.js');
  const held = claimPidfile(path);
  return { pid: process.pid, release: () => held.release() };
}

async function run(argv: string[]): Promise<number> {
  const a = parseArgs(argv);
  if (a.detach) return detach(argv);
  // Loaded here, so other commands (and --help) do not pay for the server.
  const { startOvsdbServer } = await import('../../ovsdb/server.js');
  const { VlogSink } = await import('../../ovsdb/vlog.js');
  const sink = new VlogSink();
  sink.logFile = a.logFile;
  applyVerbose(sink, a.verbose);
  let ssl: SslOptions | undefined;
  if (a.ssl.privateKey && a.ssl.certificate) ssl = a.ssl as SslOptions;
  let server: OvsdbServer;
  try {
    server = await startOvsdbServer({ databases: a.databases, remotes: a.remotes, schema: a.schema, ssl, log: sink });
  } catch (e) {
    process.stderr.write(`ovsdb-server: ${e instanceof Error ? e.message : String(e)}\n`);
    return 1;
  }
  let pidfile: LockedPidfile | null = null;
  if (a.pidfile) {
    pidfile = await lockPidfile(a.pidfile).catch((e: unknown) => {
      sink.write('daemon_unix', 'WARN', `${a.pidfile}: ${e instanceof Error ? e.message : String(e)}; writing it unlocked (ovs-appctl -t ovsdb-server will call it stale)`);
      return null;
    });
    if (!pidfile) writeFileSync(a.pidfile, `${process.pid}\n`);
  }
  sink.write('ovsdb_server', 'INFO', `xdpswitch ovsdb-server: serving ${a.databases.join(', ')}`);
  if (process.env.XDPSWITCH_DETACHED && process.send) {
    process.send({ ready: true });
    // Detached: the parent is gone with its end of stderr; write nothing more there.
    sink.consoleLevel = 'OFF';
    process.stderr.on('error', () => undefined);
    process.disconnect?.();
  }
  // The ovs-appctl control socket, where ovsdb-server puts it.
  const { UnixctlServer: Unixctl, addOvsdbServerCommands } = await import('../../ovsdb/unixctl.js');
  // ovs-appctl -t ovsdb-server reads the pid file's pid and connects to this name.
  const ctlPath = a.unixctl ?? join(rundir(), `ovsdb-server.${pidfile?.pid ?? process.pid}.ctl`);
  let unixctl: UnixctlServer | null = null;
  try {
    unixctl = await Unixctl.listen(ctlPath);
  } catch (e) {
    sink.write('unixctl', 'WARN', `${ctlPath}: cannot listen (${e instanceof Error ? e.message : String(e)}), ovs-appctl will not reach this server`);
  }
  return new Promise<number>((resolvePromise) => {
    let stopping = false;
    const stop = (): void => {
      if (stopping) return;
      stopping = true;
      void Promise.all([server.close(), unixctl?.close()]).then(() => {
        if (a.pidfile && existsSync(a.pidfile)) unlinkSync(a.pidfile);
        pidfile?.release();
        resolvePromise(0);
      });
    };
    if (unixctl) addOvsdbServerCommands(unixctl, server, version(), stop);
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
  });
}

const command: Command = {
  name: 'ovsdb-server',
  summary: 'serve OVSDB databases (compatible with ovsdb-server)',
  usage,
  run,
};

export default command;
