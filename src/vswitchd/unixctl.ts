// src/vswitchd/unixctl.ts — the switch's ovs-appctl control sockets: src/ovsdb's
// UnixctlServer (lib/unixctl.c's protocol and texts) at `<rundir>/<name>.ctl`, e.g.
// `xdpswitch.ctl` and `ovs-vswitchd.<pid>.ctl` (what `ovs-appctl` finds through the
// locked `ovs-vswitchd.pid`), with socket errors logged.
import { join } from 'node:path';
import { UnixctlServer } from '../ovsdb/unixctl.js';
import type { Log } from './log.js';

export { UnixctlError, UnixctlServer } from '../ovsdb/unixctl.js';

/** Serves `<rundir>/<name>.ctl` (a socket left by a killed daemon is replaced). */
export function listenUnixctl(rundir: string, name: string, log: Log): Promise<UnixctlServer> {
  const socketPath = join(rundir, `${name}.ctl`);
  return UnixctlServer.listen(socketPath, (e) => log.err(`${socketPath}: ${e.message}`));
}
