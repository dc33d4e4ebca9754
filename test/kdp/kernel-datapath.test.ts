// test/kdp/kernel-datapath.test.ts — the kernel openvswitch datapath as tier 2, proved in
// the run-in-vm guest (Debian 6.1 kernel with openvswitch.ko; the host has no module).
// guest/scenario.ts is bundled here, run once in the guest, and prints one `KDP <json>`
// line per observation; each test below asserts on one of them. Without /dev/kvm (or
// the runner) the suite is skipped, saying so.
import { execFile } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, test } from 'vitest';
import { root, runInVm, vmUnavailable } from './vm.js';

const execFileP = promisify(execFile);
const why = vmUnavailable();
if (why) console.log(`skipped: ${why}`);

interface Observation {
  what: string;
  ms: number;
  data: Record<string, unknown>;
}
interface Ping {
  received: number;
  out: string;
}
interface UpcallRec {
  in_port: number;
  eth_type: number;
  recirc_id: number;
  ct_state: number;
  frag?: number;
  installed: boolean;
}
interface FlowRec {
  key: { in_port: number; recirc_id: number; eth_type: number; ct_state: number };
  actions: Array<Record<string, unknown>>;
  packets: number;
  bytes: number;
}

describe.skipIf(why !== undefined)('kernel datapath in the run-in-vm guest', () => {
  const seen = new Map<string, Observation>();
  let output = '';
  const get = (what: string): Record<string, unknown> => {
    const o = seen.get(what);
    if (!o) throw new Error(`the guest did not report "${what}"; its output:\n${output.slice(-4000)}`);
    return o.data;
  };

  beforeAll(async () => {
    const out = join(root, 'build', 'kdp');
    mkdirSync(out, { recursive: true });
    const bundle = join(out, `scenario-${process.pid}.mjs`);
    // One file that plain node runs: tsx or vitest would take 15 s to start under TCG.
    await execFileP(join(root, 'node_modules/.bin/esbuild'), [join(root, 'test/kdp/guest/scenario.ts'), '--bundle', '--platform=node', '--format=esm', '--target=node20', `--outfile=${bundle}`, '--log-level=warning']);
    const started = Date.now();
    try {
      output = await runInVm(['--', 'node', bundle], 240_000);
    } finally {
      await execFileP('rm', ['-f', bundle]);
    }
    for (const line of output.split('\n')) {
      if (!line.startsWith('KDP ')) continue;
      const o = JSON.parse(line.slice(4)) as Observation;
      seen.set(o.what, o);
    }
    console.log(`kernel datapath guest run: ${((Date.now() - started) / 1000).toFixed(1)} s, ${seen.size} observations`);
    writeFileSync(join(out, 'last-run.log'), output);
  }, 300_000);

  test('a datapath with two netdev ports, numbered as asked', () => {
    const d = get('ports') as { ports: Array<{ portNo: number; name: string; type: string }>; dpctl: string };
    expect(d.ports.map((p) => [p.portNo, p.name, p.type])).toEqual([
      [0, 'xkdp0', 'internal'],
      [1, 'kva-p', 'netdev'],
      [2, 'kvb-p', 'netdev'],
    ]);
    expect(d.dpctl).toMatch(/port 1: kva-p/);
    expect(d.dpctl).toMatch(/port 2: kvb-p/);
  });

  test('the first ping upcalls; the interpreter answers with megaflows that ovs-dpctl shows', () => {
    const d = get('l2-first-ping') as { ping: Ping; upcalls: UpcallRec[]; dpctl: string; errors: string[] };
    expect(d.errors).toEqual([]);
    expect(d.ping.received).toBe(3);
    // Echo request and reply upcall (more than once only when a second packet beat the flow in).
    const icmp = d.upcalls.filter((u) => u.eth_type === 0x0800);
    expect([...new Set(icmp.map((u) => u.in_port))].sort()).toEqual([1, 2]);
    expect(d.upcalls.every((u) => u.installed)).toBe(true);
    expect(d.dpctl).toMatch(/in_port\(1\).*eth_type\(0x0800\).*icmp\(type=8,code=0\).*actions:2/);
    expect(d.dpctl).toMatch(/in_port\(2\).*eth_type\(0x0800\).*icmp\(type=0,code=0\).*actions:1/);
  });

  test('later pings stay in the kernel (no upcall) and the megaflows count them', () => {
    const before = (get('l2-first-ping') as { flows: Array<{ key: { in_port: number; eth_type: number }; packets: number }> }).flows;
    const d = get('l2-second-ping') as {
      ping: Ping;
      newUpcalls: UpcallRec[];
      flows: Array<{ in_port: number; eth_type: number; packets: number }>;
      stats: { hit: number; missed: number; lost: number };
      errors: string[];
    };
    expect(d.ping.received).toBe(5);
    // No echo request or reply went up (a neighbour's unicast ARP re-check may: a new exact key).
    expect(d.newUpcalls.filter((u) => u.eth_type === 0x0800)).toEqual([]);
    for (const port of [1, 2]) {
      const was = before.find((f) => f.key.in_port === port && f.key.eth_type === 0x0800)?.packets ?? 0;
      const now = d.flows.find((f) => f.in_port === port && f.eth_type === 0x0800)?.packets ?? 0;
      expect(now - was).toBe(5); // every request (port 1) and reply (port 2) of the second ping
    }
    expect(d.stats.lost).toBe(0);
    expect(d.stats.hit).toBeGreaterThanOrEqual(10);
    expect(d.errors).toEqual([]);
  });

  test('ct firewall: inside opens, replies return as +est, new from outside is dropped', () => {
    const d = get('ct-firewall') as { outIn: Ping; inOut: Ping; upcalls: UpcallRec[]; flows: FlowRec[]; dpctl: string; conntrack: string; errors: string[] };
    expect(d.errors).toEqual([]);
    expect(d.outIn.received).toBe(3);
    expect(d.inOut.received).toBe(0);
    // The reply came back through recirculation with ct_state +trk+est(+rpl), the
    // outside's new ping as +trk+new, each answered by a masked megaflow.
    const recirc = d.upcalls.filter((u) => u.recirc_id === 77);
    expect(recirc.some((u) => (u.ct_state & 0x22) === 0x22)).toBe(true);
    expect(recirc.some((u) => (u.ct_state & 0x21) === 0x21)).toBe(true);
    expect(d.dpctl).toMatch(/recirc_id\(0\),in_port\(1\),.*eth_type\(0x0800\).*actions:ct\(commit,zone=7\),2/);
    expect(d.dpctl).toMatch(/recirc_id\(0\),in_port\(2\),.*actions:ct\(zone=7\),recirc\(0x4d\)/);
    expect(d.dpctl).toMatch(/recirc_id\(0x4d\),in_port\(2\),ct_state\([^)]*\+est[^)]*\).*actions:1/);
    expect(d.conntrack).toMatch(/icmp.*zone=7/);
  });

  test('3000-byte pings pass the firewall as fragments, reassembled by ct and counted', () => {
    const d = get('ct-firewall') as { big: Ping; flows: FlowRec[] };
    expect(d.big.received).toBe(3);
    const est = d.flows.find((f) => f.key.recirc_id === 77 && (f.key.ct_state & 0x02) !== 0);
    // The reassembled replies (3028 bytes each) went through the +est megaflow.
    expect(est?.bytes).toBeGreaterThanOrEqual(3 * 3000);
  });

  test('destroy removes the datapath', () => {
    const d = get('destroyed') as { dps: string };
    expect(d.dps).not.toMatch(/xkdp0/);
  });

  test('KernelTier: the pipeline answers upcalls, packet-ins reach the caller, counters flow back to rules', () => {
    const d = get('tier') as {
      probe: { available: boolean };
      pings: Ping;
      counters: { upcalls: number; installed: number; executeOnly: Record<string, number>; packetIns: number; errors: number };
      packetIns: Array<{ reason: number; in_port: number }>;
      rules: Array<{ priority: number; match: string[]; packets: number }>;
      dpctl: string;
    };
    expect(d.probe.available).toBe(true);
    expect(d.pings.received).toBe(4);
    expect(d.counters.errors).toBe(0);
    expect(d.counters.installed).toBeGreaterThanOrEqual(2);
    // Both UDP datagrams to 9999 went to the controller: no megaflow may swallow them.
    expect(d.packetIns).toEqual([
      { reason: 1, len: 48, in_port: 1 },
      { reason: 1, len: 48, in_port: 1 },
    ]);
    expect(d.counters.executeOnly['packet-in']).toBe(2);
    // Each forwarding rule counts all 4 echo requests (replies) whether upcalled or hit in the kernel.
    const fwd = d.rules.filter((r) => r.priority === 100);
    expect(fwd.map((r) => r.packets >= 4)).toEqual([true, true]);
    expect(d.rules.find((r) => r.priority === 200)?.packets).toBe(2);
    expect(d.dpctl).toMatch(/icmp\(type=8,code=0\), packets:[1-9]/);
  });

  test('KernelTier.revalidate flushes the megaflows', () => {
    const d = get('tier-revalidated') as { flows: number; counters: { flushes: number } };
    expect(d.flows).toBe(0);
    expect(d.counters.flushes).toBe(1);
  });

  test.each(['l2-first-ping', 'ct-firewall', 'tier'])('formatFlow prints what ovs-dpctl dump-flows prints (%s)', (what) => {
    const d = get(what) as { dpctl: string; formatted: string[] };
    // Statistics move between the two dumps; the match and the actions must be equal.
    const strip = (l: string): string => l.trim().replace(/, packets:.*actions:/, ' actions:');
    const dpctl = d.dpctl.trim().split('\n').map(strip).sort();
    expect(dpctl.length).toBeGreaterThan(0);
    expect(d.formatted.map(strip).sort()).toEqual(dpctl);
  });

  test('a datapath meter (1 packet/s) polices the pings it is attached to', () => {
    const d = get('meter') as { features: { maxMeters: number; maxBands: number }; policed: Ping; stats: { packets: number; bands: Array<{ packets: number }> }; dpctl: string; errors: string[] };
    expect(d.errors).toEqual([]);
    expect(d.features.maxMeters).toBeGreaterThan(0);
    expect(d.features.maxBands).toBeGreaterThan(0);
    expect(d.dpctl).toMatch(/in_port\(1\),.*eth_type\(0x0800\), packets:10,.*actions:meter\(1\),2/);
    expect(d.stats.packets).toBe(10);
    expect(d.policed.received).toBeLessThan(10);
    expect(d.stats.bands[0]!.packets).toBe(10 - d.policed.received);
  });

  test('KernelTier.expire deletes the megaflows whose counts did not move', () => {
    const d = get('tier-expired') as { flowsBefore: number; firstPass: number; secondPass: number; left: Array<{ key: { eth_type: number; icmp?: unknown } }> };
    expect(d.flowsBefore).toBeGreaterThanOrEqual(3);
    expect(d.firstPass).toBe(0);
    // The one ping between the passes kept its request and reply megaflows alive; the
    // rest (the LLDP one, ARP if any) went.
    expect(d.secondPass).toBe(d.flowsBefore - 2);
    expect(d.left.filter((f) => f.key.eth_type === 0x0800).length).toBe(2);
  });

  test('xdpswitch dpctl show / dump-flows read the datapath a KernelTier runs', () => {
    const d = get('cli') as { show: { status: number; out: string }; dumpFlows: { status: number; out: string }; dpctl: string };
    expect(d.show.status).toBe(0);
    expect(d.show.out).toMatch(/^system@xkdp1:\n {2}lookups: hit:\d+ missed:\d+ lost:0\n/);
    expect(d.show.out).toMatch(/port 0: xkdp1 \(internal\)\n[\s\S]*port 1: kva-p\n[\s\S]*port 2: kvb-p\n/);
    expect(d.dumpFlows.status).toBe(0);
    const strip = (l: string): string => l.trim().replace(/, packets:.*actions:/, ' actions:');
    expect(d.dumpFlows.out.trim().split('\n').map(strip).sort()).toEqual(d.dpctl.trim().split('\n').map(strip).sort());
  });

  test('a vport with an XDP program: what XDP_PASS returns reaches the kernel datapath (rx_handler after XDP)', () => {
    const d = get('xdp-pass') as { attachError: string; ping: Ping; runs: number; upcalls: number; link: string };
    expect(d.attachError).toBe('');
    expect(d.link).toMatch(/prog\/xdp/);
    expect(d.ping.received).toBe(3);
    // The program saw each echo request on kva-p before the datapath forwarded it.
    expect(d.runs).toBeGreaterThanOrEqual(3);
  });

  test('a set_field/dec_ttl rule becomes set actions the kernel applies', () => {
    const d = get('tier') as { rewritten: string; dpctl: string; rules: Array<{ priority: number; packets: number }> };
    // Both arrive rewritten (the order may not hold: the first is upcalled, the second is not).
    expect(d.rewritten.trim().split('\n').sort()).toEqual(['one', 'two']);
    expect(d.dpctl).toMatch(/udp\(src=40000,dst=7777\), packets:1,.*actions:set\(ipv4\(dst=10\.77\.0\.2,ttl=63\)\),set\(udp\(dst=7778\)\),2/);
    expect(d.rules.find((r) => r.priority === 300)?.packets).toBe(2);
  });
});
