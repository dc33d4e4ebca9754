// test/ct/kernel.test.ts — the kernel's conntrack table through bpf/ct.bpf.c (XDP
// conntrack kfuncs run with BPF_PROG_RUN): what a ct action commits is listed by the
// real `conntrack -L`, with its zone, mark and NAT; replies find it; the interpreter
// run over it gives what it gives over the in-memory tracker. Each test
// uses a zone of its own and deletes that zone's entries after.
import { randomInt } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { KernelConntrack, probeKfuncs } from '../../src/ct/kernel.js';
import { BpfObject, progRun, type BpfMap, type BpfProgram } from '../../src/native/bpf.js';
import { bpfObjectPath } from '../../src/native/paths.js';
import { CS, MemoryConntrack, type CtRequest, type CtTuple } from '../../src/ofproto/ct.js';
import { applyFlowMod } from '../../src/ofproto/flow-mod.js';
import { createPipeline } from '../../src/ofproto/pipeline.js';
import { addPort } from '../../src/ofproto/port.js';
import { trace } from '../../src/ofproto/trace.js';
import { run } from '../harness/exec.js';
import { scapyFrames } from '../harness/scapy.js';
import { flowMod } from '../ofproto/helpers.js';
import { firewall } from './helpers.js';

const probe = probeKfuncs();
const zone = randomInt(20000, 60000);
const ip = (s: string) => BigInt(s.split('.').reduce((a, x) => a * 256 + Number(x), 0));
const udp = (src: string, sport: number, dst: string, dport: number): CtTuple => ({ v6: false, proto: 17, src: ip(src), dst: ip(dst), sport, dport });
const req = (tuple: CtTuple, more: Partial<CtRequest> = {}): CtRequest => ({ zone, commit: false, force: false, tuple, tcpFlags: 0, ...more });
const listed = async () => (await run(['conntrack', '-L', '--zone', String(zone)], { allowFail: true })).stdout;

describe.skipIf(probe.missing.length > 0)('the kernel conntrack table', () => {
  let ct: KernelConntrack;
  beforeAll(() => {
    ct = KernelConntrack.open();
  });
  afterAll(async () => {
    ct?.close();
    await run(['conntrack', '-D', '--zone', String(zone)], { allowFail: true });
  });

  test('a commit shows in conntrack -L with zone and mark; replies and later packets find it', async () => {
    const t = udp('198.18.0.1', 5000, '198.18.0.2', 53);
    expect((await ct.execute(req(t), 0)).fields.state).toBe(CS.TRACKED | CS.NEW);
    expect(await listed()).not.toContain('198.18.0.1');
    const first = await ct.execute(req(t, { commit: true, mark: { value: 7, mask: 0xffffffff } }), 0);
    expect(first.fields).toMatchObject({ state: CS.TRACKED | CS.NEW, zone, mark: 7, orig: t });
    expect(await listed()).toMatch(new RegExp(`udp\\s+17 \\d+ src=198.18.0.1 dst=198.18.0.2 sport=5000 dport=53 \\[UNREPLIED\\] src=198.18.0.2 dst=198.18.0.1 sport=53 dport=5000 mark=7 zone=${zone}`));
    const back = await ct.execute(req(udp('198.18.0.2', 53, '198.18.0.1', 5000)), 0);
    expect(back.fields.state).toBe(CS.TRACKED | CS.ESTABLISHED | CS.REPLY_DIR);
    expect((await ct.execute(req(t), 0)).fields.state).toBe(CS.TRACKED | CS.ESTABLISHED);
    expect(await listed()).not.toContain('UNREPLIED');
    // Another zone does not see it.
    expect((await ct.execute({ ...req(t), zone: zone + 1 }, 0)).fields.state).toBe(CS.TRACKED | CS.NEW);
    expect(ct.counters.kernel).toBeGreaterThanOrEqual(5);
  });

  test('SNAT: the kernel entry holds the translation; the reply is translated back', async () => {
    const t = udp('198.18.1.1', 6000, '198.18.1.2', 53);
    const r = await ct.execute(req(t, { commit: true, nat: { kind: 'src', flags: 1, range: { ipv4_min: Number(ip('198.18.9.9')) } } }), 0);
    expect(r.nat).toEqual({ src: ip('198.18.9.9') });
    expect(r.fields.state & CS.SRC_NAT).toBeTruthy();
    expect(await listed()).toMatch(/src=198.18.1.1 dst=198.18.1.2 sport=6000 dport=53 \[UNREPLIED\] src=198.18.1.2 dst=198.18.9.9 sport=53 dport=6000/);
    const back = await ct.execute(req(udp('198.18.1.2', 53, '198.18.9.9', 6000), { nat: { flags: 0 } }), 0);
    expect(back.nat).toEqual({ dst: ip('198.18.1.1') });
    expect(back.fields.state).toBe(CS.TRACKED | CS.ESTABLISHED | CS.REPLY_DIR | CS.DST_NAT);
  });

  test('IPv6 connections too', async () => {
    const t: CtTuple = { v6: true, proto: 17, src: 0x20010db8000000000000000000000001n, dst: 0x20010db8000000000000000000000002n, sport: 5000, dport: 53 };
    expect((await ct.execute(req(t, { commit: true }), 0)).fields).toMatchObject({ state: CS.TRACKED | CS.NEW, orig: t });
    const back: CtTuple = { ...t, src: t.dst, dst: t.src, sport: 53, dport: 5000 };
    expect((await ct.execute(req(back), 0)).fields.state).toBe(CS.TRACKED | CS.ESTABLISHED | CS.REPLY_DIR);
    const listed6 = (await run(['conntrack', '-L', '-f', 'ipv6', '--zone', String(zone)], { allowFail: true })).stdout;
    expect(listed6).toMatch(/udp\s+17 \d+ src=2001:db8::1 dst=2001:db8::2 sport=5000 dport=53 src=2001:db8::2 dst=2001:db8::1 sport=53 dport=5000/);
  });

  test('ICMP goes to the in-memory tracker, counted', async () => {
    const echo: CtTuple = { v6: false, proto: 1, src: ip('198.18.2.1'), dst: ip('198.18.2.2'), sport: 9, dport: 8 };
    expect((await ct.execute(req(echo, { commit: true }), 0)).fields.state).toBe(CS.TRACKED | CS.NEW);
    expect(ct.counters.fallback.get('icmp')).toBe(1);
  });

  test('the firewall over the kernel table passes what it passes over the in-memory one', async () => {
    const frames = await scapyFrames([
      'Ether()/IP(src="198.18.3.2",dst="198.18.3.1")/UDP(sport=53,dport=7000)',
      'Ether()/IP(src="198.18.3.1",dst="198.18.3.2")/UDP(sport=7000,dport=53)',
      'Ether()/IP(src="198.18.3.2",dst="198.18.3.1")/UDP(sport=53,dport=7000)',
      'Ether()/IP(src="198.18.3.1",dst="198.18.3.2")/TCP(sport=7001,dport=80,flags="S")',
      'Ether()/IP(src="198.18.3.2",dst="198.18.3.1")/TCP(sport=80,dport=7001,flags="SA")',
      'Ether()/IP(src="198.18.3.2",dst="198.18.3.1")/TCP(sport=81,dport=7002,flags="S")',
    ]);
    const ports = [2, 1, 2, 1, 2, 2];
    const pipeline = () => {
      const p = createPipeline(0);
      for (const n of [1, 2]) addPort(p, { port_no: n, name: `p${n}`, hw_addr: `02:00:00:00:00:0${n}` });
      // The firewall in this test's zone, so the kernel's other entries stay apart.
      for (const f of firewall(1, 2, zone)) {
        const r = applyFlowMod(p, flowMod(f), 0);
        if (r.error) throw r.error;
      }
      return p;
    };
    const [pk, pm] = [pipeline(), pipeline()];
    const memory = new MemoryConntrack();
    const viaKernel: number[][] = [];
    const viaMemory: number[][] = [];
    for (const [i, f] of frames.entries()) {
      viaKernel.push(trace(pk, ports[i]!, f, i, { conntrack: ct }).outputs.map((o) => o.port));
      viaMemory.push(trace(pm, ports[i]!, f, i, { conntrack: memory }).outputs.map((o) => o.port));
    }
    expect(viaKernel).toEqual([[], [2], [1], [2], [1], []]);
    expect(viaKernel).toEqual(viaMemory);
    expect([...pk.tables[0]!.entries].find((e) => e.priority === 100)?.packet_count).toBe(6n);
    expect(await listed()).toMatch(/tcp\s+6 \d+ \S+ src=198.18.3.1 dst=198.18.3.2 sport=7001 dport=80/);
  });
});

describe.skipIf(probe.missing.length > 0)('tier 1: lib/ct.h, the lookup of the fast path, at XDP and at TC', () => {
  let ct: KernelConntrack;
  let obj: BpfObject;
  let io: BpfMap;
  let out: BpfMap;
  let progs: Record<'xdp' | 'tc', BpfProgram>;
  const t1zone = zone + 2;
  beforeAll(() => {
    ct = KernelConntrack.open();
    obj = BpfObject.load(bpfObjectPath('ct'));
    io = obj.map('xsw_ct_io');
    out = obj.map('xsw_ct_t1');
    progs = { xdp: obj.program('xsw_ct_t1_xdp'), tc: obj.program('xsw_ct_t1_tc') };
    const req = Buffer.alloc(168);
    req.writeUInt16LE(t1zone, 4);
    io.update(Buffer.alloc(4), req);
  });
  afterAll(async () => {
    ct?.close();
    for (const x of [io, out, progs?.xdp, progs?.tc]) x?.close();
    obj?.close();
    await run(['conntrack', '-D', '--zone', String(t1zone)], { allowFail: true });
  });

  /** ct_state tier 1 gives the frame (-1: slow path), and ct_mark. */
  async function lookup(hook: 'xdp' | 'tc', frame: Buffer): Promise<{ state: number; mark: number }> {
    await progRun(progs[hook], frame);
    const r = out.lookup(Buffer.alloc(4))!;
    return { state: r.readInt32LE(0), mark: r.readUInt32LE(4) };
  }

  test.each(['xdp', 'tc'] as const)('%s: found connections answered, the rest to the slow path', async (hook) => {
    const net = hook === 'xdp' ? '198.18.4' : '198.18.5';
    const [fwd, rev, other, icmp, natFwd] = await scapyFrames([
      `Ether()/IP(src="${net}.1",dst="${net}.2")/UDP(sport=4000,dport=53)`,
      `Ether()/IP(src="${net}.2",dst="${net}.1")/UDP(sport=53,dport=4000)`,
      `Ether()/IP(src="${net}.1",dst="${net}.2")/UDP(sport=4001,dport=53)`,
      `Ether()/IP(src="${net}.1",dst="${net}.2")/ICMP()`,
      `Ether()/IP(src="${net}.1",dst="${net}.3")/UDP(sport=4002,dport=53)`,
    ]);
    const u = (sport: number, dst = `${net}.2`) => udp(`${net}.1`, sport, dst, 53);
    await ct.execute({ zone: t1zone, commit: true, force: false, tuple: u(4000), tcpFlags: 0, mark: { value: 0x33, mask: 0xffffffff } }, 0);
    await ct.execute({ zone: t1zone, commit: true, force: false, tuple: u(4002, `${net}.3`), tcpFlags: 0, nat: { kind: 'dst', flags: 2, range: { ipv4_min: Number(ip(`${net}.9`)) } } }, 0);
    expect(await lookup(hook, fwd!)).toEqual({ state: CS.TRACKED | CS.NEW, mark: 0x33 });
    expect(await lookup(hook, rev!)).toEqual({ state: CS.TRACKED | CS.ESTABLISHED | CS.REPLY_DIR, mark: 0x33 });
    expect(await lookup(hook, fwd!)).toEqual({ state: CS.TRACKED | CS.ESTABLISHED, mark: 0x33 });
    expect((await lookup(hook, other!)).state).toBe(-1);
    expect((await lookup(hook, icmp!)).state).toBe(-1);
    expect((await lookup(hook, natFwd!)).state).toBe(-1);
    // The slow path sees the reply tier 1 marked.
    expect((await ct.execute({ zone: t1zone, commit: false, force: false, tuple: u(4000), tcpFlags: 0 }, 0)).fields.state).toBe(CS.TRACKED | CS.ESTABLISHED);
  });
});

test('the probe names what the kernel has', () => {
  expect(probe.have.length + probe.missing.length).toBe(8);
});
