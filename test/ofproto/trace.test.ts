// test/ofproto/trace.test.ts — the reference interpreter's semantics beyond the ofconf
// cases: reserved ports, port config bits, the action set, metadata, groups (chaining,
// loops, liveness, deletion), meters, packet-in fields and truncation, packet-out, counters,
// and checksums after every rewrite checked from first principles (fast-check).
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { OFPFF, OFPP, OFPPC, OFPPS } from '../../proto/openflow/constants.js';
import type { Action } from '../../proto/openflow/actions.js';
import { applyFlowMod } from '../../src/ofproto/flow-mod.js';
import { applyGroupMod, groupStats } from '../../src/ofproto/group.js';
import { applyMeterMod, meterStats } from '../../src/ofproto/meter.js';
import { createPipeline, type Pipeline } from '../../src/ofproto/pipeline.js';
import { addPort, applyPortMod, portStats, setPortState } from '../../src/ofproto/port.js';
import { packetOut, trace, type TraceResult } from '../../src/ofproto/trace.js';
import { OFPR, OFPRR, type GroupModInput } from '../../src/ofproto/types.js';
import { checksumsValid, eth } from './frames.js';
import { apply, flowMod, m, output, write } from './helpers.js';

function bridge(n = 4): Pipeline {
  const p = createPipeline(0);
  for (let i = 1; i <= n; i++) addPort(p, { port_no: i, name: `p${i}`, hw_addr: `02:00:00:00:00:0${i}` });
  return p;
}
const add = (p: Pipeline, over: Parameters<typeof flowMod>[0]) => {
  const r = applyFlowMod(p, flowMod(over), 0);
  if (r.error) throw r.error;
};
const group = (p: Pipeline, g: Partial<GroupModInput> & Pick<GroupModInput, 'group_id'>) => applyGroupMod(p, { command: 'ADD', group_type: 'ALL', buckets: [], ...g }, 0);
const bucket = (actions: Action[], o: { weight?: number; watch_port?: number; watch_group?: number } = {}) => ({ weight: 0, watch_port: OFPP.ANY, watch_group: 0xffffffff, actions, ...o });
const udp = eth().ipv4('10.0.0.1', '10.0.0.2').udp(1000, 53).data([1, 2, 3, 4]).build();
const ports = (r: TraceResult) => r.outputs.map((o) => o.port);

describe('outputs', () => {
  test('IN_PORT, FLOOD, ALL and a plain port (never back out of in_port without IN_PORT)', () => {
    const p = bridge();
    add(p, { match: [m('IN_PORT', 1)], instructions: [apply(output(OFPP.IN_PORT), output(1), output(OFPP.FLOOD))] });
    add(p, { match: [m('IN_PORT', 2)], instructions: [apply(output(OFPP.ALL))] });
    expect(ports(trace(p, 1, udp, 0))).toEqual([1, 2, 3, 4]);
    expect(trace(p, 1, udp, 0).drops).toContain('output to in_port 1 without OFPP_IN_PORT');
    expect(ports(trace(p, 2, udp, 0))).toEqual([1, 3, 4]);
  });

  test('NORMAL learns source MACs per VLAN, floods the unknown and broadcast, includes LOCAL', () => {
    const p = bridge(3);
    addPort(p, { port_no: OFPP.LOCAL, name: 'br0', hw_addr: '02:00:00:00:00:fe' });
    add(p, { priority: 0, instructions: [apply(output(OFPP.NORMAL))] });
    const a = '02:aa:00:00:00:01';
    const b = '02:bb:00:00:00:02';
    expect(ports(trace(p, 1, eth(b, a).ipv4('10.0.0.1', '10.0.0.2').udp(1, 2).build(), 0))).toEqual([2, 3, OFPP.LOCAL]);
    expect(ports(trace(p, 2, eth(a, b).ipv4('10.0.0.2', '10.0.0.1').udp(2, 1).build(), 10))).toEqual([1]);
    expect(ports(trace(p, 3, eth(b, a).ipv4('10.0.0.1', '10.0.0.2').udp(1, 2).build(), 20))).toEqual([2]);
    // Port 1's MAC moved to port 3 with that frame; another VLAN learns apart.
    expect(ports(trace(p, 2, eth(a, b).vlan(5).ipv4('10.0.0.2', '10.0.0.1').udp(2, 1).build(), 30))).toEqual([1, 3, OFPP.LOCAL]);
    expect(ports(trace(p, 2, eth(a, b).ipv4('10.0.0.2', '10.0.0.1').udp(2, 1).build(), 40))).toEqual([3]);
    expect(ports(trace(p, 1, eth('ff:ff:ff:ff:ff:ff', a).build(), 50))).toEqual([2, 3, OFPP.LOCAL]);
    // Aged out after 300 s: flooded again.
    expect(ports(trace(p, 2, eth(a, b).ipv4('10.0.0.2', '10.0.0.1').udp(2, 1).build(), 400_000))).toEqual([1, 3, OFPP.LOCAL]);
  });

  test('PORT_MOD: NO_FWD and PORT_DOWN stop output, NO_RECV stops input, NO_PACKET_IN stops packet-ins', () => {
    const p = bridge();
    add(p, { instructions: [apply(output(OFPP.FLOOD), output(OFPP.CONTROLLER))] });
    const mod = (port_no: number, config: number, mask: number) => applyPortMod(p, { port_no, hw_addr: `02:00:00:00:00:0${port_no}`, config, mask, advertise: 0 });
    expect(mod(3, OFPPC.NO_FWD, OFPPC.NO_FWD).status?.config).toBe(OFPPC.NO_FWD);
    expect(mod(4, OFPPC.PORT_DOWN, OFPPC.PORT_DOWN).status?.state).toBe(OFPPS.LINK_DOWN);
    expect(ports(trace(p, 1, udp, 0))).toEqual([2]);
    expect(trace(p, 1, udp, 0).packetIns).toHaveLength(1);
    mod(1, OFPPC.NO_PACKET_IN, OFPPC.NO_PACKET_IN);
    expect(trace(p, 1, udp, 0).packetIns).toHaveLength(0);
    mod(1, OFPPC.NO_RECV, OFPPC.NO_RECV);
    expect(ports(trace(p, 1, udp, 0))).toEqual([]);
    expect(applyPortMod(p, { port_no: 9, hw_addr: '02:00:00:00:00:09', config: 0, mask: 0, advertise: 0 }).error?.name).toBe('OFPPMFC_BAD_PORT');
    expect(applyPortMod(p, { port_no: 2, hw_addr: '02:00:00:00:00:09', config: 0, mask: 0, advertise: 0 }).error?.name).toBe('OFPPMFC_BAD_HW_ADDR');
  });

  test('packet-in: reason, table, cookie, match; the whole frame whatever max_len (unbuffered)', () => {
    const p = bridge();
    add(p, { priority: 0, instructions: [apply(output(OFPP.CONTROLLER, 20))] });
    add(p, { table_id: 0, priority: 9, cookie: 0xabn, match: [m('IN_PORT', 2)], instructions: [{ type: 'WRITE_METADATA', metadata: 5n, metadata_mask: 0xffn }, { type: 'GOTO_TABLE', table_id: 3 }] });
    add(p, { table_id: 3, cookie: 0xcdn, match: [m('METADATA', 5n)], instructions: [apply(output(OFPP.CONTROLLER))] });
    const miss = trace(p, 1, udp, 0).packetIns[0]!;
    expect(miss).toMatchObject({ reason: OFPR.NO_MATCH, table_id: 0, total_len: udp.length, match: [{ field: 'IN_PORT', value: 1 }] });
    expect(miss.data).toEqual(udp);
    const hit = trace(p, 2, udp, 0).packetIns[0]!;
    expect(hit).toMatchObject({ reason: OFPR.ACTION, table_id: 3, cookie: 0xcdn, match: [{ field: 'IN_PORT', value: 2 }, { field: 'METADATA', value: 5n }] });
    expect(hit.data).toEqual(udp);
  });
});

describe('TTL and fragments', () => {
  test('dec_nw_ttl at TTL 1 stops the packet and sends OFPR_INVALID_TTL', () => {
    const p = bridge();
    add(p, { match: [m('ETH_TYPE', 0x0800)], instructions: [apply({ type: 'DEC_NW_TTL' }, output(2)), write(output(3))] });
    const ok = trace(p, 1, eth().ipv4('10.0.0.1', '10.0.0.2', { ttl: 2 }).udp(1, 2).build(), 0);
    expect(ports(ok)).toEqual([2, 3]);
    const r = trace(p, 1, eth().ipv4('10.0.0.1', '10.0.0.2', { ttl: 1 }).udp(1, 2).data(Array(200).fill(7)).build(), 0);
    expect(r.outputs).toEqual([]);
    expect(r.packetIns).toMatchObject([{ reason: OFPR.INVALID_TTL, total_len: 242 }]);
    expect(r.packetIns[0]!.data).toHaveLength(242);
  });

  test('fragments: ports read as 0 (OFPC_FRAG_NORMAL, as OVS), dropped with OFPC_FRAG_DROP', () => {
    const p = bridge();
    add(p, { match: [m('ETH_TYPE', 0x0800), m('IP_PROTO', 17), m('UDP_DST', 0)], instructions: [apply(output(2))] });
    add(p, { priority: 1, instructions: [apply(output(3))] });
    const frag = eth().ipv4('10.0.0.1', '10.0.0.2').udp(1, 53).build();
    frag[14 + 6] = 0x20; // MF: the first fragment
    expect(ports(trace(p, 1, frag, 0))).toEqual([2]);
    expect(ports(trace(p, 1, udp, 0))).toEqual([3]);
    p.config_flags = 1;
    expect(trace(p, 1, frag, 0).drops).toEqual(['IP fragment (OFPC_FRAG_DROP)']);
  });
});

describe('instructions', () => {
  test('the action set: write replaces by type, clear empties it, group wins over output, order is the spec\'s', () => {
    const p = bridge();
    add(p, { match: [m('ETH_TYPE', 0x0800)], instructions: [write(output(2), { type: 'SET_FIELD', field: m('IPV4_DST', '10.9.9.9') }), { type: 'GOTO_TABLE', table_id: 1 }] });
    add(p, { table_id: 1, instructions: [write({ type: 'PUSH_VLAN', ethertype: 0x8100 }, { type: 'SET_FIELD', field: m('VLAN_VID', 0x1000 | 7) }, output(3)), { type: 'GOTO_TABLE', table_id: 2 }] });
    add(p, { table_id: 2, match: [m('IN_PORT', 2)], instructions: [{ type: 'CLEAR_ACTIONS' }] });
    const r = trace(p, 1, udp, 0);
    // push_vlan runs before set_field, so the new tag gets VID 7; the output is port 3 only.
    const want = eth().vlan(7).ipv4('10.0.0.1', '10.9.9.9').udp(1000, 53).data([1, 2, 3, 4]).build();
    expect(r.outputs).toEqual([{ port: 3, frame: want }]);
    expect(trace(p, 2, udp, 0).outputs).toEqual([]);
    expect(group(p, { group_id: 1, buckets: [bucket([output(4)])] }).error).toBeUndefined();
    add(p, { table_id: 2, match: [m('IN_PORT', 3)], instructions: [write({ type: 'GROUP', group_id: 1 })] });
    expect(ports(trace(p, 3, udp, 0))).toEqual([4]);
  });

  test('goto_table must go forward', () => {
    const p = bridge();
    expect(applyFlowMod(p, flowMod({ table_id: 5, instructions: [{ type: 'GOTO_TABLE', table_id: 2 }] }), 0).error?.name).toBe('OFPBIC_BAD_TABLE_ID');
  });
});

describe('groups', () => {
  test('fast-failover follows port liveness, indirect runs its bucket, chains run through', () => {
    const p = bridge();
    expect(group(p, { group_id: 2, group_type: 'INDIRECT', buckets: [bucket([output(4)])] }).error).toBeUndefined();
    expect(group(p, { group_id: 1, group_type: 'FF', buckets: [bucket([output(2)], { watch_port: 2 }), bucket([{ type: 'GROUP', group_id: 2 }], { watch_port: 3 })] }).error).toBeUndefined();
    add(p, { instructions: [apply({ type: 'GROUP', group_id: 1 })] });
    expect(ports(trace(p, 1, udp, 0))).toEqual([2]);
    setPortState(p, 2, OFPPS.LINK_DOWN);
    expect(ports(trace(p, 1, udp, 0))).toEqual([4]);
    setPortState(p, 3, OFPPS.LINK_DOWN);
    expect(trace(p, 1, udp, 0).drops).toContain('group 1: no live bucket');
    expect(groupStats(p, 0xfffffffc, 0).map((g) => [g.group_id, g.packet_count, g.ref_count])).toEqual([
      [1, 3n, 1],
      [2, 1n, 0],
    ]);
  });

  test('loops are refused; deleting a group deletes its flows; bucket rules as OVS checks them', () => {
    const p = bridge();
    group(p, { group_id: 1, buckets: [bucket([output(2)])] });
    group(p, { group_id: 2, buckets: [bucket([{ type: 'GROUP', group_id: 1 }])] });
    expect(applyGroupMod(p, { command: 'MODIFY', group_type: 'ALL', group_id: 1, buckets: [bucket([{ type: 'GROUP', group_id: 2 }])] }, 0).error?.name).toBe('OFPGMFC_LOOP');
    expect(group(p, { group_id: 1 }).error?.name).toBe('OFPGMFC_GROUP_EXISTS');
    expect(group(p, { group_id: 3, buckets: [bucket([{ type: 'GROUP', group_id: 9 }])] }).error).toBeUndefined(); // forward reference, as OVS
    expect(group(p, { group_id: 9, buckets: [bucket([{ type: 'GROUP', group_id: 3 }])] }).error?.name).toBe('OFPGMFC_LOOP');
    expect(applyGroupMod(p, { command: 'MODIFY', group_type: 'ALL', group_id: 7, buckets: [] }, 0).error?.name).toBe('OFPGMFC_UNKNOWN_GROUP');
    expect(group(p, { group_id: 4, buckets: [bucket([output(1)], { weight: 2 })] }).error?.name).toBe('OFPGMFC_INVALID_GROUP');
    expect(group(p, { group_id: 4, buckets: [bucket([output(1)], { watch_port: 1 })] }).error?.name).toBe('OFPGMFC_WATCH_UNSUPPORTED');
    expect(group(p, { group_id: 4, group_type: 'FF', buckets: [bucket([output(1)])] }).error?.name).toBe('OFPGMFC_INVALID_GROUP');
    expect(group(p, { group_id: 4, group_type: 'INDIRECT', buckets: [] }).error?.name).toBe('OFPGMFC_INVALID_GROUP');
    add(p, { cookie: 4n, flags: OFPFF.SEND_FLOW_REM, instructions: [apply({ type: 'GROUP', group_id: 2 })] });
    add(p, { match: [m('IN_PORT', 3)], instructions: [apply(output(1))] });
    const r = applyGroupMod(p, { command: 'DELETE', group_type: 'ALL', group_id: 0xfffffffc, buckets: [] }, 0);
    expect(r.removed).toEqual([expect.objectContaining({ cookie: 4n, reason: OFPRR.DELETE })]);
    expect(p.groups.size).toBe(0);
    expect(p.tables[0]!.size).toBe(1);
  });

  test('select spreads flows by weight and keeps each flow on one bucket', () => {
    const p = bridge();
    group(p, { group_id: 1, group_type: 'SELECT', buckets: [bucket([output(2)], { weight: 1 }), bucket([output(3)], { weight: 3 })] });
    add(p, { instructions: [apply({ type: 'GROUP', group_id: 1 })] });
    const hits = { 2: 0, 3: 0 } as Record<number, number>;
    for (let i = 0; i < 2000; i++) {
      const f = eth().ipv4(`10.0.${i >> 8}.${i & 255}`, '10.1.0.1').udp(1000 + i, 53).build();
      const a = ports(trace(p, 1, f, 0));
      expect(ports(trace(p, 1, f, 0))).toEqual(a);
      hits[a[0]!]!++;
    }
    expect(hits[3]! / 2000).toBeGreaterThan(0.7);
    expect(hits[3]! / 2000).toBeLessThan(0.8);
  });
});

describe('meters', () => {
  test('a packet/s drop band passes its rate; stats count packets and band hits; deletion removes flows', () => {
    const p = bridge();
    expect(applyMeterMod(p, { command: 'ADD', flags: 2 /* PKTPS */, meter_id: 1, bands: [{ type: 'DROP', rate: 100, burst_size: 0 }] }, 0).error).toBeUndefined();
    add(p, { instructions: [{ type: 'METER', meter_id: 1 }, apply(output(2))] });
    let out = 0;
    for (let i = 0; i < 1000; i++) out += trace(p, 1, udp, 1000 + i * 2).outputs.length; // 500 pkt/s for 2 s
    // 200 packets of rate plus the 10-packet bucket (the spec leaves the default burst to us).
    expect(out).toBeGreaterThanOrEqual(200);
    expect(out).toBeLessThanOrEqual(212);
    const [s] = meterStats(p, 1, 3000);
    expect(s).toMatchObject({ meter_id: 1, flow_count: 1, packet_in_count: 1000n, band_stats: [{ packet_band_count: BigInt(1000 - out) }] });
    expect(applyMeterMod(p, { command: 'ADD', flags: 2, meter_id: 1, bands: [{ type: 'DROP', rate: 5, burst_size: 0 }] }, 0).error?.name).toBe('OFPMMFC_METER_EXISTS');
    expect(applyMeterMod(p, { command: 'ADD', flags: 2, meter_id: 2, bands: [] }, 0).error?.name).toBe('OFPMMFC_OUT_OF_BANDS');
    expect(applyMeterMod(p, { command: 'ADD', flags: 3, meter_id: 2, bands: [] }, 0).error?.name).toBe('OFPMMFC_BAD_FLAGS');
    applyMeterMod(p, { command: 'DELETE', flags: 0, meter_id: 1, bands: [] }, 0);
    expect(p.tables[0]!.size).toBe(0);
  });
  test('a dry run (count: false) tells what the meter would do without using its tokens', () => {
    const p = bridge();
    applyMeterMod(p, { command: 'ADD', flags: 2 /* PKTPS */, meter_id: 1, bands: [{ type: 'DROP', rate: 1, burst_size: 1 }] }, 0);
    add(p, { instructions: [{ type: 'METER', meter_id: 1 }, apply(output(2))] });
    // A full bucket: a thousand dry runs all pass and leave it full.
    for (let i = 0; i < 1000; i++) expect(trace(p, 1, udp, 1000, { count: false }).outputs).toHaveLength(1);
    expect(meterStats(p, 1, 1000)[0]).toMatchObject({ packet_in_count: 0n, band_stats: [{ packet_band_count: 0n }] });
    // Real packets at the same instant empty the bucket.
    let passed = 0;
    while (passed < 100 && trace(p, 1, udp, 1000).outputs.length) passed++;
    expect(passed).toBeGreaterThan(0);
    expect(passed).toBeLessThan(100);
    const after = meterStats(p, 1, 1000)[0];
    expect(after).toMatchObject({ packet_in_count: BigInt(passed + 1), band_stats: [{ packet_band_count: 1n }] });
    // Now the dry run says drop, and still changes nothing.
    expect(trace(p, 1, udp, 1000, { count: false }).outputs).toHaveLength(0);
    expect(meterStats(p, 1, 1000)[0]).toEqual(after);
  });
});

describe('packet-out and counters', () => {
  test('packet-out runs actions, OUTPUT:TABLE enters table 0; counters move', () => {
    const p = bridge();
    add(p, { match: [m('IN_PORT', OFPP.CONTROLLER)], instructions: [apply(output(4))] });
    const r = packetOut(p, { buffer_id: 0xffffffff, in_port: OFPP.CONTROLLER, actions: [output(2), output(OFPP.TABLE)], data: udp }, 0);
    expect(r).not.toBeInstanceOf(Error);
    expect(ports(r as TraceResult)).toEqual([2, 4]);
    expect((packetOut(p, { buffer_id: 7, in_port: OFPP.CONTROLLER, actions: [], data: udp }, 0) as Error).name).toBe('OFPBRC_BUFFER_UNKNOWN');
    expect(p.tables[0]!.lookup_count).toBe(1n);
    const [e] = p.tables[0]!.entries;
    expect([e!.packet_count, e!.byte_count]).toEqual([1n, BigInt(udp.length)]);
    const st = portStats(p, 2, 0) as { tx_packets: bigint }[];
    expect(st[0]!.tx_packets).toBe(1n);
  });
});

describe('rewrites keep checksums valid (checked from scratch)', () => {
  const ipv4 = fc.tuple(fc.integer({ min: 0, max: 255 }), fc.integer({ min: 0, max: 255 }), fc.integer({ min: 0, max: 255 }), fc.integer({ min: 0, max: 255 })).map((a) => a.join('.'));
  const ipv6 = fc.array(fc.integer({ min: 0, max: 0xffff }), { minLength: 8, maxLength: 8 }).map((a) => a.map((x) => x.toString(16)).join(':'));
  const port = fc.integer({ min: 0, max: 0xffff });
  const v4frame = fc.tuple(ipv4, ipv4, port, port, fc.boolean(), fc.integer({ min: 0, max: 255 }), fc.array(fc.integer({ min: 0, max: 255 }), { maxLength: 9 }), fc.boolean()).map(([s, d, sp, dp, tcp, tos, data, tag]) => {
    const f = eth();
    if (tag) f.vlan(5);
    f.ipv4(s, d, { tos, ttl: 9 });
    return (tcp ? f.tcp(sp, dp) : f.udp(sp, dp)).data(data).build();
  });
  const v6frame = fc.tuple(ipv6, ipv6, port, port, fc.integer({ min: 0, max: 2 }), fc.array(fc.integer({ min: 0, max: 255 }), { maxLength: 9 })).map(([s, d, sp, dp, kind, data]) => {
    const f = eth().ipv6(s, d);
    return (kind === 0 ? f.tcp(sp, dp) : kind === 1 ? f.udp(sp, dp) : f.icmp6(sp & 0xff, dp & 0xff)).data(data).build();
  });
  const setField = (field: Parameters<typeof m>[0], value: Parameters<typeof m>[1]): Action => ({ type: 'SET_FIELD', field: m(field, value) });

  test('IPv4: addresses, ports, DSCP, ECN, TTL', () => {
    fc.assert(
      fc.property(v4frame, ipv4, ipv4, port, port, fc.integer({ min: 0, max: 63 }), fc.integer({ min: 0, max: 3 }), (f, s, d, sp, dp, dscp, ecn) => {
        const p = bridge();
        add(p, { match: [m('ETH_TYPE', 0x0800), m('IP_PROTO', 6)], instructions: [apply(setField('IPV4_SRC', s), setField('IPV4_DST', d), setField('TCP_SRC', sp), setField('TCP_DST', dp), setField('IP_DSCP', dscp), { type: 'DEC_NW_TTL' }, output(2))] });
        add(p, { match: [m('ETH_TYPE', 0x0800), m('IP_PROTO', 17)], instructions: [apply(setField('IPV4_SRC', s), setField('UDP_SRC', sp), setField('UDP_DST', dp), setField('IP_ECN', ecn), { type: 'SET_NW_TTL', nw_ttl: 3 }, output(2))] });
        const [o] = trace(p, 1, f, 0).outputs;
        expect(o).toBeDefined();
        expect(checksumsValid(o!.frame)).toEqual({ ip: true, l4: true });
      }),
      { numRuns: 300 },
    );
  });

  test('IPv6: addresses, ports, ICMPv6 type and code, flow label', () => {
    fc.assert(
      fc.property(v6frame, ipv6, ipv6, port, (f, s, d, x) => {
        const p = bridge();
        add(p, { match: [m('ETH_TYPE', 0x86dd), m('IP_PROTO', 6)], instructions: [apply(setField('IPV6_SRC', s), setField('TCP_DST', x), output(2))] });
        add(p, { match: [m('ETH_TYPE', 0x86dd), m('IP_PROTO', 17)], instructions: [apply(setField('IPV6_DST', d), setField('UDP_SRC', x), setField('IPV6_FLABEL', x), output(2))] });
        add(p, { match: [m('ETH_TYPE', 0x86dd), m('IP_PROTO', 58)], instructions: [apply(setField('IPV6_DST', d), setField('ICMPV6_TYPE', x & 0xff), setField('ICMPV6_CODE', x >> 8), output(2))] });
        const [o] = trace(p, 1, f, 0).outputs;
        expect(checksumsValid(o!.frame)).toEqual({ ip: true, l4: true });
      }),
      { numRuns: 300 },
    );
  });
});

describe('hostile frames', () => {
  const anyAction: fc.Arbitrary<Action> = fc.oneof(
    fc.constantFrom<Action>(
      { type: 'POP_VLAN' },
      { type: 'PUSH_VLAN', ethertype: 0x8100 },
      { type: 'PUSH_VLAN', ethertype: 0x88a8 },
      { type: 'PUSH_MPLS', ethertype: 0x8847 },
      { type: 'POP_MPLS', ethertype: 0x0800 },
      { type: 'POP_MPLS', ethertype: 0x86dd },
      { type: 'PUSH_PBB', ethertype: 0x88e7 },
      { type: 'POP_PBB' },
      { type: 'DEC_NW_TTL' },
      { type: 'DEC_MPLS_TTL' },
      { type: 'COPY_TTL_IN' },
      { type: 'COPY_TTL_OUT' },
      { type: 'SET_NW_TTL', nw_ttl: 7 },
      { type: 'SET_MPLS_TTL', mpls_ttl: 7 },
      output(2),
    ),
    fc.constantFrom<[Parameters<typeof m>[0], Parameters<typeof m>[1]]>(
      ['ETH_DST', '00:00:00:00:00:01'],
      ['VLAN_VID', 0x1005],
      ['VLAN_PCP', 5],
      ['IP_DSCP', 9],
      ['IP_ECN', 1],
      ['IPV4_SRC', '1.2.3.4'],
      ['IPV6_DST', '::1'],
      ['TCP_SRC', 1],
      ['UDP_DST', 2],
      ['SCTP_SRC', 3],
      ['ICMPV4_CODE', 4],
      ['ICMPV6_TYPE', 135],
      ['IPV6_ND_TARGET', '::2'],
      ['IPV6_ND_SLL', '00:00:00:00:00:02'],
      ['ARP_SPA', '5.6.7.8'],
      ['MPLS_LABEL', 77],
      ['MPLS_BOS', 1],
      ['PBB_ISID', 9],
      ['IPV6_FLABEL', 5],
    ).map(([f, v]): Action => ({ type: 'SET_FIELD', field: m(f, v) })),
  );
  const seeds = [
    udp,
    eth().vlan(3).vlan(4, 0, 0x8100).ipv6('::1', '::2').icmp6(135, 0).data(Array(24).fill(0)).build(),
    eth().ipv4('1.1.1.1', '2.2.2.2').tcp(1, 2).build(),
    Buffer.from('222222222222121111111111884700064740450000280000000040068ac60a0000010a000002', 'hex'),
    Buffer.from('22222222222212111111111188e7000000642222222222221211111111110806000108000604000112111111111', 'hex').subarray(0, 40),
  ];
  const frame = fc.oneof(
    fc.uint8Array({ maxLength: 120 }),
    fc.tuple(fc.constantFrom(...seeds), fc.nat(), fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 6 })).map(([s, cut, pokes]) => {
      const f = Uint8Array.from(s.subarray(0, Math.max(14, s.length - (cut % 30))));
      for (const [at, v] of pokes) f[at % f.length] = v;
      return f;
    }),
  );

  // FUZZ_RUNS=60000 for a deeper search (about 10 s).
  test('random and damaged frames through random actions never throw', () => {
    fc.assert(
      fc.property(frame, fc.array(anyAction, { maxLength: 8 }), (f, actions) => {
        const p = bridge();
        // Unchecked on purpose: the interpreter must survive whatever reaches it.
        p.tables[0]!.insert({ id: 1, table_id: 0, priority: 1, match: [], sig: '', key: '', cookie: 0n, idle_timeout: 0, hard_timeout: 0, flags: 0, instructions: [apply(...actions, output(OFPP.CONTROLLER))], packet_count: 0n, byte_count: 0n, installed: 0, last_used: 0 });
        const r = trace(p, 1, f, 0);
        expect(r.packetIns.length + r.drops.length).toBeGreaterThan(0);
      }),
      { numRuns: Number(process.env.FUZZ_RUNS ?? 2000) },
    );
  });
});
