// The compiled pipeline on real ports: two hosts in namespaces, flows installed through
// the pipeline model, traffic from the hosts' own stacks. At TC (the default for veths)
// TCP works with the hosts' default offloads; at XDP with TX checksum offload off.
import { afterEach, describe, expect, test } from 'vitest';
import type { Action } from '../../proto/openflow/actions.js';
import { OFPP } from '../../proto/openflow/constants.js';
import type { OxmEntry } from '../../proto/openflow/oxm.js';
import type { Hook } from '../../src/datapath/datapath.js';
import { XdpBridgeDatapath } from '../../src/datapath/xdp-bridge.js';
import { getLink } from '../../src/native/netlink.js';
import { applyFlowMod } from '../../src/ofproto/flow-mod.js';
import { createPipeline, type Delta, type Pipeline } from '../../src/ofproto/pipeline.js';
import { addPort } from '../../src/ofproto/port.js';
import type { FlowModInput } from '../../src/ofproto/types.js';
import { sleep } from '../harness/exec.js';
import { apply, flowMod } from '../ofproto/helpers.js';
import { type Host, Topology } from '../harness/topology.js';

function flow(p: Pipeline, command: FlowModInput['command'], priority: number, match: OxmEntry[], actions: Action[]): Delta[] {
  const r = applyFlowMod(p, flowMod({ command, priority, match, instructions: actions.length ? [apply(...actions)] : [] }), 0);
  if (r.error) throw r.error;
  return r.deltas;
}

const out = (port: number): Action => ({ type: 'OUTPUT', port, max_len: 0 });

let bridge: XdpBridgeDatapath | undefined;
afterEach(async () => {
  await bridge?.close();
  bridge = undefined;
});

async function setup(hook: Hook) {
  const topo = await Topology.create();
  const [a, b] = (await topo.hosts(2, '10.252.1.0/24')) as [Host, Host];
  bridge = XdpBridgeDatapath.open();
  const p = createPipeline(0);
  for (const [n, h] of [[1, a], [2, b]] as const) {
    addPort(p, { port_no: n, name: h.port });
    await bridge.addPort({ ofport: n, ifindex: (await getLink(h.port)).ifindex, name: h.port, hook });
  }
  return { topo, a, b, p, bridge };
}

describe.each(['tc', 'xdp'] as const)('hook %s', (hook) => {
  test('flows carry ping and TCP between namespaces; a drop rule stops them; counters count', async () => {
    const { a, b, p, bridge } = await setup(hook);
    // XDP loses CHECKSUM_PARTIAL: the senders must checksum in software (design.md).
    if (hook === 'xdp') for (const h of [a, b]) await h.ethtool('tx', false);
    expect((await a.ping(b, { count: 1, timeoutS: 0.5 })).received).toBe(0);
    await bridge.apply(p, [...flow(p, 'ADD', 10, [{ field: 'IN_PORT', value: 1 }], [out(2)]), ...flow(p, 'ADD', 10, [{ field: 'IN_PORT', value: 2 }], [out(1)])]);
    expect(await a.ping(b, { count: 5 })).toEqual({ transmitted: 5, received: 5 });
    const counts = [...bridge.flowCounters().values()].map((c) => c.packets);
    expect(counts.every((n) => n >= 5n), `rule counters ${counts}`).toBe(true);
    expect(await a.iperf(b, 2)).toBeGreaterThan(0.2);

    // A higher-priority drop for ICMP takes effect as soon as apply() returns.
    await bridge.apply(p, flow(p, 'ADD', 20, [{ field: 'ETH_TYPE', value: 0x0800 }, { field: 'IP_PROTO', value: 1 }], []));
    expect((await a.ping(b, { count: 2, timeoutS: 0.5 })).received).toBe(0);
    await bridge.apply(p, flow(p, 'DELETE_STRICT', 20, [{ field: 'ETH_TYPE', value: 0x0800 }, { field: 'IP_PROTO', value: 1 }], []));
    expect((await a.ping(b, { count: 2 })).received).toBe(2);
  });

  test('push_vlan and set_field arrive on the wire as written', async () => {
    const { a, b, p, bridge } = await setup(hook);
    if (hook === 'xdp') for (const h of [a, b]) await h.ethtool('tx', false);
    await bridge.apply(
      p,
      flow(p, 'ADD', 10, [{ field: 'IN_PORT', value: 1 }, { field: 'ETH_TYPE', value: 0x0800 }], [
        { type: 'PUSH_VLAN', ethertype: 0x8100 },
        { type: 'SET_FIELD', field: { field: 'VLAN_VID', value: 0x1000 | 100 } },
        { type: 'SET_FIELD', field: { field: 'IPV4_DST', value: '10.252.1.99' } },
        out(2),
      ]),
    );
    const cap = await b.capture('vlan 100');
    await a.ping(b, { count: 2, timeoutS: 0.3 });
    await sleep(200);
    const frames = await cap.stop();
    expect(frames.length).toBeGreaterThanOrEqual(2);
    const f = frames[0]!.data;
    expect(f.readUInt16BE(12)).toBe(0x8100);
    expect(f.readUInt16BE(14) & 0xfff).toBe(100);
    expect(f.readUInt16BE(16)).toBe(0x0800);
    expect([...f.subarray(18 + 16, 18 + 20)].join('.')).toBe('10.252.1.99');
    // The IPv4 header checksum was fixed for the new destination.
    let sum = 0;
    for (let i = 18; i < 38; i += 2) sum += f.readUInt16BE(i);
    while (sum > 0xffff) sum = (sum & 0xffff) + (sum >> 16);
    expect(sum).toBe(0xffff);
  });
});

describe.each(['tc', 'xdp'] as const)('several outputs at %s', (hook) => {
  test('an output list with a rewrite between, and FLOOD: every copy arrives as the actions left it', async () => {
    const topo = await Topology.create();
    const [a, b, c] = (await topo.hosts(3, '10.252.2.0/24')) as [Host, Host, Host];
    bridge = XdpBridgeDatapath.open();
    const br = bridge;
    const p = createPipeline(0);
    for (const [n, h] of [[1, a], [2, b], [3, c]] as const) {
      addPort(p, { port_no: n, name: h.port });
      await br.addPort({ ofport: n, ifindex: (await getLink(h.port)).ifindex, name: h.port, hook });
    }
    if (hook === 'xdp') for (const h of [a, b, c]) await h.ethtool('tx', false);
    const slow = () => [...br.slowPath.byReason.values()].reduce((x, y) => x + y, 0);
    // To b as sent, then a copy to c tagged VLAN 100 (a mirror with a rewrite).
    await br.apply(p, [
      ...flow(p, 'ADD', 10, [{ field: 'IN_PORT', value: 1 }], [out(2), { type: 'PUSH_VLAN', ethertype: 0x8100 }, { type: 'SET_FIELD', field: { field: 'VLAN_VID', value: 0x1000 | 100 } }, out(3)]),
      ...flow(p, 'ADD', 10, [{ field: 'IN_PORT', value: 2 }], [out(1)]),
    ]);
    let mirror = await c.capture('vlan 100 and icmp');
    expect(await a.ping(b, { count: 3 })).toEqual({ transmitted: 3, received: 3 });
    await sleep(200);
    expect((await mirror.stop()).length).toBe(3);
    // TC clones each copy; XDP cannot send two different frames: the slow path does, counted.
    expect(br.slowPath.byReason.get('multi_output') ?? 0).toBe(hook === 'xdp' ? 3 : 0);
    const before = slow();

    // FLOOD: the same frame to every port but the ingress one (XDP: one devmap broadcast).
    await br.apply(p, flow(p, 'MODIFY_STRICT', 10, [{ field: 'IN_PORT', value: 1 }], [out(OFPP.FLOOD)]));
    mirror = await c.capture('icmp');
    expect(await a.ping(b, { count: 3 })).toEqual({ transmitted: 3, received: 3 });
    await sleep(200);
    expect((await mirror.stop()).length).toBe(3);
    expect(slow(), 'no packet left the fast path').toBe(before);
    expect(br.slowPath.txErrors).toBe(0);
  });
});
