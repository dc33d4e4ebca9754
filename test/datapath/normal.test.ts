// OFPP_NORMAL in the BPF pipeline (bpf/lib/normal.h). With BPF_PROG_RUN: the fast path
// learns sources, sends known unicast out of its port, drops what goes back out of the
// ingress port, and hands unknown, broadcast and priority-tagged frames — and every frame
// of a bridge with port VLAN config — to the slow path unmodified, which then agrees with
// it on where a MAC is. End to end: a standalone bridge made with the stock ovs-vsctl
// carries ping and TCP with the hosts' default offloads at TC speed.
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import type { Instruction } from '../../proto/openflow/instructions.js';
import { OFPP } from '../../proto/openflow/constants.js';
import { XdpBridgeDatapath } from '../../src/datapath/xdp-bridge.js';
import { progRun, XdpAction } from '../../src/native/bpf.js';
import { getLink } from '../../src/native/netlink.js';
import { applyFlowMod } from '../../src/ofproto/flow-mod.js';
import { createPipeline, type Pipeline } from '../../src/ofproto/pipeline.js';
import { addPort, setPortVlan } from '../../src/ofproto/port.js';
import { trace } from '../../src/ofproto/trace.js';
import { scapyFrames } from '../harness/scapy.js';
import { run } from '../harness/exec.js';
import { type Host, Topology } from '../harness/topology.js';
import { flowMod } from '../ofproto/helpers.js';
import { XdpSwitch } from '../vswitchd/switch.js';

const PORTS = [1, 2, 3];
const A = '02:00:00:00:00:0a';
const B = '02:00:00:00:00:0b';
const C = '02:00:00:00:00:0c';

describe('NORMAL in the fast path (BPF_PROG_RUN)', () => {
  let topo: Topology;
  let bridge: XdpBridgeDatapath;
  let p: Pipeline;
  const ifindex = new Map<number, number>();
  let f: Record<'aToB' | 'bToA' | 'cToB' | 'bcast' | 'prioAToB' | 'aToBv7' | 'cToBv10' | 'cToBv20' | 'bToC' | 'bToCv10', Buffer>;

  // Topologies last one test (the harness removes them after each): one test, in steps.
  beforeAll(async () => {
    topo = await Topology.create();
    for (const n of PORTS) {
      const [a] = await topo.vethPair(`n${n}`, `m${n}`);
      ifindex.set(n, (await getLink(a)).ifindex);
    }
    const udp = (src: string, dst: string) => `Ether(src="${src}",dst="${dst}")/IP(src="10.0.0.1",dst="10.0.0.2")/UDP(sport=1,dport=2)/Raw(b"x"*20)`;
    const udpv = (src: string, dst: string, vlan: number) => `Ether(src="${src}",dst="${dst}")/Dot1Q(vlan=${vlan})/IP(src="10.0.0.1",dst="10.0.0.2")/UDP(sport=1,dport=2)/Raw(b"x"*20)`;
    const [aToB, bToA, cToB, bcast, prioAToB, aToBv7, cToBv10, cToBv20, bToC, bToCv10] = await scapyFrames([
      udp(A, B),
      udp(B, A),
      udp(C, B),
      `Ether(src="${A}",dst="ff:ff:ff:ff:ff:ff")/ARP(op=1,psrc="10.0.0.1",pdst="10.0.0.2",hwsrc="${A}")`,
      `Ether(src="${A}",dst="${B}")/Dot1Q(vlan=0)/IP(src="10.0.0.1",dst="10.0.0.2")/UDP(sport=1,dport=2)`,
      `Ether(src="${A}",dst="${B}")/Dot1Q(vlan=7)/IP(src="10.0.0.1",dst="10.0.0.2")/UDP(sport=1,dport=2)`,
      udpv(C, B, 10),
      udpv(C, B, 20),
      udp(B, C),
      udpv(B, C, 10),
    ]);
    f = { aToB: aToB!, bToA: bToA!, cToB: cToB!, bcast: bcast!, prioAToB: prioAToB!, aToBv7: aToBv7!, cToBv10: cToBv10!, cToBv20: cToBv20!, bToC: bToC!, bToCv10: bToCv10! };
    bridge = XdpBridgeDatapath.open();
    p = createPipeline(0);
    for (const n of PORTS) {
      addPort(p, { port_no: n, name: `n${n}` });
      await bridge.addPort({ ofport: n, ifindex: ifindex.get(n)!, name: `n${n}`, hook: 'xdp' });
    }
    const normal: Instruction[] = [{ type: 'APPLY_ACTIONS', actions: [{ type: 'OUTPUT', port: OFPP.NORMAL, max_len: 0 }] }];
    const r = applyFlowMod(p, flowMod({ priority: 0, match: [], instructions: normal }), 0);
    if (r.error) throw r.error;
    await bridge.apply(p, r.deltas);
  });

  afterAll(async () => {
    await bridge?.close();
    await topo?.destroy();
  });

  const slow = (reason: string) => bridge.slowPath.byReason.get(reason) ?? 0;

  /** Runs a frame in on a port: the ports it went out of (as `out`), 'drop', or 'up:<reason>' (unmodified). */
  async function send(frame: Buffer, in_port: number, out = frame): Promise<number[] | 'drop' | `up:${string}`> {
    const tx = PORTS.map((n) => (bridge.portCounters(n)?.tx_packets ?? 0n));
    const before = new Map(bridge.slowPath.byReason);
    const got = await progRun(bridge.dp.xdpProgram, frame, { ingressIfindex: ifindex.get(in_port)! });
    bridge.dp.drainUpcalls();
    for (let k = 0; k < 3; k++) await new Promise((res) => setImmediate(res));
    const up = [...bridge.slowPath.byReason].find(([k, v]) => v > (before.get(k) ?? 0));
    if (up) {
      expect(got.retval).toBe(XdpAction.DROP);
      expect(got.data.toString('hex'), 'the slow path gets the frame as it arrived').toBe(frame.toString('hex'));
      return `up:${up[0]}`;
    }
    if (got.retval === XdpAction.DROP) return 'drop';
    expect(got.retval).toBe(XdpAction.REDIRECT);
    expect(got.data.toString('hex'), 'NORMAL forwards the frame as is, or with the tag the port wants').toBe(out.toString('hex'));
    const after = PORTS.map((n) => (bridge.portCounters(n)?.tx_packets ?? 0n));
    return PORTS.filter((_, k) => after[k]! > tx[k]!);
  }

  test('learn then unicast; unknown and broadcast flood; back out of the ingress port drops; the slow path agrees; access and trunk ports', async () => {
    // B is unknown: flooded to every other port, at XDP as one broadcast.
    expect(await send(f.aToB, 1)).toEqual([2, 3]);
    // A was learned on port 1 by the fast path: B's answer goes straight there.
    expect(await send(f.bToA, 2)).toEqual([1]);
    expect(await send(f.aToB, 1)).toEqual([2]);
    expect(await send(f.aToB, 1)).toEqual([2]);
    // C, on the same segment as B (port 2), to B: OVS drops it.
    expect(await send(f.cToB, 2)).toBe('drop');
    expect(await send(f.bcast, 1)).toEqual([2, 3]);
    // Tagged frames learn and forward in their VLAN: B is unknown in VLAN 7.
    expect(await send(f.aToBv7, 1)).toEqual([2, 3]);
    // B moves to port 3: the next frame to it follows.
    expect(await send(f.bToA, 3)).toEqual([1]);
    expect(await send(f.aToB, 1)).toEqual([3]);
    // The flow counted every packet the fast path finished, as OVS counts NORMAL's flow.
    const [count] = [...bridge.flowCounters().values()];
    expect(count!.packets).toBeGreaterThanOrEqual(6n);

    // The slow path sends to where the fast path learned a MAC.
    // A priority tag goes up (the slow path strips it); B is on port 3 for the fast path only.
    const before = slow('normal_slow');
    expect(await send(f.prioAToB, 1)).toBe('up:normal_slow');
    expect(slow('normal_slow')).toBe(before + 1);
    const t = trace(p, 1, f.aToB, Date.now(), { count: false });
    expect(t.outputs.map((o) => o.port)).toEqual([3]);

    // A port gone takes its MACs.
    expect(bridge.learnedMacs().some((m) => m.port === 3)).toBe(true);
    await bridge.removePort(3);
    expect(bridge.learnedMacs().some((m) => m.port === 3)).toBe(false);
    expect(await send(f.aToB, 1)).toEqual([2]);
    await bridge.addPort({ ofport: 3, ifindex: ifindex.get(3)!, name: 'n3', hook: 'xdp' });

    expect(await send(f.bToA, 2)).toEqual([1]);

    // Port VLAN config: 2 access VLAN 10, 3 a trunk of VLAN 10 only. B, now in VLAN 10, is
    // unknown there; the access port's frames leave the trunk tagged, and the reverse.
    const vlanCfg = async (n: number, v: Parameters<typeof setPortVlan>[2]) => {
      setPortVlan(p, n, v);
      await bridge.apply(p, [{ kind: 'port-modify', port: p.ports.get(n)! }]);
    };
    await vlanCfg(2, { mode: 'access', tag: 10 });
    await vlanCfg(3, { mode: 'trunk', trunks: [10] });
    // Copies that differ (the access port's untagged) leave XDP for the slow path.
    expect(await send(f.cToBv10, 3)).toBe('up:normal_flood');
    expect(await send(f.bToC, 2, f.bToCv10)).toEqual([3]);
    expect(await send(f.cToBv10, 3, f.cToB)).toEqual([2]);
    // VLAN 20 is not on the trunk; an untagged frame is not either; A (port 1, VLAN 0) is
    // not reachable from VLAN 10.
    expect(await send(f.cToBv20, 3)).toBe('drop');
    expect(await send(f.cToB, 3)).toBe('drop');
    expect(await send(f.aToB, 1)).toBe('up:normal_flood');
    // A tagged frame on the access port is dropped.
    expect(await send(f.cToBv10, 2)).toBe('drop');
    await vlanCfg(2, undefined);
    await vlanCfg(3, undefined);
    expect(await send(f.bToA, 2)).toEqual([1]);

    // A restart: the pinned maps keep port 2's VLAN config; the next run's first apply
    // removes what its ports no longer have.
    await vlanCfg(2, { mode: 'access', tag: 10 });
    const instance = bridge.dp.instance;
    await bridge.close({ keepPinned: true });
    bridge = XdpBridgeDatapath.open(instance);
    expect(bridge.adopted).toBe(true);
    setPortVlan(p, 2, undefined);
    for (const n of PORTS) await bridge.addPort({ ofport: n, ifindex: ifindex.get(n)!, name: `n${n}`, hook: 'xdp' });
    await bridge.adopt(p, [...p.tables[0]!.entries].map((entry) => ({ entry })));
    expect(await send(f.cToBv10, 2)).toBe('drop'); // still access: nothing applied yet
    await bridge.apply(p, []);
    expect(await send(f.bToA, 2)).toEqual([1]);
  });
});

describe('a standalone bridge made with ovs-vsctl', () => {
  let sw: XdpSwitch | undefined;
  afterEach(async () => {
    await sw?.close();
    sw = undefined;
  });

  test('carries ping and iperf3 TCP with default offloads in the fast path', async () => {
    const topo = await Topology.create();
    const [a, b] = (await topo.hosts(2, '10.252.9.0/24')) as [Host, Host];
    sw = await XdpSwitch.start(topo);
    const br = topo.name('br');
    const r = await sw.vsctl('add-br', br, '--', 'set-fail-mode', br, 'standalone', '--', 'add-port', br, a.port, '--', 'set', 'Interface', a.port, 'ofport_request=1', '--', 'add-port', br, b.port, '--', 'set', 'Interface', b.port, 'ofport_request=2');
    expect(r.code, r.stderr).toBe(0);
    expect(await a.ping(b, { count: 3 })).toEqual({ transmitted: 3, received: 3 });
    const gbps = await a.iperf(b, 2);
    console.log(`standalone NORMAL, iperf3 with default offloads: ${gbps.toFixed(2)} Gbit/s`);
    expect(gbps).toBeGreaterThan(1);
    // The stream went through the fast path: only the first frames (ARP, unknown) went up.
    const dp = sw.vswitchd.bridges.get(br)!.datapath as XdpBridgeDatapath;
    const up = [...dp.slowPath.byReason.values()].reduce((x, y) => x + y, 0);
    expect(up, JSON.stringify([...dp.slowPath.byReason])).toBeLessThan(50);
    expect(dp.learnedMacs().map((m) => m.mac).sort()).toEqual([a.mac, b.mac].sort());
    // ovs-appctl sees what the fast path learned, and flushes it.
    const appctl = (...args: string[]) => run(['ovs-appctl', '-t', `${sw!.rundir}/xdpswitch.ctl`, ...args], { allowFail: true });
    const fdb = (await appctl('fdb/show', br)).stdout;
    for (const [h, port] of [[a, 1], [b, 2]] as const) expect(fdb).toMatch(new RegExp(`^ +${port} +0  ${h.mac} +\\d+$`, 'm'));
    expect((await appctl('fdb/flush', br)).stdout).toBe('table successfully flushed\n');
    expect(dp.learnedMacs()).toEqual([]);
  });

  test('access ports: VLANs kept apart, TCP at speed within one', async () => {
    const topo = await Topology.create();
    const [a, b, c] = (await topo.hosts(3, '10.252.10.0/24')) as [Host, Host, Host];
    sw = await XdpSwitch.start(topo);
    const br = topo.name('br');
    const r = await sw.vsctl('add-br', br, '--', 'add-port', br, a.port, 'tag=10', '--', 'add-port', br, b.port, 'tag=10', '--', 'add-port', br, c.port, 'tag=20');
    expect(r.code, r.stderr).toBe(0);
    expect(await a.ping(b, { count: 2 })).toEqual({ transmitted: 2, received: 2 });
    expect((await a.ping(c, { count: 2, timeoutS: 0.5 })).received).toBe(0);
    const gbps = await a.iperf(b, 2);
    console.log(`standalone NORMAL between access ports, iperf3 with default offloads: ${gbps.toFixed(2)} Gbit/s`);
    expect(gbps).toBeGreaterThan(1);
    const dp = sw.vswitchd.bridges.get(br)!.datapath as XdpBridgeDatapath;
    // c heard nothing of VLAN 10 (the ARP for it was flooded to b only), so it never spoke.
    expect(dp.learnedMacs().map((m) => `${m.mac}/${m.vlan}`).sort()).toEqual([`${a.mac}/10`, `${b.mac}/10`].sort());
  });
});
