// test/vswitchd/start.test.ts — `xdpswitch start` as a process, the way the bench harness
// and ofconf start it: OVS_RUNDIR=OVS_DBDIR=OVS_LOGDIR=dir in the foreground; a second
// instance is refused; SIGTERM removes what it made; a restart rebuilds from conf.db.
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, expect, test } from 'vitest';
import { run, stopChild, waitFor } from '../harness/exec.js';
import { Topology } from '../harness/topology.js';

const main = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));
const started: ChildProcess[] = [];
afterEach(async () => {
  for (const c of started.splice(0)) await stopChild(c, 'SIGTERM', 10_000);
});

function start(dir: string, ...args: string[]): { child: ChildProcess; out: () => string; exit: Promise<number | null> } {
  const env = { ...process.env, OVS_RUNDIR: dir, OVS_DBDIR: dir, OVS_LOGDIR: dir };
  const child = spawn(process.execPath, ['--import', 'tsx', main, 'start', ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  started.push(child);
  let out = '';
  child.stdout!.on('data', (b: Buffer) => (out += b.toString()));
  child.stderr!.on('data', (b: Buffer) => (out += b.toString()));
  const exit = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  return { child, out: () => out, exit };
}

test('foreground start with OVS_RUNDIR, refusal of a second instance, clean SIGTERM, restart from conf.db', async () => {
  const topo = await Topology.create();
  const dir = topo.dir;
  const env = { ...process.env, OVS_RUNDIR: dir, OVS_DBDIR: dir, OVS_LOGDIR: dir };
  const br = topo.name('br');
  const first = start(dir);
  // What the harness waits for before configuring.
  await waitFor(async () => existsSync(join(dir, 'db.sock')) && (await run(['ovs-vsctl', '--timeout=5', '--no-wait', 'init'], { env, allowFail: true })).code === 0, 'db.sock to answer', 30_000, 100);
  expect(existsSync(join(dir, 'conf.db'))).toBe(true);
  await run(['ovs-vsctl', '--timeout=30', 'add-br', br], { env });
  expect(existsSync(join(dir, `${br}.mgmt`))).toBe(true);

  const second = start(dir);
  expect(await second.exit).toBe(1);
  expect(second.out()).toContain(`${dir} is in use by another xdpswitch (pid ${first.child.pid}`);

  // The bridge has a port with the datapath attached, so SIGTERM has something to remove.
  const [port] = await topo.vethPair('p0', 'p1');
  await run(['ovs-vsctl', '--timeout=30', 'add-port', br, port], { env });
  const pins = `vswitchd-${createHash('sha1').update(dir).digest('hex').slice(0, 8)}`;
  const loaded = existsSync('/sys/fs/bpf/xdpswitch') && (await run(['sh', '-c', `ls -d /sys/fs/bpf/xdpswitch/v*/${pins}`], { allowFail: true })).code === 0;

  first.child.kill('SIGTERM');
  expect(await first.exit).toBe(0);
  for (const f of ['db.sock', `${br}.mgmt`, 'xdpswitch.pid']) expect(existsSync(join(dir, f))).toBe(false);
  expect((await run(['ip', 'link', 'show', br], { allowFail: true })).code).not.toBe(0);
  expect((await run(['ip', '-d', 'link', 'show', port])).stdout).not.toContain('prog/xdp');
  if (loaded) expect((await run(['sh', '-c', `ls -d /sys/fs/bpf/xdpswitch/v*/${pins}`], { allowFail: true })).code).not.toBe(0);

  // The database keeps the configuration; a new daemon builds the bridge from it.
  const again = start(dir);
  await waitFor(() => existsSync(join(dir, `${br}.mgmt`)), 'the bridge socket after restart', 30_000, 100);
  expect((await run(['ovs-ofctl', '-O', 'OpenFlow13', 'show', br], { env })).stdout).toContain(`LOCAL(${br})`);
  // ovs-appctl finds it under OVS's names, as it finds ovs-vswitchd and ovsdb-server
  // (locked pid files and <name>.<pid>.ctl sockets).
  expect((await run(['ovs-appctl', 'version'], { env })).stdout).toContain('ovs-vswitchd (xdpswitch)');
  expect((await run(['ovs-appctl', 'ofproto/list'], { env })).stdout.split('\n')).toContain(br);
  expect((await run(['ovs-appctl', '-t', 'ovsdb-server', 'ovsdb-server/list-dbs'], { env })).stdout.split('\n')).toContain('Open_vSwitch');
  // vlog/list and vlog/set per module, in lib/vlog.c's format and words (as ovs-vswitchd 3.1).
  const vlog = (...args: string[]) => run(['ovs-appctl', ...args], { env, allowFail: true });
  const listed = (await vlog('vlog/list')).stdout;
  expect(listed.split('\n').slice(0, 2)).toEqual(['                 console    syslog    file', '                 -------    ------    ------']);
  expect(listed).toMatch(/^bridge {12}INFO {7}INFO {7}INFO$/m);
  expect((await vlog('vlog/set', 'bridge:file:dbg', 'ANY:console:warn')).code).toBe(0);
  const after = (await vlog('vlog/list')).stdout;
  expect(after).toMatch(/^bridge {12}WARN {7}INFO {8}DBG$/m);
  expect(after).toMatch(/^datapath {10}WARN {7}INFO {7}INFO$/m);
  const bad = await vlog('vlog/set', 'nosuch:dbg');
  expect([bad.code, bad.stderr.split('\n')[0]]).toEqual([2, 'no destination, level, or module "nosuch"']);
  // `ovs-appctl exit --cleanup` stops it as SIGTERM does.
  await run(['ovs-appctl', '-t', join(dir, 'xdpswitch.ctl'), 'exit', '--cleanup']);
  expect(await again.exit).toBe(0);
  for (const f of ['xdpswitch.ctl', 'ovs-vswitchd.pid', 'ovsdb-server.pid', `ovs-vswitchd.${again.child.pid}.ctl`, `ovsdb-server.${again.child.pid}.ctl`]) expect(existsSync(join(dir, f)), f).toBe(false);
  expect((await run(['ip', 'link', 'show', br], { allowFail: true })).code).not.toBe(0);
});

test('after SIGKILL a new daemon takes over the run dir, its devices and programs, and del-br removes them', async () => {
  const topo = await Topology.create();
  const dir = topo.dir;
  const env = { ...process.env, OVS_RUNDIR: dir, OVS_DBDIR: dir, OVS_LOGDIR: dir };
  const br = topo.name('br');
  const internal = topo.name('i0');
  const [port] = await topo.vethPair('p0', 'p1');
  const [gone] = await topo.vethPair('g0', 'g1');
  const first = start(dir);
  await waitFor(() => existsSync(join(dir, 'db.sock')), 'db.sock', 30_000, 100);
  // Ports 1, 2, 3, then 1 freed: a restart that allocated afresh would renumber.
  await run(['ovs-vsctl', '--timeout=30', 'add-br', br, '--', 'add-port', br, gone], { env });
  await run(['ovs-vsctl', '--timeout=30', 'add-port', br, port], { env });
  await run(['ovs-vsctl', '--timeout=30', 'add-port', br, internal, '--', 'set', 'Interface', internal, 'type=internal'], { env });
  await run(['ovs-vsctl', '--timeout=30', 'del-port', br, gone], { env });
  const ofports = async () => (await run(['ovs-vsctl', '--timeout=30', '--columns=name,ofport', 'list', 'Interface'], { env })).stdout.trim().split(/\n\s*\n/).map((r) => r.trim()).sort();
  const before = await ofports();
  expect(before.map((r) => r.replace(/^name +: \S+\s+ofport +: /, '')).sort()).toEqual(['2', '3', '65534']);
  first.child.kill('SIGKILL');
  await first.exit;
  // What a killed daemon leaves: the pid file, the sockets, the devices it made.
  expect(existsSync(join(dir, 'xdpswitch.pid'))).toBe(true);
  expect((await run(['ip', 'link', 'show', internal])).code).toBe(0);

  const second = start(dir);
  await waitFor(() => existsSync(join(dir, `${br}.mgmt`)) && second.out().includes(`added interface ${internal}`), 'the bridge rebuilt', 30_000, 100);
  // Interfaces keep their numbers (OVS: the ofport column is the hint when there is no request).
  expect(await ofports()).toEqual(before);
  await run(['ovs-vsctl', '--timeout=30', 'del-br', br], { env });
  for (const dev of [br, internal]) expect((await run(['ip', 'link', 'show', dev], { allowFail: true })).code).not.toBe(0);
  expect((await run(['ip', '-d', 'link', 'show', port])).stdout).not.toContain('prog/xdp');
  second.child.kill('SIGTERM');
  expect(await second.exit).toBe(0);
});

test('--ovsdb-only serves the database and runs no bridges', async () => {
  const topo = await Topology.create();
  const dir = topo.dir;
  const env = { ...process.env, OVS_RUNDIR: dir, OVS_DBDIR: dir, OVS_LOGDIR: dir };
  const br = topo.name('br');
  const db = start(dir, '--ovsdb-only');
  await waitFor(() => existsSync(join(dir, 'db.sock')), 'db.sock', 30_000, 100);
  await run(['ovs-vsctl', '--timeout=10', '--no-wait', 'add-br', br], { env });
  expect((await run(['ovs-vsctl', '--timeout=10', 'list-br'], { env })).stdout.trim()).toBe(br);
  expect(existsSync(join(dir, `${br}.mgmt`))).toBe(false);
  expect((await run(['ip', 'link', 'show', br], { allowFail: true })).code).not.toBe(0);
  db.child.kill('SIGTERM');
  expect(await db.exit).toBe(0);
});
