// src/vswitchd/log.ts — the daemon's log: OVS-format lines (ovsdb's VlogSink) under a module
// name per part (bridge, ofproto, netdev…), and the same lines for the OpenFlow endpoint.
import type { Logger as OfLogger } from '../openflow/log.js';
import type { Level, LogSink, VlogSink } from '../ovsdb/vlog.js';

export interface Log {
  err(text: string): void;
  warn(text: string): void;
  info(text: string): void;
  dbg(text: string): void;
}

export function moduleLog(sink: LogSink, module: string): Log {
  return {
    err: (t) => sink.write(module, 'ERR', t),
    warn: (t) => sink.write(module, 'WARN', t),
    info: (t) => sink.write(module, 'INFO', t),
    dbg: (t) => sink.write(module, 'DBG', t),
  };
}

/** The OpenFlow library's logger interface over the same sink. */
export function openflowLog(sink: LogSink, module = 'rconn'): OfLogger {
  return {
    debug: (t) => sink.write(module, 'DBG', t),
    info: (t) => sink.write(module, 'INFO', t),
    warn: (t) => sink.write(module, 'WARN', t),
    error: (t) => sink.write(module, 'ERR', t),
  };
}

/** The destinations of a log line, as OVS's vlog names them. */
export const DESTINATIONS = ['console', 'syslog', 'file'] as const;
export type Destination = (typeof DESTINATIONS)[number];
/** vlog's levels (EMER too: nothing here logs at it, so it shows nothing). */
export type VlogLevel = Level | 'EMER';
type Levels = Record<Destination, VlogLevel>;
const sinkLevel = (l: VlogLevel): Level => (l === 'EMER' ? 'OFF' : l);

/** The modules that log in this daemon (more appear as they first log). */
const MODULES = ['bridge', 'daemon_unix', 'datapath', 'ovsdb_server', 'rconn', 'unixctl', 'xdpswitch'];

/**
 * Per-module log levels over a VlogSink, as OVS's vlog keeps them (`ovs-appctl vlog/set`,
 * `vlog/list`): each line goes out under its module's console and file levels. There is no
 * syslog here; its level is kept and listed only.
 */
export class ModuleLevels implements LogSink {
  private readonly levels = new Map<string, Levels>();
  private readonly defaults: Levels;

  constructor(readonly inner: VlogSink) {
    this.defaults = { console: inner.consoleLevel, syslog: 'INFO', file: inner.fileLevel };
    for (const m of MODULES) this.levels.set(m, { ...this.defaults });
  }

  private of(module: string): Levels {
    let l = this.levels.get(module);
    if (!l) this.levels.set(module, (l = { ...this.defaults }));
    return l;
  }

  write(module: string, level: Exclude<Level, 'OFF'>, text: string): void {
    const l = this.of(module);
    this.inner.consoleLevel = sinkLevel(l.console);
    this.inner.fileLevel = sinkLevel(l.file);
    this.inner.write(module, level, text);
  }

  modules(): string[] {
    return [...this.levels.keys()].sort();
  }

  /** Sets the level of the modules (all when undefined) at the destinations (all when undefined). */
  set(module: string | undefined, dest: Destination | undefined, level: VlogLevel): void {
    for (const m of module === undefined ? this.modules() : [module]) {
      const l = this.of(m);
      for (const d of dest === undefined ? DESTINATIONS : [dest]) l[d] = level;
    }
    if (module === undefined) for (const d of dest === undefined ? DESTINATIONS : [dest]) this.defaults[d] = level;
  }

  get(module: string): Readonly<Levels> {
    return this.of(module);
  }
}
