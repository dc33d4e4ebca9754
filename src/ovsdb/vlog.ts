// Log lines in ovsdb-server's format ("2026-01-01T00:00:00.000Z|00001|module|INFO|text"),
// to stderr and optionally a file, so tools that read OVS logs read ours.
import { appendFileSync } from 'node:fs';

export type Level = 'OFF' | 'ERR' | 'WARN' | 'INFO' | 'DBG';
const rank: Record<Level, number> = { OFF: -1, ERR: 0, WARN: 1, INFO: 2, DBG: 3 };

export interface LogSink {
  write(module: string, level: Exclude<Level, 'OFF'>, text: string): void;
}

let seq = 0;

/** A sink writing OVS-format lines to stderr (console) and a file. */
export class VlogSink implements LogSink {
  consoleLevel: Level = 'INFO';
  fileLevel: Level = 'INFO';
  logFile: string | null = null;

  write(module: string, level: Exclude<Level, 'OFF'>, text: string): void {
    const n = String(++seq).padStart(5, '0');
    const now = new Date().toISOString();
    if (rank[level] <= rank[this.consoleLevel]) {
      process.stderr.write(`${now.slice(0, 19)}Z|${n}|${module}|${level}|${text}\n`);
    }
    if (this.logFile && rank[level] <= rank[this.fileLevel]) {
      try {
        appendFileSync(this.logFile, `${now}|${n}|${module}|${level}|${text}\n`);
      } catch {
        // A log file that cannot be written must not take the server down.
      }
    }
  }
}

/** Discards everything (library use and tests). */
export const nullSink: LogSink = { write() {} };

export class Logger {
  constructor(
    readonly module: string,
    private sink: LogSink,
  ) {}

  err(text: string): void {
    this.sink.write(this.module, 'ERR', text);
  }
  warn(text: string): void {
    this.sink.write(this.module, 'WARN', text);
  }
  info(text: string): void {
    this.sink.write(this.module, 'INFO', text);
  }
  dbg(text: string): void {
    this.sink.write(this.module, 'DBG', text);
  }
}
