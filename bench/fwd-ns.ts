// A low-noise proxy for forwarding cost: nanoseconds per packet of the XDP program run
// with BPF_PROG_RUN (repeat) on a 64-byte UDP frame, for the same pipelines bench/fwd.sh
// measures — 1 rule; 10,000 exact L4 rules over 8 masks in 2 tables, hit by 10,000
// flows — beside the first-form program (a fixed per-port redirect, no pipeline), the
// floor of this object. The CPU is shared, so each case is the minimum of several rounds.
//   tsx bench/fwd-ns.ts [ROUNDS]
// Prints `name value unit` lines, then a markdown table.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { XdpBridgeDatapath } from '../src/datapath/xdp-bridge.js';
import { progRun, XdpAction } from '../src/native/bpf.js';
import { getLink } from '../src/native/netlink.js';
import { applyFlowMod } from '../src/ofproto/flow-mod.js';
import { createPipeline, type Delta } from '../src/ofproto/pipeline.js';
import type { FlowModInput } from '../src/ofproto/types.js';
import type { OxmEntry } from '../proto/openflow/oxm.js';

const ROUNDS = Number(process.argv[2] ?? 5);
const REPEAT = Number(process.env.FWDNS_REPEAT ?? 20_000);
/** FWDNS_ONLY=case runs one case (for perf record). */
const ONLY = process.env.FWDNS_ONLY;
const tag = randomBytes(2).toString('hex');
const [devA, devB] = [`xsfn${tag}a`, `xsfn${tag}b`];

/** Ethernet/IPv4/UDP, 60 bytes (64 on the wire), UDP source port `sport`. */
function udpFrame(sport: number): Buffer {
  const f = Buffer.alloc(60);
  Buffer.from('020000000002020000000001', 'hex').copy(f, 0);
  f.writeUInt16BE(0x0800, 12);
  f.writeUInt8(0x45, 14);
  f.writeUInt16BE(46, 16);
  f.writeUInt8(64, 22);
  f.writeUInt8(17, 23);
  Buffer.from([10, 0, 0, 1, 10, 0, 0, 2]).copy(f, 26);
  let sum = 0;
  for (let i = 14; i < 34; i += 2) sum += f.readUInt16BE(i);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >> 16);
  f.writeUInt16BE(~sum & 0xffff, 24);
  f.writeUInt16BE(sport, 34);
  f.writeUInt16BE(9, 36);
  f.writeUInt16BE(26, 38);
  return f;
}

const mod = (table_id: number, priority: number, match: OxmEntry[], actions: FlowModInput['instructions']): FlowModInput => ({
  cookie: 0n, cookie_mask: 0n, table_id, command: 'ADD', idle_timeout: 0, hard_timeout: 0, priority,
  buffer_id: 0xffffffff, out_port: 0xffffffff, out_group: 0xffffffff, flags: 0, match, instructions: actions,
});
const output = (port: number): FlowModInput['instructions'] => [{ type: 'APPLY_ACTIONS', actions: [{ type: 'OUTPUT', port, max_len: 0 }] }];

/** The l4 pipeline: table 0 sends UDP to table 1 (4 masks), table 1 has 10,000 exact tp_src rules (4 masks). */
function l4Flows(add: (m: FlowModInput) => void): void {
  const udp: OxmEntry[] = [{ field: 'ETH_TYPE', value: 0x0800 }, { field: 'IP_PROTO', value: 17 }];
  add(mod(0, 10, [{ field: 'IN_PORT', value: 1 }], output(2)));
  add(mod(0, 10, [{ field: 'IN_PORT', value: 2 }], output(1)));
  add(mod(0, 20, [{ field: 'IN_PORT', value: 1 }, ...udp], [{ type: 'GOTO_TABLE', table_id: 1 }]));
  add(mod(0, 15, [{ field: 'ETH_TYPE', value: 0x0806 }], output(2)));
  add(mod(0, 12, [{ field: 'ETH_TYPE', value: 0x0800 }, { field: 'IPV4_DST', value: '10.9.0.0', mask: '255.255.0.0' }], output(2)));
  for (let i = 0; i < 10_000; i++) {
    // Four masks in table 1: tp_src alone, tp_src+ipv4_src, tp_src+ipv4_dst, tp_src+tp_dst.
    const extra: OxmEntry[][] = [[], [{ field: 'IPV4_SRC', value: '10.0.0.1' }], [{ field: 'IPV4_DST', value: '10.0.0.2' }], [{ field: 'UDP_DST', value: 9 }]];
    add(mod(1, 100 + (i % 4), [{ field: 'IN_PORT', value: 1 }, ...udp, ...extra[i % 4]!, { field: 'UDP_SRC', value: 1024 + i }], output(2)));
  }
}

async function measure(name: string, setup: (add: (m: FlowModInput) => void) => void, frames: Buffer[], verdict: 'redirect' | 'pipeline'): Promise<number> {
  if (ONLY && ONLY !== name) return NaN;
  const br = XdpBridgeDatapath.open(`fwdns-${tag}`);
  try {
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
    // Warm every flow once (the first packet of a flow may take a slower path).
    for (const f of frames) {
      const r = await progRun(br.dp.xdpProgram, f, { ingressIfindex: a });
      if (r.retval !== XdpAction.REDIRECT) throw new Error(`${name}: verdict ${r.retval}, not a redirect`);
    }
    let best = Infinity;
    for (let round = 0; round < ROUNDS; round++) {
      // Many flows: a spread of frames, each run REPEAT/len times; the mean over them.
      const per = Math.max(1, Math.floor(REPEAT / frames.length));
      const sample = frames.length > 64 ? Array.from({ length: 64 }, (_, i) => frames[Math.floor((i * frames.length) / 64)]!) : frames;
      let total = 0;
      for (const f of sample) total += (await progRun(br.dp.xdpProgram, f, { ingressIfindex: a, repeat: frames.length > 64 ? Math.max(per, 50) : REPEAT })).duration;
      best = Math.min(best, total / sample.length);
    }
    return best;
  } finally {
    await br.close();
  }
}

execFileSync('ip', ['link', 'add', devA, 'type', 'veth', 'peer', 'name', devB]);
try {
  const one = [udpFrame(1024)];
  const many = Array.from({ length: 10_000 }, (_, i) => udpFrame(1024 + i));
  const res = {
    'first-form': await measure('first-form', () => undefined, one, 'redirect'),
    'one-rule': await measure('one-rule', (add) => { add(mod(0, 10, [{ field: 'IN_PORT', value: 1 }], output(2))); add(mod(0, 10, [{ field: 'IN_PORT', value: 2 }], output(1))); }, one, 'pipeline'),
    'l4-1flow': await measure('l4-1flow', l4Flows, one, 'pipeline'),
    'l4-10000flows': await measure('l4-10000flows', l4Flows, many, 'pipeline'),
  };
  for (const [k, v] of Object.entries(res)) console.log(`fwdns.${k} ${v.toFixed(1)} ns/pkt`);
  console.log('\n| case | ns/pkt | vs first-form |\n|---|---|---|');
  for (const [k, v] of Object.entries(res)) console.log(`| ${k} | ${v.toFixed(1)} | ${(v / res['first-form']).toFixed(2)} |`);
} finally {
  execFileSync('ip', ['link', 'del', devA]);
}
