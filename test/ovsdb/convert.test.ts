// "convert" (ovsdb-client convert) against xdpswitch and the real ovsdb-server on
// copies of one database: the same errors for a schema the data does not fit or that
// names another database, the same data, file and _Server row after a conversion, and
// a change-aware monitor told its database went away.
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { run } from '../harness/exec.js';
import { client, outcome, usePair, vsctl, VSWITCH_SCHEMA, type Side } from './pair.js';

type Schema = { name: string; version: string; tables: Record<string, { columns: Record<string, unknown> }> };

function variant(dir: string, name: string, edit: (s: Schema) => void): string {
  const s = JSON.parse(readFileSync(VSWITCH_SCHEMA, 'utf8')) as Schema;
  edit(s);
  const path = join(dir, `${name}.ovsschema`);
  writeFileSync(path, JSON.stringify(s));
  return path;
}

describe('convert', () => {
  const pair = usePair();

  test('ovsdb-client convert: errors, data, file and _Server row alike', async () => {
    const p = pair();
    const both = async (f: (s: Side) => Promise<string>): Promise<void> => {
      const [o, x] = [await f(p.ovs), await f(p.xdp)];
      expect(x).toBe(o);
    };
    for (const s of [p.ovs, p.xdp]) {
      await vsctl(s, ['add-br', 'br0', '--', 'set', 'bridge', 'br0', 'external_ids:k=v', 'stp_enable=true']);
      await vsctl(s, ['add-port', 'br0', 'p1', 'tag=7']);
    }
    const tooShort = variant(p.dir, 'short', (s) => {
      s.tables.Bridge!.columns.name = { type: { key: { type: 'string', maxLength: 2 } } };
    });
    const other = variant(p.dir, 'other', (s) => {
      s.name = 'Other';
    });
    const good = variant(p.dir, 'good', (s) => {
      s.version = '9.9.9';
      delete s.tables.Flow_Sample_Collector_Set;
      s.tables.Bridge!.columns.newcol = { type: { key: 'integer', min: 0, max: 1 } };
      // tag becomes a set: its integers convert.
      s.tables.Port!.columns.tag = { type: { key: { type: 'integer', minInteger: 0, maxInteger: 4095 }, min: 0, max: 'unlimited' } };
    });
    const badType = variant(p.dir, 'badtype', (s) => {
      s.tables.Bridge!.columns.stp_enable = { type: 'string' };
    });
    await both(async (s) => outcome(await client(s, ['convert', tooShort])));
    await both(async (s) => outcome(await client(s, ['convert', badType])));
    await both(async (s) => outcome(await client(s, ['convert', other])));
    await both(async (s) => outcome(await client(s, ['get-schema-version'])));
    await both(async (s) => outcome(await client(s, ['convert', good])));
    await both(async (s) => outcome(await client(s, ['get-schema-version'])));
    await both(async (s) => outcome(await client(s, ['list-tables']), true));
    await both(async (s) => outcome(await client(s, ['dump', 'Open_vSwitch', 'Bridge', 'name', 'newcol', 'external_ids', 'stp_enable'])));
    await both(async (s) => outcome(await client(s, ['dump', 'Open_vSwitch', 'Port', 'name', 'tag'])));
    // ovsdb-server writes a _Server.Database row's schema only when it adds the row, so
    // the row keeps showing the schema the database was opened with.
    await both(async (s) =>
      outcome(await client(s, ['transact', '["_Server",{"op":"select","table":"Database","where":[["name","==","Open_vSwitch"]],"columns":["name","model","schema"]}]'])),
    );
    // The file: the new schema and one record, readable by ovsdb-tool.
    await both(async (s) => {
      const log = await run(['ovsdb-tool', 'show-log', s.db], { allowFail: true });
      const ver = await run(['ovsdb-tool', 'db-version', s.db], { allowFail: true });
      return outcome(log) + outcome(ver);
    });
    // Still writable after the conversion, and the write lands in the new file.
    await both(async (s) => outcome(await vsctl(s, ['add-br', 'br9'])) + outcome(await vsctl(s, ['list-br'])));
  });

  test('a change-aware monitor hears that the database was removed', async () => {
    const p = pair();
    const watch = async (s: Side): Promise<string> => {
      const mon = spawn('ovsdb-client', ['monitor', s.remote, 'Open_vSwitch', 'Bridge', 'name'], { env: s.env });
      let out = '';
      mon.stdout.on('data', (d: Buffer) => (out += d.toString()));
      mon.stderr.on('data', (d: Buffer) => (out += d.toString()));
      const exited = new Promise<number | null>((resolve) => mon.once('exit', (code) => resolve(code)));
      try {
        for (let i = 0; i < 100 && !out.includes('initial'); i++) await new Promise((r) => setTimeout(r, 50));
        await client(s, ['convert', VSWITCH_SCHEMA]);
        const code = await Promise.race([exited, new Promise<string>((r) => setTimeout(() => r('still running'), 5000))]);
        // Rows come in UUID-hash order from ovsdb-server: compare them sorted.
        const lines = out.replace(/[0-9a-f-]{36}/g, '<uuid>').replace(/unix:\S*\/(ovs|xdp)\/db\.sock/g, 'SOCK').split('\n');
        return `${code}\n${lines.sort().join('\n')}`;
      } finally {
        if (mon.exitCode === null) mon.kill();
      }
    };
    expect(await watch(p.xdp)).toBe(await watch(p.ovs));
  });
});
