// TC programs through the addon: a tcx (or clsact) bpf_redirect between two namespaces
// whose hosts keep their default offloads, queries of what is attached, and detach.
import { describe, expect, test } from 'vitest';
import { attachTc, BpfLink, detachTc, queryTc, removeClsact } from '../../src/native/bpf.js';
import { Topology } from '../harness/topology.js';
import { ifindex, iperf, loadSelftest, tempPinDir, u32 } from './bpf-helpers.js';

async function tcPair(subnet: string, hook: 'auto' | 'clsact') {
  const topo = await Topology.create();
  const [a, b] = await topo.hosts(2, subnet);
  const obj = loadSelftest();
  const ia = ifindex(a!.port);
  const ib = ifindex(b!.port);
  const ports = obj.map('st_tc_ports');
  ports.update(u32(ia), u32(ib));
  ports.update(u32(ib), u32(ia));
  const prog = obj.program('xsw_st_tc_redirect');
  const atts = [attachTc(ia, prog, 'ingress', { hook }), attachTc(ib, prog, 'ingress', { hook })];
  return { a: a!, b: b!, ia, ib, prog, atts };
}

describe('TC on veths of a namespace topology', () => {
  test('a tcx redirect carries ping and TCP between namespaces with default offloads', async () => {
    const { a, b, ia, prog, atts } = await tcPair('10.67.1.0/24', 'auto');
    // Linux 6.6+ has tcx, and then 'auto' must have used it.
    expect(atts.map((t) => t.hook)).toEqual(['tcx', 'tcx']);
    expect(queryTc(ia, 'ingress')).toEqual({ tcx: [prog.id], clsact: 0 });
    expect(queryTc(ia, 'egress').tcx).toEqual([]);

    expect(await a.ping(b, { count: 3 })).toEqual({ transmitted: 3, received: 3 });
    expect(await iperf(a, b, 2)).toBeGreaterThan(10_000_000);

    detachTc(atts[0]!);
    expect(queryTc(ia, 'ingress').tcx).toEqual([]);
    expect(await a.ping(b, { count: 1, timeoutS: 1 })).toMatchObject({ received: 0 });
  });

  test('the clsact fallback attaches, redirects, is queried and detached', async () => {
    const { a, b, ia, ib, prog, atts } = await tcPair('10.67.2.0/24', 'clsact');
    expect(atts.map((t) => t.hook)).toEqual(['clsact', 'clsact']);
    expect(queryTc(ia, 'ingress')).toEqual({ tcx: [], clsact: prog.id });
    expect(await a.ping(b, { count: 3 })).toEqual({ transmitted: 3, received: 3 });
    detachTc(atts[0]!);
    expect(queryTc(ia, 'ingress').clsact).toBe(0);
    removeClsact(ib);
    expect(queryTc(ib, 'ingress').clsact).toBe(0);
    removeClsact(ib); // idempotent
  });

  test('a pinned tcx link outlives its handle and is detached by path', async () => {
    const topo = await Topology.create();
    const [p] = await topo.vethPair('t0', 't1');
    const prog = loadSelftest().program('xsw_st_tc_redirect');
    const i = ifindex(p);
    const att = attachTc(i, prog, 'egress');
    const dir = tempPinDir();
    att.pin(`${dir}/link`);
    const link = BpfLink.fromPinned(`${dir}/link`);
    expect(link.info().progId).toBe(prog.id);
    link.detach();
    link.close();
    expect(queryTc(i, 'egress').tcx).toEqual([]);
    expect(() => BpfLink.fromPinned(`${dir}/nothing`)).toThrow(/ENOENT/);
  });
});
