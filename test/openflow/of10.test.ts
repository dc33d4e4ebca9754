// test/openflow/of10.test.ts — plain `ovs-ofctl` (no -O: OpenFlow 1.0 with Nicira
// extensions, as OVS users type it) against xdpswitch and against a real Open vSwitch
// 3.1 bridge in the same test: the same commands print the same, once durations,
// xids, datapath ids and MACs are normalised. The Bridge protocols column decides
// which versions are spoken, as in OVS.
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { Topology } from '../harness/topology.js';
import { OvsSwitch, XdpSwitch, type Switch } from '../vswitchd/switch.js';

let topo: Topology;
let ovs: OvsSwitch;
let xdp: XdpSwitch;
let br: string;

/**
 * Both switches with bridge `br` and an internal port on ofport 1. The harness removes
 * them (and the topology) after each test, pass or fail.
 */
async function startBoth(): Promise<void> {
  topo = await Topology.create();
  br = topo.name('b');
  const p1 = topo.name('p1');
  ovs = await OvsSwitch.start(topo);
  xdp = await XdpSwitch.start(topo);
  for (const sw of [ovs, xdp] as Switch[]) {
    const r = await sw.vsctl('add-br', br, '--', 'set', 'Bridge', br, 'datapath_type=netdev', '--', 'add-port', br, p1, '--', 'set', 'Interface', p1, 'type=internal', 'ofport_request=1');
    expect(r.code, r.stderr).toBe(0);
  }
}

/**
 * What differs by design: durations, xids, dpid and MACs; hard_age (xdpswitch does not
 * know when a flow was last modified: OVS prints hard_age=0 after mod-flows); idle_age
 * of flows that were hit (none here); log timestamps; the order of ports.
 */
function normalise(s: string): string {
  const lines = s
    .replace(/duration=[\d.]+s/g, 'duration=X')
    .replace(/hard_age=\d+, /g, '')
    .replace(/idle_age=\d+/g, 'idle_age=X')
    .replace(/dpid:[0-9a-f]+/g, 'dpid:X')
    .replace(/addr:[0-9a-f:]+/g, 'addr:X')
    .replace(/\(xid=0x[0-9a-f]+\)/g, '(xid=X)')
    .replace(/^\S+Z\|\d+\|/gm, '')
    .split('\n')
    .map((l) => l.trimEnd());
  // dump-ports: each port is two lines; OVS lists them in hash order.
  const ports: string[] = [];
  const rest: string[] = [];
  for (let i = 0; i < lines.length; i++) {
    if (/^ {2}port /.test(lines[i]!)) ports.push(`${lines[i]}\n${lines[++i]}`);
    else rest.push(lines[i]!);
  }
  return [...rest, ...ports.sort()].join('\n');
}

async function ofctl(sw: Switch, ...args: string[]): Promise<{ code: number; out: string }> {
  const r = await sw.ofctl(...args);
  return { code: r.code, out: normalise(r.stdout + r.stderr) };
}

/** Runs the same steps on both switches; each step's output must be equal. */
async function same(steps: string[][]): Promise<Record<string, { code: number; out: string }>> {
  const want: Record<string, unknown> = {};
  const got: Record<string, unknown> = {};
  for (const [sw, out] of [
    [ovs, want],
    [xdp, got],
  ] as const) {
    for (const [i, s] of steps.entries()) out[`${i}: ${s.join(' ')}`] = await ofctl(sw, ...s.map((a) => a.replaceAll('BR', br).replace(/^FILE$/, flowFile)));
  }
  expect(got).toEqual(want);
  return want as Record<string, { code: number; out: string }>;
}

let flowFile: string;
const pkt = '0102030405060a0b0c0d0e0f08004500001c000100004001f98c0a0000010a000002080000000000000000000000';

test('plain ovs-ofctl (OpenFlow 1.0) prints what Open vSwitch 3.1 prints', async () => {
  await startBoth();
  flowFile = join(topo.dir, 'flows.txt');
  writeFileSync(flowFile, ['priority=5,ip,actions=output:1', 'table=1,priority=6,ipv6,actions=drop', 'in_port=1,dl_vlan=7,actions=strip_vlan,output:2', ''].join('\n'));
  const out = await same([
    ['show', 'BR'],
    ['dump-ports-desc', 'BR'],
    ['dump-tables', 'BR'],
    ['dump-ports', 'BR'],
    ['get-frags', 'BR'],
    ['set-frags', 'BR', 'drop'],
    ['get-frags', 'BR'],
    ['set-frags', 'BR', 'normal'],
    // Flows with every 1.0 action and match field, in tables 0 and 1.
    ['del-flows', 'BR'],
    ['add-flow', 'BR', 'in_port=1,actions=output:2'],
    ['add-flow', 'BR', 'table=1,priority=5,ip,nw_dst=10.0.0.0/8,actions=mod_nw_tos:4,output:1'],
    ['add-flow', 'BR', 'priority=7,udp,tp_dst=53,actions=mod_tp_dst:5353,enqueue:1:3,mod_vlan_vid:7,strip_vlan,mod_dl_src:00:11:22:33:44:55,mod_nw_src:1.2.3.4,LOCAL,IN_PORT,FLOOD,ALL,CONTROLLER:64,NORMAL'],
    ['add-flow', 'BR', 'priority=6,cookie=0x12,idle_timeout=30,hard_timeout=60,dl_vlan=5,dl_vlan_pcp=3,arp,arp_tpa=10.1.0.0/16,arp_op=1,actions=drop'],
    ['add-flow', 'BR', 'priority=4,icmp,icmp_type=8,icmp_code=0,nw_tos=8,actions=output:3'],
    ['add-flow', 'BR', 'priority=3,dl_src=00:00:00:00:00:01,dl_dst=00:00:00:00:00:02,tcp,nw_src=192.168.0.0/16,tp_src=80,actions=mod_tp_src:8080,mod_dl_dst:00:00:00:00:00:03,mod_nw_dst:10.9.8.7,mod_vlan_pcp:2,output:1'],
    // A flow written in OpenFlow 1.3 with goto_table: OVS shows it in 1.0 as resubmit(,N).
    ['-O', 'OpenFlow13', 'add-flow', 'BR', 'table=0,priority=9,tcp,actions=goto_table:1'],
    ['dump-flows', 'BR'],
    ['dump-flows', 'BR', 'table=1'],
    ['dump-flows', 'BR', 'udp'],
    ['dump-flows', 'BR', 'out_port=1'],
    ['mod-flows', 'BR', 'udp,actions=output:9'],
    ['mod-flows', 'BR', '--strict', 'priority=4,icmp,icmp_type=8,icmp_code=0,nw_tos=8,actions=output:4'],
    ['dump-flows', 'BR'],
    // In 1.0 a modify reaches every table, and one that matches nothing adds its flow.
    ['mod-flows', 'BR', 'ip,nw_dst=10.0.0.0/8,actions=output:7'],
    ['mod-flows', 'BR', 'in_port=5,actions=drop'],
    ['mod-flows', 'BR', '--strict', 'priority=44,in_port=6,actions=output:1'],
    ['dump-flows', 'BR'],
    ['dump-aggregate', 'BR'],
    ['dump-aggregate', 'BR', 'table=1'],
    ['del-flows', 'BR', '--strict', 'priority=4,icmp,icmp_type=8,icmp_code=0,nw_tos=8'],
    ['del-flows', 'BR', 'ip,nw_dst=10.0.0.0/8'],
    ['del-flows', 'BR', 'out_port=1'],
    ['dump-flows', 'BR'],
    ['dump-tables', 'BR'],
    // A file mixing tables: ovs-ofctl turns the table id on and sends table 0xff ("any") for lines without one.
    ['add-flows', 'BR', 'FILE'],
    ['diff-flows', 'BR', 'FILE'],
    ['mod-flows', 'BR', 'table=1,ipv6,actions=output:3'],
    ['dump-flows', 'BR', '--rsort=priority'],
    ['del-flows', 'BR', 'table=1'],
    // Fields 1.0's ofp_match lacks: ovs-ofctl sends NXT_FLOW_MOD and NXST_FLOW with NXM matches.
    ['add-flow', 'BR', 'priority=5,ipv6,ipv6_dst=2001:db8::1,reg0=5,actions=output:1'],
    ['add-flow', 'BR', 'table=2,priority=6,tcp6,tp_dst=22,ipv6_src=2001:db8::/32,actions=drop'],
    ['dump-flows', 'BR', 'ipv6'],
    ['dump-flows', 'BR', 'table=2'],
    ['del-flows', 'BR', 'reg0=5'],
    ['dump-flows', 'BR', 'ipv6'],
    // Errors: one ovs-ofctl finds itself, one the switch answers (table 254 is read-only).
    ['add-flow', 'BR', 'in_port=1,actions=output:65280'],
    ['add-flow', 'BR', 'table=254,actions=drop'],
    ['del-flows', 'BR'],
    ['dump-flows', 'BR'],
    ['packet-out', 'BR', 'LOCAL', 'drop', pkt],
    ['packet-out', 'BR', '1', 'output:LOCAL', pkt],
    ['queue-get-config', 'BR', '1'],
    ['dump-queues', 'BR'],
  ]);
  // The comparison above means something only if the commands worked.
  /** The output of the nth (from 0) step running `cmd`. */
  const at = (cmd: string, nth = 0) => Object.entries(out).filter(([k]) => k.replace(/^\d+: /, '') === cmd)[nth]![1];
  expect(at('show BR').out).toMatch(/^OFPT_FEATURES_REPLY \(xid=X\): dpid:X\nn_tables:254, n_buffers:0\n/);
  expect(at('show BR').out).toContain(' 1(');
  expect(at('dump-flows BR')).toMatchObject({ code: 0 });
  expect(at('dump-flows BR').out).toContain('priority=9,tcp actions=resubmit(,1)');
  expect(at('dump-flows BR').out).toContain('NXST_FLOW reply (xid=X):\n');
  expect(at('dump-flows BR').out).toContain('table=1, n_packets=0, n_bytes=0, idle_age=X, priority=5,ip,nw_dst=10.0.0.0/8 actions=mod_nw_tos:4,output:1');
  expect(at('dump-flows BR', 1).out.split('\n').length).toBeGreaterThan(7);
  expect(at('dump-flows BR', 2).out).toContain('table=1, n_packets=0, n_bytes=0, idle_age=X, priority=5,ip,nw_dst=10.0.0.0/8 actions=output:7');
  expect(at('dump-flows BR', 2).out).toContain('priority=44,in_port=6 actions=output:1');
  // Every flow of the file is there (the other lines are flows added before it).
  expect(at('diff-flows BR FILE').out).not.toMatch(/^\+/m);
  expect(at('dump-flows BR --rsort=priority').out).toContain('table=1, n_packets=0, n_bytes=0, priority=6,ipv6 actions=output:3');
  expect(at('dump-flows BR ipv6').out).toContain('priority=5,ipv6,reg0=0x5,ipv6_dst=2001:db8::1 actions=output:1');
  expect(at('add-flow BR in_port=1,actions=output:65280').out).toContain('OFPBAC_BAD_OUT_PORT');
  expect(at('add-flow BR table=254,actions=drop').out).toContain('OFPT_ERROR (xid=X): OFPBRC_EPERM\nOFPT_FLOW_MOD (xid=X): ADD table:254 actions=drop');
}, 60_000);

/** Runs `ovs-ofctl monitor BR 65534` on `sw` while `during` runs; what it printed. */
async function monitor(sw: Switch, during: () => Promise<unknown>): Promise<string> {
  const env = { ...process.env, OVS_RUNDIR: sw.rundir };
  const p = spawn('ovs-ofctl', ['monitor', br, '65534'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  p.stdout.on('data', (d: Buffer) => (out += d.toString()));
  p.stderr.on('data', (d: Buffer) => (out += d.toString()));
  try {
    // Time for the monitor to connect and send its SET_CONFIG (miss_send_len).
    await new Promise((r) => setTimeout(r, 700));
    await during();
    await new Promise((r) => setTimeout(r, 700));
  } finally {
    // ovs-ofctl writes what it buffered as it exits: wait for that.
    const exited = new Promise((r) => p.once('close', r));
    p.kill('SIGTERM');
    await exited;
  }
  return out.replace(/^.*terminating with signal 15.*\n/m, '');
}

test('ovs-ofctl monitor (1.0) sees packet-ins and port status as from Open vSwitch 3.1', async () => {
  await startBoth();
  const p2 = `${br.slice(0, -1)}q`;
  const seen: string[] = [];
  for (const sw of [ovs, xdp] as Switch[]) {
    const out = await monitor(sw, async () => {
      expect((await sw.ofctl('packet-out', br, 'LOCAL', 'controller', pkt)).code).toBe(0);
      expect((await sw.vsctl('add-port', br, p2, '--', 'set', 'Interface', p2, 'type=internal', 'ofport_request=2')).code).toBe(0);
    });
    // OVS answers the monitor's NXT_SET_PACKET_IN_FORMAT nxt_packet_in2; xdpswitch keeps the standard format.
    seen.push(normalise(out.replace(/NXT_PACKET_IN2/g, 'OFPT_PACKET_IN')).replace(/^ {5}speed: .*\n/gm, ''));
  }
  expect(seen[1]).toEqual(seen[0]);
  expect(seen[0]).toContain('OFPT_PACKET_IN (xid=X): total_len=46 in_port=LOCAL (via action) data_len=46 (unbuffered)');
  expect(seen[0]).toContain(`OFPT_PORT_STATUS (xid=X): ADD: 2(${p2}): addr:X`);
}, 60_000);

describe('the Bridge protocols column', () => {
  test('protocols=OpenFlow13 refuses plain ovs-ofctl as OVS does; empty allows 1.0 and 1.3 again', async () => {
    await startBoth();
    const want: unknown[] = [];
    const got: unknown[] = [];
    for (const [sw, out] of [
      [ovs, want],
      [xdp, got],
    ] as const) {
      await sw.vsctl('set', 'Bridge', br, 'protocols=OpenFlow13');
      // OVS opens the .mgmt socket anew when protocols change: wait for it to answer.
      let r = await sw.ofctl('show', br);
      for (let i = 0; i < 30 && !r.stderr.includes('negotiation'); i++) {
        await new Promise((res) => setTimeout(res, 100));
        r = await sw.ofctl('show', br);
      }
      // The WARN line is the negotiation; how the socket then fails (EPIPE, EPROTO) is a race in both.
      out.push(r.code, normalise(r.stderr).split('\n')[0]!.replace(/unix:\S+\.mgmt/, 'unix:BR.mgmt'));
      out.push((await sw.ofctl('-O', 'OpenFlow13', 'dump-flows', br)).code);
      await sw.vsctl('clear', 'Bridge', br, 'protocols');
      out.push((await sw.ofctl('show', br)).code, (await sw.ofctl('-O', 'OpenFlow13', 'show', br)).code);
    }
    expect(got).toEqual(want);
    expect(want).toEqual([1, 'vconn|WARN|unix:BR.mgmt: version negotiation failed (we support version 0x01, peer supports version 0x04)', 0, 0, 0]);
  }, 60_000);
});
