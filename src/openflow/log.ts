// src/openflow/log.ts — the logger the endpoint writes through: one line per event,
// saying what happened and why. Callers pass their own; the default writes to stderr.
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

export interface Logger {
  debug(msg: string): void;
  info(msg: string): void;
  warn(msg: string): void;
  error(msg: string): void;
}

const order: Record<LogLevel, number> = { debug: 0, info: 1, warn: 2, error: 3 };

/** Writes `level openflow: msg` lines to stderr at `min` and above (default: $XDPSWITCH_LOG or info). */
export function stderrLogger(min: LogLevel = (process.env.XDPSWITCH_LOG as LogLevel | undefined) ?? 'info'): Logger {
  const at = (level: LogLevel) => (msg: string) => {
    if (order[level] >= (order[min] ?? 1)) process.stderr.write(`${level} openflow: ${msg}\n`);
  };
  return { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

export const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} };
