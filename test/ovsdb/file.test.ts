// The standalone file format: ovsdb-tool reads what xdpswitch writes as it reads
// ovsdb-server's file, a torn last record is cut off at start with a log line,
// compaction replaces the file atomically, and kill -9 in the middle of a write load
// loses no acknowledged transaction.
import { appendFileSync, existsSync, lstatSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, truncateSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import { run, stopChild, waitFor } from '../harness/exec.js';
import { OvsdbClient } from '../../src/ovsdb/client.js';
import { startOvsdbServer, type OvsdbServer } from '../../src/ovsdb/server.js';
import type { LogSink } from '../../src/ovsdb/vlog.js';
import { normalizeDates, normalizeUuids, spawnXdpswitch, startPair, vsctl, VSWITCH_SCHEMA, waitForListening, type Pair } from './pair.js';

const tool = (args: string[]) => run(['ovsdb-tool', ...args], { allowFail: true });

/** ovsdb-tool output with dates, UUIDs and (within each record) line order normalized. */
function normalizeLog(text: string): string {
  const t = normalizeDates(normalizeUuids(text.replace(/\(invoked by [^)]*\)/g, '')))
    .replace(/\b[0-9a-f]{8}\b/g, '<short>')
    .replace(/unix:\/\S*\/db\.sock/g, 'SOCK');
  // Tables within one record come in an order that varies even between ovsdb-server runs.
  return t
    .split(/\n(?=record )/)
    .map((rec) => rec.split('\n').sort().join('\n'))
    .join('\n');
}

describe('ovsdb-tool reads our files as it reads ovsdb-server\'s', () => {
  let p: Pair;
  beforeAll(async () => {
    p = await startPair();
    for (const s of [p.ovs, p.xdp]) {
      await vsctl(s, ['init']);
      await vsctl(s, ['add-br', 'br0']);
      await vsctl(s, ['add-port', 'br0', 'p1']);
      await vsctl(s, ['set', 'port', 'p1', 'tag=3', 'other_config:a=b', 'trunks=1,2']);
      await vsctl(s, ['remove', 'port', 'p1', 'trunks', '1']);
      await vsctl(s, ['del-port', 'p1']);
    }
  });
  afterAll(async () => {
    await p?.stop();
  });

  test.each([
    [['show-log']],
    [['show-log', '-m']],
    [['show-log', '-mm']],
    [['db-version']],
    [['db-cksum']],
    [['db-name']],
    [['query', '["Open_vSwitch",{"op":"select","table":"Bridge","where":[],"columns":["name","ports"]}]']],
  ])('ovsdb-tool %j', async (args) => {
    const opts = args.filter((a) => a.startsWith('-'));
    const rest = args.filter((a) => !a.startsWith('-')).slice(1);
    const [a, b] = await Promise.all(
      [p.ovs.db, p.xdp.db].map(async (db) => {
        const r = await tool([args[0] as string, ...opts, db, ...rest]);
        return `${r.code}\n${normalizeLog(r.stdout)}\n${r.stderr}`;
      }),
    );
    expect(b).toBe(a);
  });
});

describe('storage', () => {
  let dir: string;
  let server: OvsdbServer | null = null;
  const lines: string[] = [];
  const sink: LogSink = { write: (_m, level, text) => lines.push(`${level}|${text}`) };

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'xsw-ovsdb-file-'));
  });
  async function closeServer(): Promise<void> {
    await server?.close();
    server = null;
  }
  afterEach(closeServer);
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  async function open(db: string): Promise<OvsdbClient> {
    const sock = join(dir, 'db.sock');
    server = await startOvsdbServer({ databases: [db], remotes: [`punix:${sock}`], log: sink });
    return OvsdbClient.connect(`unix:${sock}`);
  }

  const addQos = (c: OvsdbClient, n: number) =>
    c.transact('Open_vSwitch', { op: 'insert', table: 'QoS', row: { type: `q${n}`, external_ids: ['map', [['n', String(n)]]] } });

  async function qosTypes(c: OvsdbClient): Promise<string[]> {
    const [r] = await c.transact('Open_vSwitch', { op: 'select', table: 'QoS', where: [], columns: ['type'] });
    return (r?.rows ?? []).map((row) => row.type as string).sort();
  }

  test('a file that does not exist is created from the schema, as ovsdb-tool create would', async () => {
    const db = join(dir, 'new.db');
    const c = await open(db);
    c.close();
    await closeServer();
    const ref = join(dir, 'ref.db');
    await run(['ovsdb-tool', 'create', ref, VSWITCH_SCHEMA]);
    expect(readFileSync(db)).toEqual(readFileSync(ref));
  });

  test('a database path that is a dangling symlink (Debian\'s /etc/openvswitch/conf.db) is created and compacted at its target', async () => {
    const target = join(dir, 'var-lib', 'conf.db');
    const link = join(dir, 'etc-conf.db');
    symlinkSync(target, link);
    const c = await open(link);
    for (let i = 0; i < 5; i++) await addQos(c, i);
    await (server as OvsdbServer | null)?.compact('Open_vSwitch');
    await addQos(c, 5);
    c.close();
    await closeServer();
    expect(lstatSync(link).isSymbolicLink()).toBe(true);
    const q = await tool(['query', link, '["Open_vSwitch",{"op":"select","table":"QoS","where":[],"columns":["type"]}]']);
    expect((JSON.parse(q.stdout) as { rows: unknown[] }[])[0]?.rows).toHaveLength(6);
    expect(statSync(target).isFile()).toBe(true);
  });

  test('a torn last record is cut off at start, with a log line', async () => {
    const db = join(dir, 'torn.db');
    await run(['ovsdb-tool', 'create', db, VSWITCH_SCHEMA]);
    let c = await open(db);
    for (let i = 0; i < 3; i++) await addQos(c, i);
    c.close();
    await closeServer();
    const full = statSync(db).size;
    truncateSync(db, full - 20);
    lines.length = 0;
    c = await open(db);
    expect(await qosTypes(c)).toEqual(['q0', 'q1']);
    expect(lines.some((l) => /error reading \d+ bytes starting at offset \d+/.test(l))).toBe(true);
    expect(lines.some((l) => /truncating/.test(l))).toBe(true);
    await addQos(c, 9);
    c.close();
    await closeServer();
    const log = await tool(['show-log', db]);
    expect(log.code).toBe(0);
    expect(log.stdout.match(/^record \d+:/gm)).toHaveLength(4);
  });

  test('garbage after the last record is dropped the same way', async () => {
    const db = join(dir, 'garbage.db');
    await run(['ovsdb-tool', 'create', db, VSWITCH_SCHEMA]);
    let c = await open(db);
    await addQos(c, 1);
    c.close();
    await closeServer();
    appendFileSync(db, 'OVSDB JSON 10 0000000000000000000000000000000000000000\n{"x":12}\n\n');
    lines.length = 0;
    c = await open(db);
    expect(await qosTypes(c)).toEqual(['q1']);
    expect(lines.some((l) => /have SHA-1 hash .* but should have hash/.test(l))).toBe(true);
    c.close();
    expect((await tool(['show-log', db])).code).toBe(0);
  });

  test('compaction rewrites the file as schema plus one snapshot, atomically', async () => {
    const db = join(dir, 'compact.db');
    await run(['ovsdb-tool', 'create', db, VSWITCH_SCHEMA]);
    const c = await open(db);
    for (let i = 0; i < 20; i++) await addQos(c, i);
    await c.transact('Open_vSwitch', { op: 'delete', table: 'QoS', where: [['type', '==', 'q3']] });
    const before = statSync(db).size;
    await (server as OvsdbServer | null)?.compact('Open_vSwitch');
    expect(statSync(db).size).toBeLessThan(before);
    expect(existsSync(`${db}.tmp`)).toBe(false);
    // The server keeps appending to the new file.
    await addQos(c, 99);
    const want = await qosTypes(c);
    c.close();
    const log = await tool(['show-log', db]);
    expect(log.stdout).toContain('"compacting database online"');
    expect(log.stdout.match(/^record \d+:/gm)).toHaveLength(3);
    const q = await tool(['query', db, '["Open_vSwitch",{"op":"select","table":"QoS","where":[],"columns":["type"]}]']);
    const got = (JSON.parse(q.stdout) as { rows: { type: string }[] }[])[0]?.rows.map((r) => r.type).sort();
    expect(got).toEqual(want);
    expect(want).toHaveLength(20);
  });

  test('kill -9 during a write load loses no acknowledged transaction', async () => {
    const db = join(dir, 'kill.db');
    const sock = join(dir, 'kill.sock');
    await run(['ovsdb-tool', 'create', db, VSWITCH_SCHEMA]);
    const child = spawnXdpswitch(['ovsdb-server', `--remote=punix:${sock}`, db]);
    try {
      await waitForListening(sock);
      const clients = await Promise.all([0, 1, 2, 3].map(() => OvsdbClient.connect(`unix:${sock}`)));
      const acked: number[] = [];
      let n = 0;
      let stop = false;
      const load = clients.map(async (c) => {
        while (!stop) {
          const i = n++;
          try {
            await addQos(c, i);
            acked.push(i);
          } catch {
            return;
          }
        }
      });
      await waitFor(() => acked.length >= 300, '300 acknowledged transactions', 20_000, 5);
      child.kill('SIGKILL');
      stop = true;
      await Promise.all(load);
      const q = await tool(['query', db, '["Open_vSwitch",{"op":"select","table":"QoS","where":[],"columns":["type"]}]']);
      expect(q.code).toBe(0);
      const inFile = new Set((JSON.parse(q.stdout) as { rows: { type: string }[] }[])[0]?.rows.map((r) => r.type));
      const lost = acked.filter((i) => !inFile.has(`q${i}`));
      expect(lost).toEqual([]);
      expect(acked.length).toBeGreaterThanOrEqual(300);
      expect((await tool(['show-log', db])).code).toBe(0);
    } finally {
      await stopChild(child, 'SIGKILL').catch(() => undefined);
    }
  });
});
