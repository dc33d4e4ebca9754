// test/ct/interpreter.test.ts — conntrack in the reference interpreter, against a real Open
// vSwitch 3.1 (dummy datapath, its userspace conntrack): the same flows (encoded by our
// codec) and the same frames, one after the other, give the same frames out of the same
// ports; and the same bad ct actions get the same OpenFlow error.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { decodeMessage, encodeMessage } from '../../proto/openflow/codec.js';
import { OfpError, ofpErrorByWire } from '../../proto/openflow/errors.js';
import type { Message } from '../../proto/openflow/messages.js';
import type { Action, CtAction } from '../../proto/openflow/actions.js';
import { MemoryConntrack } from '../../src/ofproto/ct.js';
import { applyFlowMod } from '../../src/ofproto/flow-mod.js';
import { createPipeline, type Pipeline } from '../../src/ofproto/pipeline.js';
import { addPort } from '../../src/ofproto/port.js';
import { trace } from '../../src/ofproto/trace.js';
import type { FlowModInput } from '../../src/ofproto/types.js';
import { scapyFrames } from '../harness/scapy.js';
import { haveOvs, OvsBridge } from '../ofproto/ovs.js';
import { apply, flowMod, m, output } from '../ofproto/helpers.js';
import type { RawClient } from '../openflow/raw-client.js';
import { ct, ctClear, ctState, firewall, IP, nat, setLabel, setMark } from './helpers.js';

const mac = (n: number) => `02:00:00:00:00:${n.toString(16).padStart(2, '0')}`;
const A = '10.0.0.1';
const B = '10.0.0.2';
/** scapy expressions: a frame from the inside host (A) or the outside one (B). */
const out = (l4: string, src = A, dst = B) => `Ether(src="${mac(1)}",dst="${mac(2)}")/IP(src="${src}",dst="${dst}")/${l4}`;
const out6 = (l4: string) => `Ether(src="${mac(1)}",dst="${mac(2)}")/IPv6(src="2001:db8::1",dst="2001:db8::2")/${l4}`;
const back6 = (l4: string) => `Ether(src="${mac(2)}",dst="${mac(1)}")/IPv6(src="2001:db8::2",dst="2001:db8::1")/${l4}`;
const back = (l4: string, src = B, dst = A) => `Ether(src="${mac(2)}",dst="${mac(1)}")/IP(src="${src}",dst="${dst}")/${l4}`;

/** Fragment `i` of a 2000-byte UDP datagram from inside, in its Ethernet frame. */
const frag = (i: number) => `Ether(src="${mac(1)}",dst="${mac(2)}")/fragment(IP(src="${A}",dst="${B}")/UDP(sport=5000,dport=53)/(b"x"*2000), fragsize=1000)[${i}]`;

interface Scenario {
  name: string;
  flows: Partial<FlowModInput>[];
  /** [in_port, scapy expression], sent in order. */
  frames: [number, string][];
  /** The ports each frame leaves by, where the scenario pins them (both switches agree anyway). */
  ports?: number[][];
  /** SET_CONFIG flags (fragment handling) for the scenario; 0 (normal) otherwise. */
  frags?: number;
}

const scenarios: Scenario[] = [
  {
    name: 'firewall: UDP from inside opens, the reply passes, new from outside is dropped',
    flows: firewall(1, 2),
    frames: [
      [1, out('UDP(sport=5000,dport=53)/b"q"')],
      [2, back('UDP(sport=53,dport=5000)/b"a"')],
      [1, out('UDP(sport=5000,dport=53)/b"q2"')],
      [2, back('UDP(sport=7,dport=9999)/b"x"')],
      [2, back('UDP(sport=53,dport=5001)/b"x"')],
    ],
    ports: [[2], [1], [2], [], []],
  },
  {
    name: 'firewall: TCP handshake from inside; a SYN from outside and a stray SYN-ACK are refused',
    flows: firewall(1, 2),
    frames: [
      [2, back('TCP(sport=80,dport=40000,flags="S",seq=50)')],
      [1, out('TCP(sport=40000,dport=80,flags="S",seq=100)')],
      [2, back('TCP(sport=80,dport=40000,flags="SA",seq=300,ack=101)')],
      [1, out('TCP(sport=40000,dport=80,flags="A",seq=101,ack=301)')],
      [1, out('TCP(sport=40000,dport=80,flags="PA",seq=101,ack=301)/b"GET /"')],
      [2, back('TCP(sport=80,dport=40000,flags="A",seq=301,ack=106)')],
      [2, back('TCP(sport=81,dport=40001,flags="SA",seq=1,ack=1)')],
    ],
    ports: [[], [2], [1], [2], [2], [1], []],
  },
  {
    name: 'firewall: ping from inside; an echo request from outside is dropped',
    flows: firewall(1, 2),
    frames: [
      [1, out('ICMP(type=8,id=7,seq=1)/b"ping"')],
      [2, back('ICMP(type=0,id=7,seq=1)/b"ping"')],
      [2, back('ICMP(type=8,id=9,seq=1)/b"ping"')],
      [2, back('ICMP(type=0,id=11,seq=1)/b"pong"')],
    ],
    ports: [[2], [1], [], []],
  },
  {
    name: 'mark, label and zone: set on commit, matched after recirculation',
    flows: [
      { priority: 100, match: [IP, ctState('-trk')], instructions: [apply(ct({ zone: 5, table: 1 }))] },
      { table_id: 1, priority: 100, match: [m('IN_PORT', 1), IP, ctState('+trk+new'), m('NXM_NX_CT_ZONE', 5)], instructions: [apply(ct({ commit: true, zone: 5, exec: [setMark(7), setLabel(0x10000000000000000n)] }), output(2))] },
      { table_id: 1, priority: 100, match: [IP, ctState('+trk+est'), m('NXM_NX_CT_MARK', 7), m('NXM_NX_CT_LABEL', 0x10000000000000000n, 0x10000000000000000n)], instructions: [apply(output(3))] },
      { table_id: 1, priority: 50, match: [IP, ctState('+trk')], instructions: [apply(ctClear, output(1))] },
    ],
    frames: [
      [1, out('UDP(sport=1,dport=2)')],
      [2, back('UDP(sport=2,dport=1)')],
      [1, out('UDP(sport=1,dport=2)')],
      [2, back('UDP(sport=3,dport=4)')],
    ],
  },
  {
    name: 'the original tuple: ct_nw_src, ct_nw_proto and ct_tp_dst match both directions',
    flows: [
      { priority: 100, match: [IP, ctState('-trk')], instructions: [apply(ct({ table: 1 }))] },
      { table_id: 1, priority: 100, match: [IP, ctState('+trk+new'), m('IN_PORT', 1)], instructions: [apply(ct({ commit: true }), output(2))] },
      { table_id: 1, priority: 100, match: [IP, ctState('+trk+est+rpl'), m('NXM_NX_CT_NW_SRC', A), m('NXM_NX_CT_NW_PROTO', 17), m('NXM_NX_CT_TP_DST', 53)], instructions: [apply(output(3))] },
    ],
    frames: [
      [1, out('UDP(sport=9,dport=53)')],
      [2, back('UDP(sport=53,dport=9)')],
    ],
  },
  {
    name: 'SNAT to one address: the reply is translated back',
    flows: [
      { priority: 100, match: [m('IN_PORT', 1), IP], instructions: [apply(ct({ commit: true, exec: [nat('src', { ipv4_min: 0xc0000201 })] }), output(2))] },
      { priority: 100, match: [m('IN_PORT', 2), IP, ctState('-trk')], instructions: [apply(ct({ table: 1, exec: [nat()] }))] },
      { table_id: 1, priority: 100, match: [m('IN_PORT', 2), IP, ctState('+trk+est')], instructions: [apply(output(1))] },
    ],
    frames: [
      [1, out('UDP(sport=5000,dport=53)/b"q"')],
      [2, back('UDP(sport=53,dport=5000)/b"a"', B, '192.0.2.1')],
      [1, out('TCP(sport=40000,dport=80,flags="S",seq=100)')],
      [2, back('TCP(sport=80,dport=40000,flags="SA",seq=300,ack=101)', B, '192.0.2.1')],
    ],
  },
  {
    name: 'DNAT: a virtual address forwarded to the real one',
    flows: [
      { priority: 100, match: [m('IN_PORT', 1), IP, m('IPV4_DST', '10.0.0.99')], instructions: [apply(ct({ commit: true, exec: [nat('dst', { ipv4_min: 0x0a000002 })] }), output(2))] },
      { priority: 100, match: [m('IN_PORT', 2), IP, ctState('-trk')], instructions: [apply(ct({ table: 1, exec: [nat()] }))] },
      // The reply's source is rewritten back: OVS reports it as +snat.
      { table_id: 1, priority: 100, match: [IP, ctState('+trk+snat')], instructions: [apply(output(1))] },
      { table_id: 1, priority: 90, match: [IP, ctState('+trk+dnat')], instructions: [apply(output(3))] },
    ],
    frames: [
      [1, out('UDP(sport=5000,dport=53)/b"q"', A, '10.0.0.99')],
      [2, back('UDP(sport=53,dport=5000)/b"a"')],
      [1, out('UDP(sport=5000,dport=53)/b"q"', A, '10.0.0.99')],
    ],
  },
  {
    name: 'IPv6: UDP and ICMPv6 echo through the firewall',
    flows: firewall(1, 2, 0, 0x86dd),
    frames: [
      [1, out6('UDP(sport=5000,dport=53)/b"q"')],
      [2, back6('UDP(sport=53,dport=5000)/b"a"')],
      [2, back6('UDP(sport=53,dport=5001)/b"x"')],
      [1, out6('ICMPv6EchoRequest(id=3,seq=1)')],
      [2, back6('ICMPv6EchoReply(id=3,seq=1)')],
      [2, back6('ICMPv6EchoRequest(id=4,seq=1)')],
    ],
    ports: [[2], [1], [], [2], [1], []],
  },
  {
    name: 'an ICMP error about a tracked connection is +rel',
    flows: [
      ...firewall(1, 2),
      { table_id: 1, priority: 100, match: [m('IN_PORT', 2), IP, ctState('+trk+rel')], instructions: [apply(output(3))] },
    ],
    frames: [
      [1, out('UDP(sport=5000,dport=9)/b"q"')],
      [2, back('ICMP(type=3,code=3)/IP(src="10.0.0.1",dst="10.0.0.2")/UDP(sport=5000,dport=9)/b"q"')],
      [2, back('ICMP(type=3,code=3)/IP(src="10.0.0.1",dst="10.0.0.2")/UDP(sport=5001,dport=9)/b"q"')],
    ],
    ports: [[2], [3], []],
  },
  {
    name: 'IP fragments through the firewall',
    flows: [...firewall(1, 2), { table_id: 1, priority: 100, match: [IP, ctState('+trk+inv')], instructions: [apply(output(3))] }],
    frames: [
      [1, out('UDP(sport=5000,dport=53)/b"q"')],
      [1, frag(0)],
      [1, frag(1)],
    ],
    // Without reassembly both trackers call a fragment invalid.
    ports: [[2], [3], [3]],
  },
  {
    name: 'set-frags nx-match: a first fragment matches its ports, a later one matches nw_frag=later',
    frags: 3,
    flows: [
      { priority: 100, match: [IP, m('IP_PROTO', 17), m('UDP_DST', 53)], instructions: [apply(output(2))] },
      { priority: 90, match: [IP, m('NXM_NX_IP_FRAG', 3)], instructions: [apply(output(3))] },
    ],
    frames: [
      [1, frag(0)],
      [1, frag(1)],
    ],
    ports: [[2], [3]],
  },
  {
    name: 'set-frags normal: no fragment matches a port',
    flows: [
      { priority: 100, match: [IP, m('IP_PROTO', 17), m('UDP_DST', 53)], instructions: [apply(output(2))] },
      { priority: 90, match: [IP, m('NXM_NX_IP_FRAG', 1, 1)], instructions: [apply(output(3))] },
    ],
    frames: [
      [1, frag(0)],
      [1, frag(1)],
    ],
    ports: [[3], [3]],
  },
  {
    name: 'recirculation stops after the datapath limit',
    flows: [{ priority: 100, match: [IP], instructions: [apply(output(2), ct({ table: 0 }))] }],
    frames: [[1, out('UDP(sport=1,dport=2)')]],
  },
];

const TCP = [IP, m('IP_PROTO', 6)];
const UDP = [IP, m('IP_PROTO', 17)];
const REG0 = 0x00010004; // NXM_NX_REG0
const CT_MARK = 0x0001d604; // NXM_NX_CT_MARK
const loadMark: Action = { type: 'NX_REG_LOAD', ofs_nbits: (0 << 6) | 3, dst: CT_MARK, value: 1n };
/** Flow mods OVS refuses, and the ones it takes, each with what OVS answers (checked, not assumed). */
const verdicts: { name: string; flow: Partial<FlowModInput> }[] = [
  { name: 'ct(table=1)', flow: { match: [IP], instructions: [apply(ct({ table: 1 }))] } },
  { name: 'ct(commit,force,zone=reg0[0..15],nat(src=range),exec(mark,label))', flow: { match: TCP, instructions: [apply(ct({ commit: true, force: true, zoneSrc: { header: REG0, ofsNbits: 15 }, exec: [nat('src', { ipv4_min: 0x0a000001, ipv4_max: 0x0a000009, proto_min: 100, proto_max: 200 }, 16), setMark(5), setLabel(1n)] }))] } },
  { name: 'ct(nat) without commit', flow: { match: [IP], instructions: [apply(ct({ exec: [nat()] }))] } },
  { name: 'ct(commit,exec(load:1->ct_mark[0..3]))', flow: { match: [IP], instructions: [apply(ct({ commit: true, exec: [loadMark as CtAction] }))] } },
  { name: 'ct(alg=ftp) on tcp', flow: { match: TCP, instructions: [apply(ct({ commit: true, alg: 21 }))] } },
  { name: 'ct_clear', flow: { instructions: [apply(ctClear, output(1))] } },
  { name: 'ct without an IP match', flow: { instructions: [apply(ct({ commit: true }))] } },
  { name: 'ct(force) without commit', flow: { match: [IP], instructions: [apply(ct({ force: true }))] } },
  { name: 'ct(exec(set_field ct_mark)) without commit', flow: { match: [IP], instructions: [apply(ct({ exec: [setMark(1)] }))] } },
  { name: 'nat(src=…) without commit', flow: { match: [IP], instructions: [apply(ct({ exec: [nat('src', { ipv4_min: 1 })] }))] } },
  { name: 'nat(src) and nat(dst) at once', flow: { match: [IP], instructions: [apply(ct({ commit: true, exec: [nat('src', {}, 2)] }))] } },
  { name: 'nat address range ending before it starts', flow: { match: [IP], instructions: [apply(ct({ commit: true, exec: [nat('src', { ipv4_min: 9, ipv4_max: 1 })] }))] } },
  { name: 'nat port range ending before it starts', flow: { match: TCP, instructions: [apply(ct({ commit: true, exec: [nat('src', { ipv4_min: 9, proto_min: 300, proto_max: 200 })] }))] } },
  { name: 'nat port max without min', flow: { match: TCP, instructions: [apply(ct({ commit: true, exec: [nat('src', { ipv4_min: 9, proto_max: 200 })] }))] } },
  { name: 'nat IPv6 range on an IPv4 flow', flow: { match: [IP], instructions: [apply(ct({ commit: true, exec: [nat('src', { ipv6_min: 1n })] }))] } },
  { name: 'zone from 8 bits of a register', flow: { match: [IP], instructions: [apply(ct({ zoneSrc: { header: REG0, ofsNbits: 7 } }))] } },
  { name: 'ct(alg=ftp) on udp', flow: { match: UDP, instructions: [apply(ct({ commit: true, alg: 21 }))] } },
  { name: 'ct exec setting eth_dst', flow: { match: [IP], instructions: [apply(ct({ commit: true, exec: [{ type: 'SET_FIELD', field: { field: 'ETH_DST', value: mac(3) } }] }))] } },
  { name: 'set_field ct_mark outside ct', flow: { match: [IP], instructions: [apply({ type: 'SET_FIELD', field: { field: 'NXM_NX_CT_MARK', value: 1 } })] } },
  { name: 'load to ct_mark outside ct', flow: { match: [IP], instructions: [apply(loadMark)] } },
  { name: 'nat outside ct', flow: { match: [IP], instructions: [apply(nat() as Action)] } },
  { name: 'ct in write_actions', flow: { match: [IP], instructions: [{ type: 'WRITE_ACTIONS', actions: [ct({ commit: true })] }] } },
  { name: 'ct(commit) of +inv', flow: { match: [IP, m('NXM_NX_CT_STATE', 0x30, 0x30)], instructions: [apply(ct({ commit: true }))] } },
  { name: 'ct_nw_src with +trk only', flow: { match: [IP, ctState('+trk'), m('NXM_NX_CT_NW_SRC', A)], instructions: [] } },
  { name: 'ct_nw_src with +trk-inv', flow: { match: [IP, ctState('+trk-inv'), m('NXM_NX_CT_NW_SRC', A)], instructions: [] } },
  { name: 'ct_nw_proto without ct_state', flow: { match: [m('NXM_NX_CT_NW_PROTO', 6)], instructions: [] } },
  { name: 'ct_ipv6_src on an IPv4 flow', flow: { match: [IP, ctState('+est'), m('NXM_NX_CT_IPV6_SRC', '::1')], instructions: [] } },
  { name: 'ct_nw_src with +est, no eth_type', flow: { match: [ctState('+est'), m('NXM_NX_CT_NW_SRC', A)], instructions: [] } },
  { name: 'ct_nw_dst on an IPv6 flow', flow: { match: [m('ETH_TYPE', 0x86dd), ctState('+est'), m('NXM_NX_CT_NW_DST', A)], instructions: [] } },
  { name: 'ct_ipv6_dst on an IPv6 flow', flow: { match: [m('ETH_TYPE', 0x86dd), ctState('+est'), m('NXM_NX_CT_IPV6_DST', '2001:db8::1')], instructions: [] } },
  { name: 'ct_tp_dst with +rpl', flow: { match: [ctState('+rpl'), m('NXM_NX_CT_TP_DST', 53)], instructions: [] } },
  { name: 'ct_state bit 0x100', flow: { match: [m('NXM_NX_CT_STATE', 0x100, 0x100)], instructions: [] } },
  { name: 'ip_frag later', flow: { match: [IP, m('NXM_NX_IP_FRAG', 3)], instructions: [] } },
];

async function install(c: RawClient, msgs: Message[]): Promise<string[]> {
  let xid = 100;
  for (const msg of msgs) c.send({ ...msg, xid: xid++ } as Message);
  c.send({ type: 'BARRIER_REQUEST', xid: 999 });
  await c.next('BARRIER_REPLY');
  const errors = c.received.flatMap((e) => (e.type === 'ERROR' ? [ofpErrorByWire(e.err_type, e.code) ?? `${e.err_type}/${e.code}`] : []));
  c.received.length = 0;
  return errors;
}

function model(flows: Partial<FlowModInput>[]): Pipeline {
  const p = createPipeline(0);
  for (const n of [1, 2, 3]) addPort(p, { port_no: n, name: `p${n}`, hw_addr: mac(n) });
  for (const f of flows) {
    const r = applyFlowMod(p, flowMod(f), 0);
    if (r.error) throw r.error;
  }
  return p;
}

describe('conntrack in the interpreter', () => {
  test('the firewall with the in-memory tracker: state by state', async () => {
    const [q, a, x] = await scapyFrames([out('UDP(sport=5000,dport=53)'), back('UDP(sport=53,dport=5000)'), back('UDP(sport=53,dport=5001)')]);
    const p = model(firewall(1, 2));
    const conntrack = new MemoryConntrack();
    const ports = (port: number, f: Buffer, now: number) => trace(p, port, f, now, { conntrack }).outputs.map((o) => o.port);
    expect(ports(2, a!, 0)).toEqual([]);
    expect(ports(1, q!, 0)).toEqual([2]);
    expect(ports(2, a!, 1)).toEqual([1]);
    expect(ports(2, x!, 2)).toEqual([]);
    expect(conntrack.entries(3)).toMatchObject([{ zone: 0, orig: { proto: 17, sport: 5000, dport: 53 }, replied: true }]);
    // UDP's established timeout (120 s) passes: the reply is new again, and refused.
    expect(ports(2, a!, 200_000)).toEqual([]);
    expect(conntrack.entries(200_000)).toEqual([]);
  });

  test('a pipeline without a tracker of its own keeps one between traces', async () => {
    const [q, a] = await scapyFrames([out('UDP(sport=1,dport=2)'), back('UDP(sport=2,dport=1)')]);
    const p = model(firewall(1, 2));
    expect(trace(p, 1, q!, 0).outputs).toHaveLength(1);
    expect(trace(p, 2, a!, 0).outputs.map((o) => o.port)).toEqual([1]);
  });
});

describe.skipIf(!haveOvs)('conntrack agrees with Open vSwitch 3.1 (userspace conntrack)', () => {
  let ovs: OvsBridge;
  let client: RawClient;
  /** Every scenario's frames, made in one scapy run. */
  const built = new Map<string, Buffer>();
  beforeAll(async () => {
    ovs = await OvsBridge.start([1, 2, 3]);
    client = await ovs.connect();
    const exprs = [...new Set(scenarios.flatMap((c) => c.frames.map(([, e]) => e)))];
    (await scapyFrames(exprs)).forEach((f, i) => built.set(exprs[i]!, f));
  }, 60_000);
  afterAll(async () => {
    client?.socket.destroy();
    await ovs?.destroy();
  });

  test.each(scenarios)('$name', async ({ flows, frames, ports, frags = 0 }) => {
    expect(await install(client, [{ type: 'FLOW_MOD', xid: 0, ...flowMod({ command: 'DELETE', table_id: 0xff }) }, { type: 'SET_CONFIG', xid: 0, flags: frags, miss_send_len: 0xffff }])).toEqual([]);
    await ovs.appctl('dpctl/flush-conntrack');
    expect(await install(client, flows.map((f) => ({ type: 'FLOW_MOD', xid: 0, ...flowMod(f) }) as Message))).toEqual([]);
    const p = model(flows);
    p.config_flags = frags;
    const conntrack = new MemoryConntrack();
    const bytes = frames.map(([, e]) => built.get(e)!);
    const seen: number[][] = [];
    for (const [i, [port]] of frames.entries()) {
      const theirs = (await ovs.inject(port, bytes[i]!)).map((o) => `${o.port} ${o.frame.toString('hex')}`);
      const res = trace(p, port, bytes[i]!, i, { conntrack }).outputs;
      const ours = res.map((o) => `${o.port} ${o.frame.toString('hex')}`);
      expect(ours.sort(), `frame ${i}: ${frames[i]![1]}`).toEqual(theirs.sort());
      seen.push(res.map((o) => o.port));
    }
    if (ports) expect(seen).toEqual(ports);
  });

  test('bad ct actions and ct matches get the error OVS gives; good ones are taken by both', async () => {
    const rows: string[] = [];
    for (const [i, { name, flow }] of verdicts.entries()) {
      const mod = flowMod({ priority: 1000 + i, ...flow });
      const theirs = (await install(client, [{ type: 'FLOW_MOD', xid: 0, ...mod }]))[0] ?? 'ok';
      // Through our codec, as the endpoint would: the decoder answers some errors first.
      const decoded = decodeMessage(encodeMessage({ type: 'FLOW_MOD', xid: 1, ...mod }));
      const err = decoded instanceof OfpError ? decoded : decoded.type === 'FLOW_MOD' ? applyFlowMod(model([]), decoded, 0).error : undefined;
      rows.push(`${name}: OVS ${theirs}, us ${err?.name ?? 'ok'}`);
    }
    const differ = rows.filter((r) => {
      const [, theirs, ours] = /OVS (\S+), us (\S+)$/.exec(r)!;
      return theirs !== ours;
    });
    expect(differ, rows.join('\n')).toEqual([]);
  });
});
