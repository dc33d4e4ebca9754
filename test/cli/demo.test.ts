// The README's first command: the demo starts the switch, builds four hosts with the
// stock clients, lets an os-ken controller (default), NORMAL (--standalone) or static
// flows (--static) program the bridge, forwards ping and TCP through the pipeline,
// prints dump-flows with counters, and leaves nothing behind, also when interrupted.
import { createHash } from 'node:crypto';
import { describe, expect, test } from 'vitest';
import { run, spawnChild, waitFor } from '../harness/exec.js';

const bin = new URL('../../bin/xdpswitch.js', import.meta.url).pathname;
const mac = (n: number) => `02:00:0a:fd:00:0${n}`;

interface DemoRun {
  pid: number;
  code: number | null;
  out: string;
}

async function demo(...args: string[]): Promise<DemoRun> {
  const child = spawnChild(['node', bin, 'demo', ...args]);
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  const code = await new Promise<number | null>((r) => child.on('exit', r));
  return { pid: child.pid!, code, out };
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/** What the demo run `pid` could have left: namespaces, links, pinned maps, its run dir, the controller. */
async function leftovers(pid: number, out: string): Promise<string[]> {
  const prefix = `xsd${pid % 100000}`;
  const rundir = /starting xdpswitch on (\S+)/.exec(out)?.[1] ?? '';
  // The daemon pins each bridge's maps under vswitchd-<sha1(rundir)[0:8]>-<bridge>.
  const instance = `vswitchd-${createHash('sha1').update(rundir).digest('hex').slice(0, 8)}`;
  const ns = (await run(['ip', 'netns', 'list'])).stdout.split('\n').filter((l) => l.startsWith(prefix));
  const links = (await run(['ip', '-o', 'link', 'show'])).stdout.split('\n').filter((l) => l.includes(prefix));
  const pins = (await run(['sh', '-c', 'ls /sys/fs/bpf/xdpswitch/*/ 2>/dev/null || true'])).stdout.split('\n').filter((l) => l.startsWith(instance));
  const dir = rundir && (await run(['test', '-e', rundir], { allowFail: true })).code === 0 ? [rundir] : [];
  const ctl = Number(/os-ken listening on \S+ \(pid (\d+)\)/.exec(out)?.[1]);
  const procs = ctl > 0 && alive(ctl) ? [`osken-manager pid ${ctl}`] : [];
  return [...ns, ...links, ...pins, ...dir, ...procs];
}

/** dump-flows lines as printed by the demo, by their match and actions. */
function flow(out: string, rule: string): { packets: number; bytes: number } | undefined {
  const line = out.split('\n').find((l) => l.trim().startsWith('cookie=') && l.includes(rule));
  const m = line && /n_packets=(\d+), n_bytes=(\d+)/.exec(line);
  return m ? { packets: Number(m[1]), bytes: Number(m[2]) } : undefined;
}

function expectPings(out: string): void {
  for (const n of [2, 3, 4]) expect(out).toMatch(new RegExp(`ping 10\\.253\\.0\\.1 → 10\\.253\\.0\\.${n}: 3 packets transmitted, 3 received`));
}

const gbps = (out: string) => Number(/default offloads: ([\d.]+) Gbit\/s/.exec(out)?.[1] ?? 0);

describe('xdpswitch demo', () => {
  test('default: the os-ken learning switch connects, learns from packet-ins, installs the flows that carry ping and TCP', async () => {
    const { pid, code, out } = await demo('--seconds', '1');
    expect(code, out).toBe(0);
    // The switch reports the connection in its Controller row, and the app saw the handshake.
    expect(out).toMatch(/Controller is_connected=true role=other/);
    const dpid = /\[controller\] connected dpid=([0-9a-f]{16})/.exec(out)?.[1];
    expect(dpid, out).toBeDefined();
    // Each host's MAC was learned on its port from a packet-in.
    for (const n of [1, 2, 3, 4]) expect(out).toContain(`[controller] learned ${mac(n)} on dpid=${dpid} port ${n}`);
    expectPings(out);
    expect(gbps(out)).toBeGreaterThan(0.1);
    // The flows in dump-flows are the ones the controller said it installed, and they counted the traffic.
    const installed = [...out.matchAll(/\[controller\] flow installed dpid=\w+: (\S+) actions=(\S+)/g)].map((m) => `priority=1,${m[1]} actions=${m[2]}`);
    expect(installed.length).toBeGreaterThanOrEqual(6); // h1 ⇄ h2, h3, h4
    expect(out).toContain(`os-ken learned 4 MAC addresses from packet-ins and installed ${installed.length} flows`);
    for (const rule of installed) expect(flow(out, rule), rule).toBeDefined();
    const toH2 = flow(out, `in_port=1,dl_src=${mac(1)},dl_dst=${mac(2)} actions=output:2`);
    expect(toH2!.packets).toBeGreaterThan(100); // the TCP stream, in the datapath
    expect(toH2!.bytes).toBeGreaterThan(10_000_000);
    // The table-miss flow counted the packet-ins (ARP broadcasts and first packets).
    expect(flow(out, 'priority=0 actions=CONTROLLER:65535')!.packets).toBeGreaterThanOrEqual(6);
    expect(await leftovers(pid, out)).toEqual([]);
  });

  let standaloneTcp = '';
  test('--standalone: no controller, NORMAL learns and forwards; cleans up', async () => {
    const { pid, code, out } = await demo('--standalone', '--seconds', '1');
    expect(out).toContain('set-fail-mode standalone');
    expect(out).not.toContain('os-ken');
    expectPings(out);
    // Standalone's one flow is NORMAL, and it counted at least the 18 ICMP packets.
    expect(flow(out, 'priority=0 actions=NORMAL')!.packets).toBeGreaterThanOrEqual(18);
    standaloneTcp = /default offloads: (?!streaming)(.*)/.exec(out)?.[1] ?? '';
    // The exit status says whether every check passed (see the TCP test below).
    expect(code, out).toBe(gbps(out) > 0.1 ? 0 : 1);
    expect(await leftovers(pid, out)).toEqual([]);
  });

  // NORMAL's known unicast runs in the BPF pipeline (bpf/lib/normal.h), at TC for these
  // veths, so offloaded (CHECKSUM_PARTIAL, GSO) TCP segments pass as they do for flows.
  test('--standalone: TCP with default offloads through NORMAL', () => {
    expect(standaloneTcp).toMatch(/^[\d.]+ Gbit\/s$/);
    expect(Number.parseFloat(standaloneTcp)).toBeGreaterThan(0.1);
  });

  test('--static: ovs-ofctl flows per MAC carry ping and TCP, with counters; cleans up', async () => {
    const { pid, code, out } = await demo('--static', '--seconds', '1');
    expect(code, out).toBe(0);
    expect(out).not.toContain('os-ken');
    expectPings(out);
    expect(gbps(out)).toBeGreaterThan(0.1);
    expect(flow(out, `priority=100,dl_dst=${mac(2)} actions=output:2`)!.packets).toBeGreaterThan(100);
    expect(flow(out, 'priority=10,dl_dst=ff:ff:ff:ff:ff:ff actions=FLOOD')!.packets).toBeGreaterThanOrEqual(3); // h1's ARPs
    expect(await leftovers(pid, out)).toEqual([]);
  });

  test('Ctrl-C in the middle removes the hosts, the switch, the controller and the run dir', async () => {
    const child = spawnChild(['node', bin, 'demo', '--seconds', '10']);
    let out = '';
    child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
    await waitFor(() => out.includes('default offloads: streaming'), 'the TCP phase', 30_000);
    child.kill('SIGINT');
    const code = await new Promise<number | null>((r) => child.on('exit', r));
    expect(code).toBe(130);
    expect(out).toContain('interrupted: removing what the demo created');
    expect(out).toMatch(/os-ken listening on \S+ \(pid \d+\)/);
    expect(await leftovers(child.pid!, out)).toEqual([]);
  });

  test('bad options get the usage and exit status 2', async () => {
    for (const args of [['--frobnicate'], ['--standalone', '--static']]) {
      const r = await run(['node', bin, 'demo', ...args], { allowFail: true });
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr).toContain('usage: xdpswitch demo');
    }
  });
});
