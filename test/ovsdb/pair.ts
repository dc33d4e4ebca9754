// Differential test harness: one database file created by `ovsdb-tool create`, copied
// twice, served by the real ovsdb-server and by xdpswitch side by side, so a test can
// run the same stock client command against both and compare normalized output.
import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { afterAll, beforeAll } from 'vitest';
import { run, spawnChild, stopChild, waitFor, type RunResult } from '../harness/exec.js';
import { startOvsdbServer, type OvsdbServer } from '../../src/ovsdb/server.js';

export const VSWITCH_SCHEMA = '/usr/share/openvswitch/vswitch.ovsschema';

export interface Side {
  name: 'ovs' | 'xdp';
  dir: string;
  db: string;
  sock: string;
  remote: string;
  env: NodeJS.ProcessEnv;
}

export interface Pair {
  ovs: Side;
  xdp: Side;
  server: OvsdbServer;
  ovsChild: ChildProcess;
  dir: string;
  stop(): Promise<void>;
}

/** Resolves once something accepts connections on the unix socket `path`. */
export async function waitForListening(path: string, timeoutMs = 20_000): Promise<void> {
  await waitFor(
    () =>
      new Promise<boolean>((resolve) => {
        const c = net.connect(path, () => {
          c.destroy();
          resolve(true);
        });
        c.once('error', () => resolve(false));
      }),
    `a listener on ${path}`,
    timeoutMs,
  );
}

/** Starts ovsdb-server and xdpswitch (in-process) on copies of one fresh database. */
export interface PairOptions {
  schema?: string;
  extraRemotes?: string[];
  /** More remotes for each side (e.g. on ports of its own). */
  remotes?: (side: 'ovs' | 'xdp') => string[];
  ssl?: { privateKey: string; certificate: string; caCert: string };
}

export async function startPair(opts: PairOptions = {}): Promise<Pair> {
  const dir = mkdtempSync(join(tmpdir(), 'xsw-ovsdb-'));
  const base = join(dir, 'base.db');
  await run(['ovsdb-tool', 'create', base, opts.schema ?? VSWITCH_SCHEMA]);
  const mk = (name: 'ovs' | 'xdp'): Side => {
    const d = join(dir, name);
    const s = { name, dir: d, db: join(d, 'conf.db'), sock: join(d, 'db.sock'), remote: '', env: {} } as Side;
    s.remote = `unix:${s.sock}`;
    s.env = { ...process.env, OVS_RUNDIR: d, OVS_LOGDIR: d, OVS_DBDIR: d };
    return s;
  };
  const ovs = mk('ovs');
  const xdp = mk('xdp');
  for (const s of [ovs, xdp]) {
    mkdirSync(s.dir, { recursive: true });
    copyFileSync(base, s.db);
  }
  const ovsChild = spawnChild(
    [
      'ovsdb-server',
      `--remote=punix:${ovs.sock}`,
      ...(opts.extraRemotes ?? []),
      ...(opts.remotes?.('ovs') ?? []).map((r) => `--remote=${r}`),
      ...(opts.ssl ? [`--private-key=${opts.ssl.privateKey}`, `--certificate=${opts.ssl.certificate}`, `--ca-cert=${opts.ssl.caCert}`] : []),
      `--unixctl=${join(ovs.dir, 'ctl')}`,
      '--no-chdir',
      `--log-file=${join(ovs.dir, 'log')}`,
      ovs.db,
    ],
    ovs.env,
  );
  const server = await startOvsdbServer({
    databases: [xdp.db],
    remotes: [`punix:${xdp.sock}`, ...(opts.remotes?.('xdp') ?? [])],
    ssl: opts.ssl,
  });
  await waitForListening(ovs.sock);
  return {
    ovs,
    xdp,
    server,
    ovsChild,
    dir,
    async stop() {
      await server.close();
      await stopChild(ovsChild);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * Starts a pair before the file's tests (running `ovs-vsctl init` on both unless
 * told not to) and stops it after them; returns a getter for it.
 */
export function usePair(opts: PairOptions & { init?: boolean } = {}): () => Pair {
  let p: Pair | undefined;
  beforeAll(async () => {
    p = await startPair(opts);
    if (opts.init !== false) for (const s of [p.ovs, p.xdp]) await vsctl(s, ['init']);
  });
  afterAll(async () => {
    await p?.stop();
  });
  return () => p as Pair;
}

export function vsctl(s: Side, args: string[], input?: string): Promise<RunResult> {
  return run(['ovs-vsctl', `--db=${s.remote}`, '--no-wait', '--timeout=10', ...args], { allowFail: true, env: s.env, input });
}

export function client(s: Side, args: string[]): Promise<RunResult> {
  const [cmd, ...rest] = args;
  return run(['ovsdb-client', '--timeout=10', cmd as string, s.remote, ...rest], { allowFail: true, env: s.env });
}

const UUID_RE = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g;
const ROW_NAME_RE = /row[0-9a-f]{8}_[0-9a-f]{4}_[0-9a-f]{4}_[0-9a-f]{4}_[0-9a-f]{12}/g;

/** Replaces each distinct UUID by <n>, numbered in order of first appearance. */
export function normalizeUuids(text: string): string {
  const seen = new Map<string, number>();
  return text
    .replace(UUID_RE, (u) => {
      let n = seen.get(u);
      if (n === undefined) seen.set(u, (n = seen.size));
      return `<${n}>`;
    })
    .replace(ROW_NAME_RE, '<row>');
}

/** Every UUID becomes <uuid> (for outputs whose row order depends on UUIDs). */
export function maskUuids(text: string): string {
  return text.replace(UUID_RE, '<uuid>').replace(ROW_NAME_RE, '<row>');
}

export function normalizeDates(text: string): string {
  return text
    .replace(/\d{4}-\d\d-\d\d[ T]\d\d:\d\d:\d\d(\.\d+)?Z?/g, '<date>')
    .replace(/"_date":\d+/g, '"_date":<ms>');
}

/** Normalized stdout/stderr/status of one command, as a test compares them. */
export function outcome(r: RunResult, sortLines = false): string {
  const fix = (t: string): string => {
    let s = normalizeDates(normalizeUuids(t.replace(/\(invoked by [^)]*\)/g, '(invoked by X)')));
    if (sortLines) s = maskUuids(t).split('\n').sort().join('\n');
    return s.replace(/unix:\/[^\s:]*\/(ovs|xdp)\/db\.sock/g, 'unix:SOCK');
  };
  return `status ${r.code}\nstdout:\n${fix(r.stdout)}\nstderr:\n${fix(r.stderr)}`;
}

const MAIN = new URL('../../src/cli/main.ts', import.meta.url).pathname;
/** tsx's loader by absolute URL: `--import tsx` would resolve from the cwd. */
export const TSX_LOADER = new URL('../../node_modules/tsx/dist/loader.mjs', import.meta.url).href;

/** Starts `xdpswitch ARGS...` from the sources, as its own process (for kill -9). */
export function spawnXdpswitch(args: string[], env?: NodeJS.ProcessEnv): ChildProcess {
  return spawnChild([process.execPath, '--import', TSX_LOADER, MAIN, ...args], env);
}
