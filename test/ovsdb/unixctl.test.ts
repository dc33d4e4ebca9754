// The ovs-appctl control socket of `xdpswitch ovsdb-server`, driven by the real
// ovs-appctl: by socket path and by `-t ovsdb-server` through the locked pid file in
// OVS_RUNDIR, with the replies and errors ovsdb-server gives.
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { run, spawnChild, stopChild, waitFor } from '../harness/exec.js';
import { spawnXdpswitch, VSWITCH_SCHEMA } from './pair.js';
import type { ChildProcess } from 'node:child_process';

describe('ovs-appctl -t ovsdb-server', () => {
  let dir: string;
  const sides: Record<'xdp' | 'ovs', { rundir: string; child: ChildProcess; db: string }> = {} as never;
  const appctl = (side: 'xdp' | 'ovs', args: string[]) =>
    run(['ovs-appctl', '-t', 'ovsdb-server', ...args], { allowFail: true, env: { ...process.env, OVS_RUNDIR: sides[side].rundir } });

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'xsw-unixctl-'));
    for (const side of ['xdp', 'ovs'] as const) {
      const rundir = join(dir, side);
      await run(['mkdir', '-p', rundir]);
      const db = join(rundir, 'conf.db');
      await run(['ovsdb-tool', 'create', db, VSWITCH_SCHEMA]);
      const env = { ...process.env, OVS_RUNDIR: rundir, OVS_LOGDIR: rundir, OVS_DBDIR: rundir };
      const args = [`--remote=punix:${join(rundir, 'db.sock')}`, '--pidfile', db];
      const child = side === 'xdp' ? spawnXdpswitch(['ovsdb-server', ...args], env) : spawnChild(['ovsdb-server', '--no-chdir', ...args], env);
      sides[side] = { rundir, child, db };
      await waitFor(() => existsSync(join(rundir, 'ovsdb-server.pid')) && readdirSync(rundir).some((f) => f.endsWith('.ctl')), `${side} control socket`, 20_000);
      await run(['ovs-vsctl', `--db=unix:${join(rundir, 'db.sock')}`, '--no-wait', 'init', '--', 'add-br', 'br0']);
    }
  });

  afterAll(async () => {
    for (const s of Object.values(sides)) if (s.child.exitCode === null) await stopChild(s.child);
    rmSync(dir, { recursive: true, force: true });
  });

  test('the socket is <rundir>/ovsdb-server.<pid in the pid file>.ctl', () => {
    for (const s of Object.values(sides)) {
      const pid = readFileSync(join(s.rundir, 'ovsdb-server.pid'), 'utf8').trim();
      expect(existsSync(join(s.rundir, `ovsdb-server.${pid}.ctl`))).toBe(true);
    }
  });

  test('list-dbs, compact and their errors answer as ovsdb-server does', async () => {
    const cases = [
      ['ovsdb-server/list-dbs'],
      ['ovsdb-server/compact'],
      ['ovsdb-server/compact', 'Open_vSwitch'],
      ['ovsdb-server/compact', '_Server'],
      ['ovsdb-server/compact', 'Nope'],
      ['ovsdb-server/compact', 'a', 'b'],
      ['no/such-command'],
    ];
    for (const args of cases) {
      const fix = (t: string) => t.replace(/\/\S*\/(xdp|ovs)\/ovsdb-server\.\d+\.ctl/g, 'CTL');
      const [o, x] = [await appctl('ovs', args), await appctl('xdp', args)];
      expect(`${x.code}\n${x.stdout}\n${fix(x.stderr)}`, args.join(' ')).toBe(`${o.code}\n${o.stdout}\n${fix(o.stderr)}`);
    }
    // After compaction the file is one schema record and one data record, readable by ovsdb-tool.
    const log = await run(['ovsdb-tool', 'show-log', sides.xdp.db]);
    expect(log.stdout).toMatch(/record 0: "Open_vSwitch" schema[\s\S]*record 1: .*"compacting database online"/);
    expect(log.stdout).not.toMatch(/record 2/);
    const dump = await run(['ovsdb-client', 'dump', `unix:${join(sides.xdp.rundir, 'db.sock')}`, 'Bridge', 'name']);
    expect(dump.stdout).toContain('br0');
  });

  test('list-remotes, memory/show, then exit stops the server and removes its files', async () => {
    const r = await appctl('xdp', ['ovsdb-server/list-remotes']);
    expect(r.stdout).toBe(`punix:${join(sides.xdp.rundir, 'db.sock')}\n`);
    expect((await appctl('xdp', ['memory/show'])).stdout).toMatch(/cells:\d+ monitors:\d+ sessions:\d+/);
    const e = await appctl('xdp', ['exit']);
    expect(e.code).toBe(0);
    await waitFor(() => sides.xdp.child.exitCode !== null, 'server exit', 10_000);
    expect(sides.xdp.child.exitCode).toBe(0);
    expect(readdirSync(sides.xdp.rundir).filter((f) => f.endsWith('.ctl') || f.endsWith('.pid') || f.endsWith('.sock'))).toEqual([]);
  });
});
