// test/vswitchd/datapath-contract.test.ts — what vswitchd does with what a datapath reports,
// through the BridgeDatapath interface the compiled XDP pipeline will implement: per-entry
// counters reach dump-flows, packet-ins reach the controllers with the entry's cookie, and
// every flow change is handed over in order. The recording datapath below stands in for
// that pipeline, which does not exist yet; everything around it is the real daemon and
// the stock clients.
import { afterEach, expect, test } from 'vitest';
import type { BridgeDatapath, BridgePort, DatapathPacketIn, FlowCounters, PortCounters } from '../../src/datapath/bridge.js';
import type { Delta, Pipeline } from '../../src/ofproto/pipeline.js';
import { listenForSwitches, type ControllerConnection, type MessageOf } from '../../src/openflow/index.js';
import { waitFor } from '../harness/exec.js';
import { Topology } from '../harness/topology.js';
import { XdpSwitch } from './switch.js';

class RecordingDatapath implements BridgeDatapath {
  readonly ports = new Map<number, BridgePort>();
  readonly deltas: Delta['kind'][] = [];
  readonly live = new Set<number>();
  private cb?: (p: DatapathPacketIn) => void;
  async addPort(p: BridgePort): Promise<void> {
    this.ports.set(p.ofport, p);
  }
  async removePort(ofport: number): Promise<void> {
    this.ports.delete(ofport);
  }
  async apply(_p: Pipeline, deltas: readonly Delta[]): Promise<void> {
    for (const d of deltas) {
      this.deltas.push(d.kind);
      if (d.kind === 'flow-add') this.live.add(d.entry.id);
      if (d.kind === 'flow-remove') this.live.delete(d.entry.id);
    }
  }
  /** Every live entry has seen 3 frames of 100 bytes. */
  flowCounters(): Map<number, FlowCounters> {
    return new Map([...this.live].map((id) => [id, { packets: 3n, bytes: 300n }]));
  }
  portCounters(): PortCounters | undefined {
    return undefined;
  }
  async transmit(): Promise<void> {}
  onPacketIn(cb: (p: DatapathPacketIn) => void): void {
    this.cb = cb;
  }
  packetIn(p: DatapathPacketIn): void {
    this.cb?.(p);
  }
  async close(): Promise<void> {}
}

let sw: XdpSwitch | undefined;
afterEach(async () => {
  await sw?.close();
});

test('datapath counters reach dump-flows, packet-ins reach the controller with the cookie', async () => {
  const topo = await Topology.create();
  const dps: RecordingDatapath[] = [];
  sw = await XdpSwitch.start(topo, {
    datapath: () => {
      const d = new RecordingDatapath();
      dps.push(d);
      return d;
    },
  });
  const br = topo.name('br');
  const [a] = await topo.vethPair('a0', 'a1');
  expect((await sw.vsctl('add-br', br, '--', 'set-fail-mode', br, 'secure', '--', 'add-port', br, a)).code).toBe(0);
  const dp = dps[0]!;
  expect([...dp.ports.values()].map((p) => [p.ofport, p.name])).toEqual(expect.arrayContaining([[1, a]]));

  expect((await sw.ofctl('-O', 'OpenFlow13', 'add-flow', br, 'cookie=0x2a,priority=5,in_port=1,actions=CONTROLLER:65535')).code).toBe(0);
  expect(dp.deltas).toEqual(['flow-add']);
  expect((await sw.ofctl('-O', 'OpenFlow13', 'dump-flows', br)).stdout).toMatch(/cookie=0x2a, duration=[\d.]+s, table=0, n_packets=3, n_bytes=300, priority=5,in_port=1 actions=CONTROLLER:65535/);
  expect((await sw.ofctl('-O', 'OpenFlow13', 'dump-aggregate', br)).stdout).toContain('packet_count=3 byte_count=300 flow_count=1');

  const got: MessageOf<'PACKET_IN'>[] = [];
  const conns: ControllerConnection[] = [];
  const listener = await listenForSwitches(`punix:${topo.dir}/ctl.sock`, (c) => {
    conns.push(c);
    c.on('message', (m) => m.type === 'PACKET_IN' && got.push(m));
  });
  try {
    expect((await sw.vsctl('set-controller', br, `unix:${topo.dir}/ctl.sock`)).code).toBe(0);
    await waitFor(async () => (await sw!.get('Controller', br, 'is_connected')) === 'true', 'the controller', 5000);
    // set-controller flushed the flows (first controller, as OVS): add the rule again.
    expect((await sw.ofctl('-O', 'OpenFlow13', 'add-flow', br, 'cookie=0x2a,priority=5,in_port=1,actions=CONTROLLER:65535')).code).toBe(0);
    const entry = [...sw.vswitchd.bridges.get(br)!.ofproto.pipeline.tables[0]!.entries][0]!;
    const frame = Buffer.alloc(60, 0xab);
    dp.packetIn({ in_port: 1, reason: 1, table_id: 0, entryId: entry.id, data: frame, total_len: 60 });
    await waitFor(() => got.length === 1, 'the PACKET_IN', 3000);
    expect(got[0]).toMatchObject({ reason: 1, table_id: 0, cookie: 0x2an, total_len: 60, match: [{ field: 'IN_PORT', value: 1 }] });
    expect(Buffer.from(got[0]!.data)).toEqual(frame);
  } finally {
    for (const c of conns) c.close();
    await listener.close();
  }
  expect(dp.deltas).toEqual(['flow-add', 'flow-remove', 'flow-add']);
});
