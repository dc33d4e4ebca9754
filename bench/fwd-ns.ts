// A low-noise proxy for forwarding cost, and the latencies bench/fwd.sh reports:
// nanoseconds per packet of the XDP program run with BPF_PROG_RUN (repeat) on a 64-byte
// UDP frame, for the pipelines bench/fwd.sh measures (bench/fwd-flows.ts) — one rule;
// 10,000 exact L4 rules over 8 masks in 2 tables, hit by 1 and by 10,000 flows —
// beside the first-form program (a fixed per-port redirect, no pipeline), the floor of
// this object. Then:
//   first packet of a new flow: one run of a flow never seen (the walk, no upcall)
//     against the next run of the same flow (the exact-match cache);
//   flow mod to obeying packets: the time apply() takes (the daemon sends the barrier
//     reply when it returns) and whether the first packet after it obeys the change.
// The CPU is shared, so each ns/pkt case is the minimum of several rounds.
//   tsx bench/fwd-ns.ts [ROUNDS]            (FWDNS_ONLY=case runs one case, for perf)
// Prints `name value unit` lines, then a markdown table.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { XdpBridgeDatapath } from '../src/datapath/xdp-bridge.js';
import { progRun, XdpAction } from '../src/native/bpf.js';
import { getLink } from '../src/native/netlink.js';
import { applyFlowMod } from '../src/ofproto/flow-mod.js';
import { createPipeline, type Delta, type Pipeline } from '../src/ofproto/pipeline.js';
import type { FlowModInput } from '../src/ofproto/types.js';
import { flowMod, l4Rules, oneRule, output } from './fwd-flows.js';

const ROUNDS = Number(process.argv[2] ?? 5);
const REPEAT = Number(process.env.FWDNS_REPEAT ?? 20_000);
const ONLY = process.env.FWDNS_ONLY;
const tag = randomBytes(2).toString('hex');
const [devA, devB] = [`xsfn${tag}a`, `xsfn${tag}b`];

/** Ethernet/IPv4/UDP as the bench generator sends it, 60 bytes, UDP source port `sport`. */
function udpFrame(sport: number): Buffer {
  const f = Buffer.alloc(60);
  Buffer.from('020000000002020000000001', 'hex').copy(f, 0);
  f.writeUInt16BE(0x0800, 12);
  f.writeUInt8(0x45, 14);
  f.writeUInt16BE(46, 16);
  f.writeUInt8(64, 22);
  f.writeUInt8(17, 23);
  Buffer.from([10, 99, 0, 1, 10, 99, 0, 2]).copy(f, 26);
  let sum = 0;
  for (let i = 14; i < 34; i += 2) sum += f.readUInt16BE(i);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >> 16);
  f.writeUInt16BE(~sum & 0xffff, 24);
  f.writeUInt16BE(sport, 34);
  f.writeUInt16BE(9, 36);
  f.writeUInt16BE(26, 38);
  return f;
}

const median = (v: number[]): number => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)]!;

interface Rig {
  br: XdpBridgeDatapath;
  p: Pipeline;
  a: number;
  run: (f: Buffer, repeat?: number) => Promise<{ retval: number; duration: number }>;
  mod: (m: FlowModInput) => Promise<void>;
}

async function rig(setup: (add: (m: FlowModInput) => void) => void, verdict: 'redirect' | 'pipeline' = 'pipeline'): Promise<Rig> {
  const br = XdpBridgeDatapath.open(`fwdns-${tag}`);
  const a = (await getLink(devA)).ifindex;
  const b = (await getLink(devB)).ifindex;
  await br.addPort({ ofport: 1, ifindex: a, name: devA, hook: 'xdp' });
  await br.addPort({ ofport: 2, ifindex: b, name: devB, hook: 'xdp' });
  if (verdict === 'redirect') br.dp.setVerdict(a, 1, { action: 'redirect', outIfindex: b });
  const p = createPipeline(0);
  const deltas: Delta[] = [];
  setup((m) => {
    const r = applyFlowMod(p, m, 0);
    if (r.error) throw r.error;
    deltas.push(...r.deltas);
  });
  await br.apply(p, deltas);
  return {
    br,
    p,
    a,
    run: (f, repeat = 1) => progRun(br.dp.xdpProgram, f, { ingressIfindex: a, repeat }),
    mod: async (m) => {
      const r = applyFlowMod(p, m, 0);
      if (r.error) throw r.error;
      await br.apply(p, r.deltas);
    },
  };
}

async function nsPerPacket(name: string, setup: (add: (m: FlowModInput) => void) => void, frames: Buffer[], verdict: 'redirect' | 'pipeline'): Promise<number> {
  if (ONLY && ONLY !== name) return NaN;
  const { br, run } = await rig(setup, verdict);
  try {
    // Every flow once first: what is measured is the steady state.
    for (const f of frames) {
      const r = await run(f);
      if (r.retval !== XdpAction.REDIRECT) throw new Error(`${name}: verdict ${r.retval}, not a redirect`);
    }
    const sample = frames.length > 64 ? Array.from({ length: 64 }, (_, i) => frames[Math.floor((i * frames.length) / 64)]!) : frames;
    // With many flows, interleave them: a run of one frame repeated would stay in cache lines.
    const reps = frames.length > 64 ? 200 : REPEAT;
    let best = Infinity;
    for (let round = 0; round < ROUNDS; round++) {
      let total = 0;
      for (const f of sample) total += (await run(f, reps)).duration;
      best = Math.min(best, total / sample.length);
    }
    return best;
  } finally {
    await br.close();
  }
}

/** The first packet of each of `n` new flows, and the packet after it, with the l4 rules. */
async function firstPacket(n: number): Promise<{ first: number; next: number }> {
  const { br, run } = await rig(l4Rules);
  try {
    const first: number[] = [];
    const next: number[] = [];
    for (let i = 0; i < n; i++) {
      const f = udpFrame(1024 + ((i * 37) % 10_000));
      const a = await run(f);
      const b = await run(f);
      if (a.retval !== XdpAction.REDIRECT || b.retval !== XdpAction.REDIRECT) throw new Error('first packet: not forwarded in the fast path');
      first.push(a.duration);
      next.push(b.duration);
    }
    return { first: median(first), next: median(next) };
  } finally {
    await br.close();
  }
}

/**
 * Flow mods against a cached flow: each turns the flow's rule into a drop or back into
 * an output. apply() is what the daemon does before it sends the barrier reply.
 */
async function flowModToObey(n: number): Promise<{ applyUs: number; stale: number }> {
  const { br, run, mod } = await rig(l4Rules);
  try {
    const f = udpFrame(1024);
    const match = flowMod(1, 100, [{ field: 'IN_PORT', value: 1 }, { field: 'ETH_TYPE', value: 0x0800 }, { field: 'IP_PROTO', value: 17 }, { field: 'UDP_SRC', value: 1024 }], []).match;
    const applyUs: number[] = [];
    let stale = 0;
    for (let i = 0; i < n; i++) {
      await run(f);
      await run(f); // cached now
      const drop = i % 2 === 0;
      const t0 = process.hrtime.bigint();
      await mod({ ...flowMod(1, 100, match, drop ? [] : output(2)), command: 'MODIFY_STRICT' });
      const t1 = process.hrtime.bigint();
      // Packets until one obeys (the first must: the change is in effect at the reply).
      let tries = 0;
      while ((await run(f)).retval !== (drop ? XdpAction.DROP : XdpAction.REDIRECT)) tries++;
      stale += tries;
      applyUs.push(Number(t1 - t0) / 1000);
    }
    return { applyUs: median(applyUs), stale };
  } finally {
    await br.close();
  }
}

execFileSync('ip', ['link', 'add', devA, 'type', 'veth', 'peer', 'name', devB]);
try {
  const one = [udpFrame(1024)];
  const many = Array.from({ length: 10_000 }, (_, i) => udpFrame(1024 + i));
  const res: Record<string, number> = {
    'first-form': await nsPerPacket('first-form', () => undefined, one, 'redirect'),
    'one-rule': await nsPerPacket('one-rule', oneRule, one, 'pipeline'),
    'l4-1flow': await nsPerPacket('l4-1flow', l4Rules, one, 'pipeline'),
    'l4-10000flows': await nsPerPacket('l4-10000flows', l4Rules, many, 'pipeline'),
  };
  for (const [k, v] of Object.entries(res)) console.log(`fwdns.${k} ${v.toFixed(1)} ns/pkt`);
  if (!ONLY) {
    const fp = await firstPacket(200);
    console.log(`fwdns.first-packet ${fp.first.toFixed(0)} ns`);
    console.log(`fwdns.next-packet ${fp.next.toFixed(0)} ns`);
    const fm = await flowModToObey(50);
    console.log(`fwdns.flowmod-apply ${fm.applyUs.toFixed(1)} us`);
    // The probe itself is one BPF_PROG_RUN syscall; what matters is that it already obeys.
    console.log(`fwdns.stale-packets-after-reply ${fm.stale} packets`);
    console.log('\n| case | ns/pkt | vs first-form |\n|---|---|---|');
    for (const [k, v] of Object.entries(res)) console.log(`| ${k} | ${v.toFixed(1)} | ${(v / res['first-form']!).toFixed(2)} |`);
    console.log(`\nFirst packet of a new flow (10,000 L4 rules, in the fast path, no upcall): ${fp.first.toFixed(0)} ns; the next packet of it: ${fp.next.toFixed(0)} ns (one BPF_PROG_RUN each, timer overhead included).`);
    console.log(`Flow mod → in effect: apply() ${fm.applyUs.toFixed(1)} µs (the barrier reply follows it); packets run after it that still followed the old rule: ${fm.stale} over 50 flow mods, so a packet obeys from the barrier reply on (0 µs).`);
  }
} finally {
  execFileSync('ip', ['link', 'del', devA]);
}
