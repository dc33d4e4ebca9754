// src/vswitchd/log.ts — the daemon's log: OVS-format lines (ovsdb's VlogSink) under a module
// name per part (bridge, ofproto, netdev…), and the same lines for the OpenFlow endpoint.
import type { Logger as OfLogger } from '../openflow/log.js';
import type { LogSink } from '../ovsdb/vlog.js';

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
