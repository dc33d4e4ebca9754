// `xdpswitch ovsdb-server` as a process: ovsdb-server's options (--remote, --pidfile,
// --log-file, --detach), unknown options refused with the usage, a clean stop.
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { run, stopChild, waitFor } from '../harness/exec.js';
import { spawnXdpswitch, TSX_LOADER } from './pair.js';

const MAIN = new URL('../../src/cli/main.ts', import.meta.url).pathname;
const xdpswitch = (args: string[]) => run([process.execPath, '--import', TSX_LOADER, MAIN, ...args], { allowFail: true, timeoutMs: 30_000 });

describe('xdpswitch ovsdb-server', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'xsw-cli-'));
  });
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  test('an unknown option is refused with the usage, exit status 2', async () => {
    const r = await xdpswitch(['ovsdb-server', '--bogus', join(dir, 'x.db')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("unrecognized option '--bogus'");
    expect(r.stderr).toContain('usage: xdpswitch ovsdb-server');
    const r2 = await xdpswitch(['ovsdb-server', '--detach=yes']);
    expect(r2.code).toBe(2);
    expect(r2.stderr).toContain("option '--detach' doesn't allow an argument");
  });

  test('--help prints the usage', async () => {
    const r = await xdpswitch(['ovsdb-server', '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('--remote=REMOTE');
  });

  test('foreground: creates the database, writes pidfile and log, stops cleanly', async () => {
    const db = join(dir, 'fg.db');
    const sock = join(dir, 'fg.sock');
    const pidfile = join(dir, 'fg.pid');
    const log = join(dir, 'fg.log');
    const child = spawnXdpswitch(['ovsdb-server', `--remote=punix:${sock}`, `--pidfile=${pidfile}`, `--log-file=${log}`, db]);
    try {
      await waitFor(() => existsSync(sock) && existsSync(pidfile), 'socket and pidfile', 20_000);
      // As ovsdb-server: the pid file names the server, which holds a POSIX write lock
      // on it (what ovs-appctl -t ovsdb-server checks).
      expect(readFileSync(pidfile, 'utf8').trim()).toBe(String(child.pid));
      const ino = statSync(pidfile).ino;
      const locks = readFileSync('/proc/locks', 'utf8').split('\n');
      expect(locks.some((l) => /POSIX\s+ADVISORY\s+WRITE/.test(l) && l.split(/\s+/)[4] === String(child.pid) && l.split(/\s+/)[5]?.endsWith(`:${ino}`))).toBe(true);
      const r = await run(['ovs-vsctl', `--db=unix:${sock}`, '--no-wait', 'init', '--', 'add-br', 'br0']);
      expect(r.code).toBe(0);
      expect(readFileSync(log, 'utf8')).toMatch(/\|ovsdb_server\|INFO\|/);
      expect((await run(['ovsdb-tool', 'db-name', db])).stdout.trim()).toBe('Open_vSwitch');
    } finally {
      await stopChild(child);
    }
    expect(child.exitCode).toBe(0);
    expect(existsSync(pidfile)).toBe(false);
    expect(existsSync(sock)).toBe(false);
  });

  test('--detach: returns once serving, leaves the daemon running', async () => {
    const db = join(dir, 'bg.db');
    const sock = join(dir, 'bg.sock');
    const pidfile = join(dir, 'bg.pid');
    const r = await xdpswitch(['ovsdb-server', `--remote=punix:${sock}`, `--pidfile=${pidfile}`, '--detach', db]);
    expect(r.code).toBe(0);
    const pid = Number(readFileSync(pidfile, 'utf8'));
    try {
      expect(existsSync(sock)).toBe(true);
      const list = await run(['ovsdb-client', 'list-dbs', `unix:${sock}`]);
      expect(list.stdout).toContain('Open_vSwitch');
    } finally {
      process.kill(pid, 'SIGTERM');
      await waitFor(() => !existsSync(pidfile), 'daemon exit');
    }
  });
});
