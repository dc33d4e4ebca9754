// The README's first command: the demo starts the switch, builds four hosts with the
// stock clients, forwards ping and TCP through the pipeline, prints dump-flows with
// counters, and leaves nothing behind, also when interrupted.
import { createHash } from 'node:crypto';
import { describe, expect, test } from 'vitest';
import { run, spawnChild, waitFor } from '../harness/exec.js';

const bin = new URL('../../bin/xdpswitch.js', import.meta.url).pathname;

/** What the demo run `pid` on `rundir` could have left: its namespaces, links and pinned maps. */
async function leftovers(pid: number, out: string): Promise<string[]> {
  const prefix = `xsd${pid % 100000}`;
  const rundir = /starting xdpswitch on (\S+)/.exec(out)?.[1] ?? '';
  // The daemon pins each bridge's maps under vswitchd-<sha1(rundir)[0:8]>-<bridge>.
  const instance = `vswitchd-${createHash('sha1').update(rundir).digest('hex').slice(0, 8)}`;
  const ns = (await run(['ip', 'netns', 'list'])).stdout.split('\n').filter((l) => l.startsWith(prefix));
  const links = (await run(['ip', '-o', 'link', 'show'])).stdout.split('\n').filter((l) => l.includes(prefix));
  const pins = (await run(['sh', '-c', 'ls /sys/fs/bpf/xdpswitch/*/ 2>/dev/null || true'])).stdout.split('\n').filter((l) => l.startsWith(instance));
  return [...ns, ...links, ...pins];
}

describe('xdpswitch demo', () => {
  test('four hosts on a bridge: ping across, TCP, dump-flows counters; cleans up', async () => {
    const child = spawnChild(['node', bin, 'demo', '--seconds', '1']);
    let out = '';
    child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
    const code = await new Promise<number | null>((r) => child.on('exit', r));
    expect(code, out).toBe(0);
    for (const n of [2, 3, 4]) expect(out).toMatch(new RegExp(`ping 10\\.253\\.0\\.1 → 10\\.253\\.0\\.${n}: 3 packets transmitted, 3 received`));
    const gbps = Number(/default offloads: ([\d.]+) Gbit\/s/.exec(out)?.[1]);
    expect(gbps).toBeGreaterThan(0.1);
    // The flow to the TCP server counted the stream.
    const toH2 = /n_packets=(\d+).*dl_dst=02:00:0a:fd:00:02 actions=output:2/.exec(out);
    expect(Number(toH2?.[1])).toBeGreaterThan(100);
    expect(await leftovers(child.pid!, out)).toEqual([]);
  });

  test('Ctrl-C in the middle removes the hosts, the switch and its run dir', async () => {
    const child = spawnChild(['node', bin, 'demo', '--seconds', '10']);
    let out = '';
    child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
    await waitFor(() => out.includes('default offloads') || out.includes('→ 10.253.0.4'), 'the traffic phase', 30_000);
    child.kill('SIGINT');
    const code = await new Promise<number | null>((r) => child.on('exit', r));
    expect(code).toBe(130);
    const rundir = /starting xdpswitch on (\S+)/.exec(out)?.[1];
    expect(rundir).toBeDefined();
    expect((await run(['test', '-e', rundir!], { allowFail: true })).code).not.toBe(0);
    expect(await leftovers(child.pid!, out)).toEqual([]);
  });

  test('a bad option gets the usage and exit status 2', async () => {
    const r = await run(['node', bin, 'demo', '--frobnicate'], { allowFail: true });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('usage: xdpswitch demo');
  });
});
