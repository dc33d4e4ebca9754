// Pid files as OVS daemons keep them: the file holds the pid and the process holds a
// POSIX write lock on it for as long as it runs, so `ovs-appctl -t NAME` (which checks
// the lock with F_GETLK) accepts it, and a second instance sees who owns it.
//
// POSIX locks belong to the process and go away when it closes ANY descriptor of the
// file: never read a claimed pid file from the same process (readFileSync would drop
// the lock); use `Pidfile.path` only to remove it.
import { closeSync, ftruncateSync, openSync, unlinkSync, writeSync } from 'node:fs';
import { native } from './addon.js';

export interface Pidfile {
  readonly path: string;
  /** Unlinks the file and lets the lock go. */
  release(): void;
}

export class PidfileBusyError extends Error {
  constructor(
    readonly path: string,
    readonly holder: number,
  ) {
    super(`${path} is locked by ${holder > 0 ? `pid ${holder}` : 'another process'}`);
    this.name = 'PidfileBusyError';
  }
}

/** Creates or takes over `path`, locks it and writes `pid` into it; throws PidfileBusyError if a live process holds it. */
export function claimPidfile(path: string, pid = process.pid): Pidfile {
  const fd = openSync(path, 'a+', 0o644);
  let holder: number;
  try {
    holder = native().pidfileLock(fd);
  } catch (e) {
    closeSync(fd);
    throw e;
  }
  if (holder !== 0) {
    closeSync(fd);
    throw new PidfileBusyError(path, holder);
  }
  ftruncateSync(fd, 0);
  writeSync(fd, `${pid}\n`, 0);
  let held = true;
  return {
    path,
    release() {
      if (!held) return;
      held = false;
      try {
        unlinkSync(path);
      } catch {
        // already gone
      }
      closeSync(fd);
    },
  };
}
