// The README's first command: the demo forwards ping through XDP and TCP through TC,
// and leaves nothing behind, also when interrupted.
import { describe, expect, test } from 'vitest';
import { run, spawnChild, waitFor } from '../harness/exec.js';

const bin = new URL('../../bin/xdpswitch.js', import.meta.url).pathname;

async function leftovers(pid: number): Promise<string[]> {
  const prefix = `xsd${pid % 100000}`;
  const ns = (await run(['ip', 'netns', 'list'])).stdout.split('\n').filter((l) => l.startsWith(prefix));
  const links = (await run(['ip', '-o', 'link', 'show'])).stdout.split('\n').filter((l) => l.includes(prefix));
  const pins = (await run(['sh', '-c', `ls /sys/fs/bpf/xdpswitch/*/ 2>/dev/null || true`])).stdout.split('\n').filter((l) => l.includes(`demo-${pid}`));
  return [...ns, ...links, ...pins];
}

describe('xdpswitch demo', () => {
  test('pings through XDP, streams TCP through TC, prints counters, cleans up', async () => {
    const child = spawnChild(['node', bin, 'demo', '--seconds', '1']);
    let out = '';
    child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
    const code = await new Promise<number | null>((r) => child.on('exit', r));
    expect(code, out).toBe(0);
    expect(out).toMatch(/through XDP: 5 packets transmitted, 5 received/);
    const gbps = Number(/through TC, default offloads: ([\d.]+) Gbit\/s/.exec(out)?.[1]);
    expect(gbps).toBeGreaterThan(0.1);
    expect(out).toMatch(/rx [1-9]\d* pkts/);
    expect(await leftovers(child.pid!)).toEqual([]);
  });

  test('Ctrl-C in the middle removes the hosts and the datapath', async () => {
    const child = spawnChild(['node', bin, 'demo', '--seconds', '10']);
    let out = '';
    child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
    await waitFor(() => out.includes('joined at tc'), 'the TCP phase', 20_000);
    child.kill('SIGINT');
    const code = await new Promise<number | null>((r) => child.on('exit', r));
    expect(code).toBe(130);
    expect(await leftovers(child.pid!)).toEqual([]);
  });

  test('a bad option gets the usage and exit status 2', async () => {
    const r = await run(['node', bin, 'demo', '--frobnicate'], { allowFail: true });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('usage: xdpswitch demo');
  });
});
