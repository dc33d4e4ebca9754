// test/openflow/real-ovs.ts — a real Open vSwitch (ovsdb-server + ovs-vswitchd, the
// userspace datapath) in a private run dir, for differential tests. Both daemons are
// this process's children, ended by PID; the run dir is removed. ovs-vswitchd runs in
// a private network namespace.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface RealOvs {
  dir: string;
  /** `<dir>/<bridge>.mgmt` */
  mgmt(bridge: string): string;
  stop(): Promise<void>;
}

export function haveOvs(): boolean {
  return spawnSync('sh', ['-c', 'command -v ovs-vswitchd && command -v ovsdb-server && command -v ovsdb-tool'], { stdio: 'ignore' }).status === 0;
}

async function waitFor(path: string, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!existsSync(path)) {
    if (Date.now() > end) throw new Error(`${path} did not appear`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

export async function startOvs(bridges: string[]): Promise<RealOvs> {
  const dir = mkdtempSync(join(tmpdir(), 'xsw-of-ovs-'));
  const env = { ...process.env, OVS_RUNDIR: dir, OVS_DBDIR: dir, OVS_LOGDIR: dir };
  const procs: ChildProcess[] = [];
  // If this process dies first (a crash in a test), take the daemons with it.
  const orphanGuard = () => procs.forEach((p) => p.kill('SIGKILL'));
  process.once('exit', orphanGuard);
  const stop = async () => {
    process.off('exit', orphanGuard);
    for (const p of procs.reverse()) {
      if (p.exitCode !== null || p.signalCode !== null) continue;
      const gone = new Promise((r) => p.once('exit', r));
      p.kill('SIGTERM');
      await gone;
    }
    if (!process.env.XSW_KEEP) rmSync(dir, { recursive: true, force: true });
  };
  try {
    const db = join(dir, 'conf.db');
    const sock = join(dir, 'db.sock');
    if (spawnSync('ovsdb-tool', ['create', db, '/usr/share/openvswitch/vswitch.ovsschema'], { env }).status !== 0) throw new Error('ovsdb-tool create failed');
    procs.push(spawn('ovsdb-server', [`--remote=punix:${sock}`, `--log-file=${join(dir, 'ovsdb-server.log')}`, db], { env, stdio: 'ignore' }));
    await waitFor(sock);
    const vsctl = (...args: string[]) => {
      const r = spawnSync('ovs-vsctl', [`--db=unix:${sock}`, ...args], { env, encoding: 'utf8' });
      if (r.status !== 0) throw new Error(`ovs-vsctl ${args.join(' ')}: ${r.stderr}`);
    };
    vsctl('--no-wait', 'init');
    // In a network namespace of its own: the userspace datapath makes taps (ovs-netdev,
    // one per bridge) that would collide with any other OVS or bridge on the host; the
    // namespace, and the taps in it, go away with the process.
    procs.push(spawn('unshare', ['--net', 'ovs-vswitchd', `--log-file=${join(dir, 'ovs-vswitchd.log')}`, `unix:${sock}`], { env, stdio: 'ignore' }));
    for (const b of bridges) vsctl('add-br', b, '--', 'set', 'bridge', b, 'datapath_type=netdev');
    for (const b of bridges) await waitFor(join(dir, `${b}.mgmt`));
  } catch (e) {
    await stop();
    throw e;
  }
  return { dir, mgmt: (b) => join(dir, `${b}.mgmt`), stop };
}
