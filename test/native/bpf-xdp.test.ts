// XDP through the addon on a namespace topology: a ping counted in a per-CPU map,
// redirect between two veths carrying ping and TCP, and live frames from BPF_PROG_RUN
// reaching a host in another namespace.
import { describe, expect, test } from 'vitest';
import { attachXdp, detachXdp, possibleCpus, progRunLiveFrames, queryXdp } from '../../src/native/bpf.js';
import { Topology } from '../harness/topology.js';
import { counter, ifindex, iperf, loadSelftest, u32, udpFrame } from './bpf-helpers.js';

const ICMP = 1;

/** Two hosts whose root-side ports redirect to each other through st_devmap. */
async function redirectPair(subnet: string) {
  const topo = await Topology.create();
  const [a, b] = await topo.hosts(2, subnet);
  const obj = loadSelftest();
  const ia = ifindex(a!.port);
  const ib = ifindex(b!.port);
  const devmap = obj.map('st_devmap');
  devmap.update(u32(ia), u32(ib));
  devmap.update(u32(ib), u32(ia));
  const slots = obj.map('st_slots');
  slots.update(u32(ia), u32(1));
  slots.update(u32(ib), u32(2));
  const prog = obj.program('xsw_st_redirect');
  attachXdp(ia, prog);
  attachXdp(ib, prog);
  return { topo, a: a!, b: b!, obj, ia, ib, prog };
}

describe('XDP on veths of a namespace topology', () => {
  test('a ping is counted per CPU, per port, and read back from TypeScript', async () => {
    const { a, b, obj, ia, ib, prog } = await redirectPair('10.66.1.0/24');
    expect(queryXdp(ia)).toMatchObject({ mode: 'native', progId: prog.id, nativeProgId: prog.id, genericProgId: 0 });

    expect(await a.ping(b, { count: 5 })).toEqual({ transmitted: 5, received: 5 });

    const counts = obj.map('st_counts');
    const sum = (slot: number) => {
      const perCpu = counts.lookupPerCpu(u32(slot * 256 + ICMP))!;
      expect(perCpu).toHaveLength(possibleCpus());
      return perCpu.map(counter).reduce((x, c) => ({ packets: x.packets + c.packets, bytes: x.bytes + c.bytes }));
    };
    // Echo requests enter at a's port, replies at b's; 98-byte frames (ping -s 56).
    expect(sum(1)).toEqual({ packets: 5n, bytes: 5n * 98n });
    expect(sum(2)).toEqual({ packets: 5n, bytes: 5n * 98n });

    detachXdp(ia);
    expect(queryXdp(ia)).toMatchObject({ mode: 'none', progId: 0 });
    expect(queryXdp(ib).progId).toBe(prog.id);
  });

  test('XDP redirect carries a TCP stream between two namespaces', async () => {
    const { a, b, obj } = await redirectPair('10.66.2.0/24');
    // Partial checksums do not survive XDP_REDIRECT: the senders compute them in software.
    await a.ethtool('tx', false);
    await b.ethtool('tx', false);
    const bytes = await iperf(a, b, 2);
    expect(bytes).toBeGreaterThan(10_000_000);
    // Every segment went through the program at a's port (slot 1), TCP = protocol 6.
    const tcp = obj.map('st_counts').lookupPerCpu(u32(1 * 256 + 6))!.map(counter);
    expect(tcp.reduce((n, c) => n + c.bytes, 0n)).toBeGreaterThan(BigInt(bytes));
  });

  test('generic mode only when asked, and reported as such', async () => {
    const topo = await Topology.create();
    const [p] = await topo.vethPair('g0', 'g1');
    const prog = loadSelftest().program('xsw_st_count');
    const i = ifindex(p);
    expect(attachXdp(i, prog, { mode: 'generic' })).toEqual({ ifindex: i, mode: 'generic', progId: prog.id });
    expect(queryXdp(i)).toMatchObject({ mode: 'generic', genericProgId: prog.id, nativeProgId: 0 });
    detachXdp(i, { mode: 'generic', prog });
    expect(queryXdp(i).mode).toBe('none');
  });

  test('live frames from BPF_PROG_RUN are transmitted and reach a host in another namespace', async () => {
    const topo = await Topology.create();
    const [a, b] = await topo.hosts(2, '10.66.3.0/24');
    const obj = loadSelftest();
    obj.map('st_live_target').update(u32(0), u32(ifindex(a!.port)));
    const cap = await a!.capture('udp dst port 9999', { inbound: true });
    const frame = udpFrame(b!, a!, 9999, Buffer.from('xdpswitch live frame!'));
    await progRunLiveFrames(obj.program('xsw_st_live'), frame, { repeat: 20 });
    await new Promise((r) => setTimeout(r, 300));
    const got = await cap.stop();
    expect(got.length).toBe(20);
    expect(got[0]!.data).toEqual(frame);
  });
});
