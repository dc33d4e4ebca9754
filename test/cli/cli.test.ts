// The binary as users and other tools start it: `npx xdpswitch ...` from the package.
import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { run } from '../harness/exec.js';

const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };

describe('xdpswitch binary', () => {
  test('--version prints the package version', async () => {
    const r = await run(['npx', '--no-install', 'xdpswitch', '--version']);
    expect(r.stdout.trim()).toBe(`xdpswitch ${pkg.version}`);
  });

  test('--help lists every command with its summary', async () => {
    const { commands } = await import('../../src/cli/commands/index.js');
    const r = await run(['npx', '--no-install', 'xdpswitch', '--help']);
    expect(r.stdout).toMatch(/^usage: xdpswitch COMMAND/);
    for (const c of commands) expect(r.stdout).toContain(c.name);
  });

  test("the index's names and summaries are the commands' own", async () => {
    const { commands } = await import('../../src/cli/commands/index.js');
    for (const c of commands) {
      const cmd = await c.load();
      expect({ name: cmd.name, summary: cmd.summary }).toEqual({ name: c.name, summary: c.summary });
    }
  });

  test('NAME --help prints the command usage', async () => {
    const r = await run(['npx', '--no-install', 'xdpswitch', 'ovsdb-server', '--help']);
    expect(r.stdout).toContain('ovsdb-server');
    expect(r.stdout).toMatch(/--remote/);
  });

  test('an unknown command is refused with exit status 2', async () => {
    const r = await run(['npx', '--no-install', 'xdpswitch', 'frobnicate'], { allowFail: true });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('unknown command "frobnicate"');
  });
});
