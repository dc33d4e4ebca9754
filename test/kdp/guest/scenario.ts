// test/kdp/guest/scenario.ts — runs inside the run-in-vm guest (Debian 6.1 kernel with
// openvswitch.ko), bundled by kernel-datapath.test.ts. It drives a kernel datapath
// through src/kdp only, with real pings between two namespaces, and prints one
// `KDP <json>` line per observation; the test on the host asserts on them.
import { execFile, execFileSync, spawn } from 'node:child_process';
import { promisify } from 'node:util';
import { KernelDatapath, type Upcall } from '../../../src/kdp/datapath.js';
import { OVS_CS_F, type OvsAction, type OvsKey } from '../../../src/kdp/ovs.js';
import dpctl from '../../../src/cli/commands/dpctl.js';
import { formatFlow } from '../../../src/kdp/format.js';
import { KernelTier } from '../../../src/kdp/tier.js';
import { exactMegaflow, outputsToActions } from '../../../src/kdp/translate.js';
import { applyFlowMod } from '../../../src/ofproto/flow-mod.js';
import { createPipeline } from '../../../src/ofproto/pipeline.js';
import { addPort } from '../../../src/ofproto/port.js';
import { trace } from '../../../src/ofproto/trace.js';

const execFileP = promisify(execFile);

/** What `fn` writes to stdout, and its result. */
async function captureStdout(fn: () => Promise<number>): Promise<{ status: number; out: string }> {
  const write = process.stdout.write.bind(process.stdout);
  let out = '';
  process.stdout.write = ((chunk: string | Uint8Array): boolean => {
    out += typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString();
    return true;
  }) as typeof process.stdout.write;
  try {
    return { status: await fn(), out };
  } finally {
    process.stdout.write = write;
  }
}
const t0 = Date.now();
const report = (what: string, data: unknown): void => {
  console.log(`KDP ${JSON.stringify({ what, ms: Date.now() - t0, data }, (_k, v: unknown) => (typeof v === 'bigint' ? Number(v) : v))}`);
};

function sh(cmd: string): string {
  return execFileSync('bash', ['-c', cmd], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

// Asynchronous: the upcalls that answer the pings are read by this process's event loop.
async function ping(ns: string, dst: string, opts: { count: number; size?: number; wait?: number; interval?: number }): Promise<{ received: number; out: string }> {
  const args = ['netns', 'exec', ns, 'ping', '-n', '-c', String(opts.count), '-i', String(opts.interval ?? 0.2), '-W', String(opts.wait ?? 2)];
  if (opts.size) args.push('-s', String(opts.size));
  args.push(dst);
  let out: string;
  try {
    out = (await execFileP('ip', args, { encoding: 'utf8' })).stdout;
  } catch (e) {
    out = String((e as { stdout?: string }).stdout ?? '');
  }
  const m = /(\d+) received/.exec(out);
  return { received: m ? Number(m[1]) : 0, out: out.split('\n').filter((l) => /transmitted|loss/.test(l)).join(' ') };
}

const A = '10.77.0.1';
const B = '10.77.0.2';
sh(`modprobe openvswitch && modprobe veth
for n in a b; do
  ip netns add kdp$n
  ip link add kv$n type veth peer name kv$n-p
  ip link set kv$n netns kdp$n
  ip netns exec kdp$n sysctl -qw net.ipv6.conf.all.disable_ipv6=1
  ip -n kdp$n link set lo up; ip -n kdp$n link set kv$n up; ip link set kv$n-p up
done
ip -n kdpa addr add ${A}/24 dev kva
ip -n kdpb addr add ${B}/24 dev kvb`);
report('setup', {});

// ---- the policy answering upcalls: the reference interpreter, or the ct firewall ----

type Policy = (u: Upcall) => { mask?: OvsKey; actions: OvsAction[] } | undefined;

const pipeline = createPipeline(Date.now());
addPort(pipeline, { port_no: 1, name: 'kva-p' });
addPort(pipeline, { port_no: 2, name: 'kvb-p' });
for (const [from, to] of [[1, 2], [2, 1]] as const) {
  const r = applyFlowMod(
    pipeline,
    {
      cookie: 0n, cookie_mask: 0n, table_id: 0, command: 'ADD', idle_timeout: 0, hard_timeout: 0, priority: 100,
      buffer_id: 0xffffffff, out_port: 0xffffffff, out_group: 0xffffffff, flags: 0,
      match: [{ field: 'IN_PORT', value: from }],
      instructions: [{ type: 'APPLY_ACTIONS', actions: [{ type: 'OUTPUT', port: to, max_len: 0xffff }] }],
    },
    Date.now(),
  );
  if (r.error) throw new Error(`flow mod refused: ${JSON.stringify(r.error)}`);
}

const interpreter: Policy = (u) => {
  const res = trace(pipeline, u.key.in_port ?? 0, u.packet, Date.now());
  const actions = outputsToActions(u.packet, res.outputs);
  return actions ? { actions } : undefined;
};

// The classic stateful firewall: port 1 (inside) may open connections, port 2 only answer.
const RECIRC = 77;
const ZONE = 7;
const firewall: Policy = (u) => {
  const k = u.key;
  const base: OvsKey = { recirc_id: 0xffffffff, in_port: 0xffffffff, eth: { src: '00:00:00:00:00:00', dst: '00:00:00:00:00:00' }, eth_type: 0xffff };
  const other = k.in_port === 1 ? 2 : 1;
  if (k.eth_type === 0x0806) return { mask: base, actions: [{ output: other }] };
  if (k.eth_type !== 0x0800) return { mask: base, actions: [] };
  if ((k.recirc_id ?? 0) === 0) {
    if (k.in_port === 1) return { mask: base, actions: [{ ct: { commit: true, zone: ZONE } }, { output: 2 }] };
    return { mask: base, actions: [{ ct: { zone: ZONE } }, { recirc: RECIRC }] };
  }
  const st = k.ct_state ?? 0;
  const allow = (st & OVS_CS_F.trk) !== 0 && (st & OVS_CS_F.est) !== 0;
  return { mask: { ...base, ct_state: 0xff }, actions: allow ? [{ output: 1 }] : [] };
};

let policy: Policy = interpreter;
const upcalls: Array<{ in_port?: number; eth_type?: number; recirc_id?: number; ct_state?: number; frag?: number; len: number; mru?: number; installed: boolean }> = [];
const errors: string[] = [];

async function handle(dp: KernelDatapath, u: Upcall): Promise<void> {
  const verdict = policy(u);
  const rec = { in_port: u.key.in_port, eth_type: u.key.eth_type, recirc_id: u.key.recirc_id, ct_state: u.key.ct_state, frag: u.key.ipv4?.frag, len: u.packet.length, mru: u.mru, installed: false };
  upcalls.push(rec);
  if (!verdict) return;
  const flow = verdict.mask ? { key: u.key, mask: verdict.mask, actions: verdict.actions } : exactMegaflow(u.key, verdict.actions);
  await dp.putFlow(flow);
  rec.installed = true;
  await dp.execute({ packet: u.packet, key: u.key, actions: verdict.actions, ...(u.mru ? { mru: u.mru } : {}) });
}

// Upcalls being answered; a phase that changes the policy waits for them first, or a
// late answer under the old policy installs a flow the next phase collides with.
const inflight = new Set<Promise<void>>();
async function settle(): Promise<void> {
  while (inflight.size) await Promise.all([...inflight]);
}
const dp = await KernelDatapath.create('xkdp0', {
  onUpcall: (u) => {
    const p = handle(dp, u)
      .catch((e: unknown) => {
        errors.push(e instanceof Error ? e.message : String(e));
      })
      .finally(() => inflight.delete(p));
    inflight.add(p);
  },
  onError: (e) => errors.push(e.message),
});
try {
  const p1 = await dp.addPort('kva-p', { portNo: 1 });
  const p2 = await dp.addPort('kvb-p', { portNo: 2 });
  report('ports', { p1, p2, ports: await dp.ports(), dpctl: sh('ovs-dpctl show system@xkdp0') });

  // ---- phase 1: upcalls answered by the interpreter, exact-match megaflows ----
  const first = await ping('kdpa', B, { count: 3 });
  const upcallsAfterFirst = upcalls.length;
  const flows1 = await dp.dumpFlows();
  report('l2-first-ping', { ping: first, upcalls: [...upcalls], flows: flows1, dpctl: sh('ovs-dpctl dump-flows system@xkdp0'), formatted: flows1.map((f) => formatFlow(f)), errors: [...errors] });
  const second = await ping('kdpa', B, { count: 5 });
  const flows2 = await dp.dumpFlows();
  report('l2-second-ping', {
    ping: second,
    newUpcalls: upcalls.slice(upcallsAfterFirst),
    flows: flows2.map((f) => ({ in_port: f.key.in_port, eth_type: f.key.eth_type, icmp: f.key.icmp, packets: f.packets, bytes: f.bytes, actions: f.actions })),
    stats: await dp.stats(),
    errors: [...errors],
  });

  // ---- phase 2: the ct firewall as masked megaflows (ct(commit) / ct + recirc / ct_state) ----
  policy = () => undefined;
  await settle();
  await dp.flushFlows();
  policy = firewall;
  upcalls.length = 0;
  const outIn = await ping('kdpa', B, { count: 3 });
  const inOut = await ping('kdpb', A, { count: 2, wait: 1 });
  const big = await ping('kdpa', B, { count: 3, size: 3000 });
  const flows3 = await dp.dumpFlows();
  report('ct-firewall', {
    outIn,
    inOut,
    big,
    upcalls: [...upcalls],
    flows: flows3.map((f) => ({ key: { in_port: f.key.in_port, recirc_id: f.key.recirc_id, eth_type: f.key.eth_type, ct_state: f.key.ct_state }, mask: f.mask, actions: f.actions, packets: f.packets, bytes: f.bytes })),
    dpctl: sh('ovs-dpctl dump-flows system@xkdp0'),
    formatted: flows3.map((f) => formatFlow(f)),
    conntrack: sh('ovs-dpctl dump-conntrack system@xkdp0 || true'),
    errors: [...errors],
  });

  // ---- phase 2b: a datapath meter (1 packet/s, burst 1) policing the pings one way ----
  policy = () => undefined;
  await settle();
  await dp.flushFlows();
  const features = await dp.meterFeatures();
  await dp.setMeter({ id: 1, kbps: false, bands: [{ rate: 1, burst: 1 }] });
  const mask: OvsKey = { recirc_id: 0xffffffff, in_port: 0xffffffff, eth: { src: '00:00:00:00:00:00', dst: '00:00:00:00:00:00' }, eth_type: 0xffff };
  const eth = { src: '00:00:00:00:00:00', dst: '00:00:00:00:00:00' };
  const ip4 = { src: '0.0.0.0', dst: '0.0.0.0', proto: 0, tos: 0, ttl: 0, frag: 0 };
  const arp = { sip: '0.0.0.0', tip: '0.0.0.0', op: 0, sha: eth.src, tha: eth.src };
  for (const [from, to] of [[1, 2], [2, 1]] as const) {
    await dp.putFlow({ key: { recirc_id: 0, in_port: from, eth, eth_type: 0x0806, arp }, mask, actions: [{ output: to }] });
    const police: OvsAction[] = from === 1 ? [{ meter: 1 }, { output: to }] : [{ output: to }];
    await dp.putFlow({ key: { recirc_id: 0, in_port: from, eth, eth_type: 0x0800, ipv4: ip4, icmp: { type: 0, code: 0 } }, mask, actions: police });
  }
  const policed = await ping('kdpa', B, { count: 10, wait: 1, interval: 0.05 });
  report('meter', { features, policed, stats: await dp.meterStats(1), dpctl: sh('ovs-dpctl dump-flows system@xkdp0'), errors: [...errors] });
  await dp.deleteMeter(1);
} finally {
  await dp.destroy();
  report('destroyed', { dps: sh('ovs-dpctl dump-dps || true') });
}

// ---- phase 3: KernelTier, the daemon's surface: the pipeline answers, counters flow back ----
const probe = await KernelTier.probe();
const logs: string[] = [];
const packetIns: Array<{ reason: number; len: number; in_port: unknown }> = [];
const toController = applyFlowMod(
  pipeline,
  {
    cookie: 0n, cookie_mask: 0n, table_id: 0, command: 'ADD', idle_timeout: 0, hard_timeout: 0, priority: 200,
    buffer_id: 0xffffffff, out_port: 0xffffffff, out_group: 0xffffffff, flags: 0,
    match: [{ field: 'IN_PORT', value: 1 }, { field: 'ETH_TYPE', value: 0x0800 }, { field: 'IP_PROTO', value: 17 }, { field: 'UDP_DST', value: 9999 }],
    instructions: [{ type: 'APPLY_ACTIONS', actions: [{ type: 'OUTPUT', port: 0xfffffffd, max_len: 0xffff }] }],
  },
  Date.now(),
);
if (toController.error) throw new Error(`flow mod refused: ${JSON.stringify(toController.error)}`);
// A rewrite: UDP for 10.77.0.99:7777 is delivered to b as 10.77.0.2:7778, one hop older.
const rewrite = applyFlowMod(
  pipeline,
  {
    cookie: 0n, cookie_mask: 0n, table_id: 0, command: 'ADD', idle_timeout: 0, hard_timeout: 0, priority: 300,
    buffer_id: 0xffffffff, out_port: 0xffffffff, out_group: 0xffffffff, flags: 0,
    match: [{ field: 'IN_PORT', value: 1 }, { field: 'ETH_TYPE', value: 0x0800 }, { field: 'IPV4_DST', value: '10.77.0.99' }, { field: 'IP_PROTO', value: 17 }, { field: 'UDP_DST', value: 7777 }],
    instructions: [{ type: 'APPLY_ACTIONS', actions: [
      { type: 'SET_FIELD', field: { field: 'IPV4_DST', value: B } },
      { type: 'SET_FIELD', field: { field: 'UDP_DST', value: 7778 } },
      { type: 'DEC_NW_TTL' },
      { type: 'OUTPUT', port: 2, max_len: 0xffff },
    ] }],
  },
  Date.now(),
);
if (rewrite.error) throw new Error(`flow mod refused: ${JSON.stringify(rewrite.error)}`);
for (const t of pipeline.tables) for (const e of t.entries) { e.packet_count = 0n; e.byte_count = 0n; }
const tier = await KernelTier.start({
  name: 'xkdp1',
  pipeline,
  log: (l) => logs.push(l),
  onPacketIn: (pi) => packetIns.push({ reason: pi.reason, len: pi.data.length, in_port: pi.match[0]?.value }),
});
try {
  await tier.addPort(1, 'kva-p');
  await tier.addPort(2, 'kvb-p');
  const pings = await ping('kdpa', B, { count: 4 });
  sh(`ip netns exec kdpa bash -c 'echo hello > /dev/udp/${B}/9999; sleep 0.5; echo again > /dev/udp/${B}/9999; sleep 0.5'`);
  // The rewritten datagrams, as b's socket sees them (the first upcalled, the second from the megaflow).
  sh(`ip -n kdpa neigh replace 10.77.0.99 lladdr $(ip -n kdpb -br link show kvb | awk '{print $3}') dev kva`);
  // socat prints each datagram b's socket on 7778 receives; killed (by its pid) once two came.
  const rx = spawn('ip', ['netns', 'exec', 'kdpb', 'socat', '-u', `UDP-RECV:7778,bind=${B}`, 'STDOUT'], { stdio: ['ignore', 'pipe', 'ignore'] });
  let got = '';
  const receiver = new Promise<string>((done) => {
    const timer = setTimeout(() => rx.kill(), 15_000);
    rx.stdout.on('data', (b: Buffer) => {
      got += b.toString();
      if (got.split('\n').length > 2) rx.kill();
    });
    rx.on('close', () => {
      clearTimeout(timer);
      done(got);
    });
  });
  // Send once its socket is bound. One source port, so the second datagram has the first
  // one's key and takes its megaflow.
  sh(`for i in $(seq 50); do ip netns exec kdpb ss -Huln 'sport = :7778' | grep -q . && break; sleep 0.2; done`);
  for (const word of ['one', 'two']) {
    sh(`echo ${word} | ip netns exec kdpa socat -u - UDP:10.77.0.99:7777,sourceport=40000`);
    await new Promise((r) => setTimeout(r, 300));
  }
  const rewritten = await receiver;
  await tier.syncCounters();
  const rules = [...pipeline.tables[0]!.entries].map((e) => ({ priority: e.priority, match: e.match.map((m) => m.field), packets: e.packet_count }));
  report('tier', { probe, pings, rewritten, counters: tier.counters, packetIns, rules, logs, dpctl: sh('ovs-dpctl dump-flows system@xkdp1'), formatted: (await tier.dp.dumpFlows()).map((f) => formatFlow(f)) });
  report('cli', { show: await captureStdout(() => dpctl.run(['show', 'xkdp1'])), dumpFlows: await captureStdout(() => dpctl.run(['dump-flows', 'system@xkdp1'])), dpctl: sh('ovs-dpctl dump-flows system@xkdp1') });
  // Idle expiry: the first pass notes each megaflow's count, the next (nothing moved) deletes them.
  // (plus one megaflow no packet will hit: LLDP)
  await tier.dp.putFlow({ key: { recirc_id: 0, in_port: 2, eth: { src: '00:00:00:00:00:00', dst: '00:00:00:00:00:00' }, eth_type: 0x88cc }, mask: { recirc_id: 0xffffffff, in_port: 0xffffffff, eth: { src: '00:00:00:00:00:00', dst: '00:00:00:00:00:00' }, eth_type: 0xffff }, actions: [] });
  const flowsBefore = (await tier.dp.dumpFlows()).length;
  const firstPass = await tier.expire(0);
  await ping('kdpa', B, { count: 1 });
  const secondPass = await tier.expire(0);
  report('tier-expired', { flowsBefore, firstPass, secondPass, left: await tier.dp.dumpFlows() });
  await ping('kdpa', B, { count: 2 });
  await tier.revalidate();
  report('tier-revalidated', { flows: (await tier.dp.dumpFlows()).length, counters: tier.counters });

  // ---- phase 4 (bpftool prog load pins the object's first program, xsw_st_count: count, XDP_PASS):
  // a vport that also runs an XDP program: what it passes (XDP_PASS) reaches the
  // kernel datapath through the port's rx_handler (the path tier 2 takes in the daemon) ----
  const pin = '/sys/fs/bpf/kdpst';
  let attachError = '';
  try {
    sh(`sysctl -qw kernel.bpf_stats_enabled=1; rm -f ${pin}; bpftool prog load build/bpf/selftest.bpf.o ${pin} && bpftool net attach xdp pinned ${pin} dev kva-p`);
  } catch (e) {
    attachError = String((e as { stderr?: string }).stderr ?? e);
  }
  const upcallsBefore = tier.counters.upcalls;
  const passPing = await ping('kdpa', B, { count: 3 });
  const runs = Number(sh(`bpftool prog show pinned ${pin} 2>/dev/null | sed -n 's/.*run_cnt \\([0-9]*\\).*/\\1/p'`).trim() || 0);
  report('xdp-pass', { attachError, ping: passPing, runs, upcalls: tier.counters.upcalls - upcallsBefore, link: sh('ip -d link show kva-p'), dpctl: sh('ovs-dpctl dump-flows system@xkdp1') });
  sh(`bpftool net detach xdp dev kva-p 2>/dev/null; rm -f ${pin}`);
} finally {
  await tier.stop();
}
