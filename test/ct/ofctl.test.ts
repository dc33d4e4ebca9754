// test/ct/ofctl.test.ts — conntrack flows written with the real `ovs-ofctl -O OpenFlow13`
// to xdpswitch (the daemon, with a datapath that forwards nothing: only the OpenFlow side
// is under test) and to real Open vSwitch 3.1: the same add-flow lines get the same answer,
// and dump-flows prints the same text.
import { afterAll, beforeAll, expect, test } from 'vitest';
import type { BridgeDatapath, BridgePort, DatapathPacketIn, FlowCounters, PortCounters } from '../../src/datapath/bridge.js';
import type { Delta, Pipeline } from '../../src/ofproto/pipeline.js';
import { run } from '../harness/exec.js';
import { Topology } from '../harness/topology.js';
import { haveOvs, OvsBridge } from '../ofproto/ovs.js';
import { XdpSwitch } from '../vswitchd/switch.js';

/** Keeps nothing: the pipeline model answers every OpenFlow request by itself. */
class NullDatapath implements BridgeDatapath {
  async addPort(_p: BridgePort): Promise<void> {}
  async removePort(): Promise<void> {}
  async apply(_p: Pipeline, _d: readonly Delta[]): Promise<void> {}
  flowCounters(): Map<number, FlowCounters> {
    return new Map();
  }
  portCounters(): PortCounters | undefined {
    return undefined;
  }
  async transmit(): Promise<void> {}
  onPacketIn(_cb: (p: DatapathPacketIn) => void): void {}
  async close(): Promise<void> {}
}

/** add-flow lines: taken ones, and ones the switch must refuse (ovs-ofctl's own checks aside). */
const lines = [
  'ip,ct_state=-trk,actions=ct(table=1)',
  'table=1,ip,ct_state=+trk+new,in_port=1,actions=ct(commit),output:2',
  'table=1,ct_state=+trk+est,actions=output:2',
  'table=1,ct_state=+trk+new,in_port=2,actions=drop',
  'priority=5,ip,actions=ct(commit,zone=5,nat(src=10.0.0.1-10.0.0.9:100-200,random),exec(set_field:0x5->ct_mark,set_field:1->ct_label))',
  'priority=6,tcp,actions=ct(commit,zone=NXM_NX_REG0[0..15],nat(dst=10.0.0.1),alg=ftp)',
  'priority=7,ip,actions=ct(commit,force,table=3,exec(load:1->NXM_NX_CT_MARK[0..3]))',
  'priority=8,ipv6,actions=ct(commit,nat(src=[2001:db8::1]-[2001:db8::5]:80,persistent,hash))',
  'priority=9,actions=ct_clear,output:1',
  'priority=10,ip,ct_state=+trk+snat-dnat,ct_zone=5,ct_mark=0x5/0xf,ct_label=0x1/0x1,ct_nw_src=10.0.0.1,ct_nw_dst=10.0.0.0/8,ct_nw_proto=6,ct_tp_src=80,ct_tp_dst=0x100/0xff00,actions=drop',
  'priority=11,ipv6,ct_state=+est,ct_ipv6_src=2001:db8::1,ct_ipv6_dst=2001:db8::/32,actions=drop',
  'priority=12,ip,ip_frag=later,actions=drop',
  'priority=13,ip,nw_frag=first,actions=drop',
  'priority=14,ip,actions=ct(nat)',
  'priority=15,ip,ct_state=0x40/0xff,actions=drop',
  'priority=16,ip,ct_state=+rel+rpl+inv,actions=drop',
  'priority=17,ip,ct_mark=3,ct_label=0x10,actions=ct(commit,exec(set_field:0x1/0x3->ct_label))',
  'priority=18,udp,actions=ct(commit,alg=tftp),ct(table=2,zone=7)',
  'priority=19,ip,actions=clone(ct(commit,zone=2),output:1),output:2',
  // Refused by ovs-ofctl itself (the same words either way): a zone past 16 bits, backwards NAT ranges.
  'priority=20,ip,actions=ct(zone=70000)',
  'priority=21,ip,actions=ct(commit,nat(src=10.0.0.9-10.0.0.1))',
  'priority=22,tcp,actions=ct(commit,nat(src=10.0.0.1:300-200))',
  'priority=23,ip,actions=ct(commit,exec(output:1))',
  'priority=24,ip,actions=set_field:1->ct_mark',
  // Refused by the switch:
  'priority=30,ip,ct_state=+trk,ct_nw_src=10.0.0.1,actions=drop',
  'priority=31,ct_nw_proto=6,actions=drop',
  'priority=32,ip,actions=ct(exec(set_field:1->ct_mark))',
  'priority=33,ipv6,ct_state=+trk,ct_ipv6_src=2001:db8::1,actions=drop',
];

const normalise = (s: string) =>
  s
    .replace(/duration=[\d.]+s, /g, '')
    .replace(/\(xid=0x[0-9a-f]+\)/g, '(xid=X)')
    .replace(/^\d{4}-\d\d-\d\dT[\d:]+Z\|\d+\|/gm, '')
    .split('\n')
    .map((l) => l.trimEnd())
    .filter(Boolean);

let topo: Topology;
let xsw: XdpSwitch;
let ovs: OvsBridge;
beforeAll(async () => {
  topo = await Topology.create();
  xsw = await XdpSwitch.start(topo, { datapath: () => new NullDatapath() });
  await xsw.vsctl('add-br', 'br0', '--', 'set', 'bridge', 'br0', 'protocols=OpenFlow13', 'fail-mode=secure');
  if (haveOvs) ovs = await OvsBridge.start([1, 2]);
}, 60_000);
afterAll(async () => {
  await xsw?.close();
  await ovs?.destroy();
  await topo?.destroy();
});

test.skipIf(!haveOvs)('add-flow answers, dump-flows text and set-frags are the same as Open vSwitch 3.1', async () => {
  const theirs = (...args: string[]) => run(['ovs-ofctl', '-O', 'OpenFlow13', ...args], { env: ovs.env, allowFail: true });
  const ours = (...args: string[]) => xsw.ofctl('-O', 'OpenFlow13', ...args);
  for (const l of lines) {
    const [a, b] = [await theirs('add-flow', 'br0', l), await ours('add-flow', 'br0', l)];
    // An error names the request: compare the error line, not the bytes echoed after it.
    expect({ code: b.code, err: normalise(b.stderr).slice(0, 1) }, l).toEqual({ code: a.code, err: normalise(a.stderr).slice(0, 1) });
  }
  const [a, b] = [await theirs('dump-flows', 'br0'), await ours('dump-flows', 'br0')];
  expect(normalise(b.stdout).sort()).toEqual(normalise(a.stdout).sort());
  expect(normalise(b.stdout).length).toBeGreaterThan(15);

  // set-frags: OVS takes normal, drop and nx-match, and keeps its mode when asked to reassemble.
  const [theirFrags, ourFrags]: unknown[][] = [[], []];
  for (const mode of ['drop', 'reassemble', 'nx-match', 'normal'])
    for (const args of [['set-frags', 'br0', mode], ['get-frags', 'br0']]) {
      const [a, b] = [await theirs(...args), await ours(...args)];
      theirFrags.push({ args, code: a.code, out: normalise(a.stdout + a.stderr) });
      ourFrags.push({ args, code: b.code, out: normalise(b.stdout + b.stderr) });
    }
  expect(ourFrags).toEqual(theirFrags);
});
