// Meters in the datapath: token buckets in xsw_meters, run by the XDP program itself
// (no slow path). A flood of frames through BPF_PROG_RUN (repeat) is capped at the
// meter's rate within 10%, in packets/s and in kb/s; a dscp_remark band raises DSCP
// on the packets over the rate and fixes the IPv4 checksum; deleting the meter
// deletes its flows, as the model says.
import { afterEach, describe, expect, test } from 'vitest';
import type { MeterBand } from '../../proto/openflow/meter.js';
import { decodeXswMeter } from '../../src/datapath/gen/maps.js';
import { XdpBridgeDatapath } from '../../src/datapath/xdp-bridge.js';
import { progRun, XdpAction } from '../../src/native/bpf.js';
import { getLink } from '../../src/native/netlink.js';
import { applyFlowMod } from '../../src/ofproto/flow-mod.js';
import { applyMeterMod } from '../../src/ofproto/meter.js';
import { createPipeline, type Pipeline } from '../../src/ofproto/pipeline.js';
import { addPort } from '../../src/ofproto/port.js';
import { flowMod } from '../ofproto/helpers.js';
import { Topology } from '../harness/topology.js';

/** Ethernet/IPv4/UDP, 60 bytes, TOS `tos`. */
function udpFrame(tos = 0): Buffer {
  const f = Buffer.alloc(60);
  Buffer.from('020000000002020000000001', 'hex').copy(f, 0);
  f.writeUInt16BE(0x0800, 12);
  f.writeUInt8(0x45, 14);
  f.writeUInt8(tos, 15);
  f.writeUInt16BE(46, 16);
  f.writeUInt8(64, 22);
  f.writeUInt8(17, 23);
  Buffer.from([10, 99, 0, 1, 10, 99, 0, 2]).copy(f, 26);
  f.writeUInt16BE(ipSum(f), 24);
  f.writeUInt16BE(1024, 34);
  f.writeUInt16BE(9, 36);
  f.writeUInt16BE(26, 38);
  return f;
}

/** The IPv4 header checksum of frame `f` computed over its header with the field as zero. */
function ipSum(f: Buffer): number {
  let sum = 0;
  for (let i = 14; i < 34; i += 2) if (i !== 24) sum += f.readUInt16BE(i);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >> 16);
  return ~sum & 0xffff;
}

let bridge: XdpBridgeDatapath | undefined;
afterEach(async () => {
  await bridge?.close();
  bridge = undefined;
});

async function setup(flags: number, band: MeterBand) {
  const topo = await Topology.create();
  const ifindex: number[] = [];
  for (const n of [1, 2]) {
    const [a] = await topo.vethPair(`m${n}`, `n${n}`);
    ifindex.push((await getLink(a)).ifindex);
  }
  const p: Pipeline = createPipeline(0);
  bridge = XdpBridgeDatapath.open();
  for (const n of [1, 2]) {
    addPort(p, { port_no: n, name: `m${n}` });
    await bridge.addPort({ ofport: n, ifindex: ifindex[n - 1]!, name: `m${n}`, hook: 'xdp' });
  }
  const br = bridge;
  const m = applyMeterMod(p, { command: 'ADD', flags, meter_id: 7, bands: [band] }, 0);
  if (m.error) throw m.error;
  await br.apply(p, m.deltas);
  const f = applyFlowMod(p, flowMod({ priority: 10, match: [{ field: 'IN_PORT', value: 1 }], instructions: [{ type: 'METER', meter_id: 7 }, { type: 'APPLY_ACTIONS', actions: [{ type: 'OUTPUT', port: 2, max_len: 0 }] }] }), 0);
  if (f.error) throw f.error;
  await br.apply(p, f.deltas);
  /**
   * One frame, then `n` copies back to back: frames forwarded of the `n`, and the
   * seconds between the first frame and the last as the meter's clock saw them (the
   * wall clock around the run would count the time the run waited to start).
   */
  const flood = async (frame: Buffer, n: number) => {
    await progRun(br.dp.xdpProgram, frame, { ingressIfindex: ifindex[0]!, repeat: 1 });
    const t0 = counters()!.last_ns;
    const before = br.portCounters(2)!.tx_packets;
    await progRun(br.dp.xdpProgram, frame, { ingressIfindex: ifindex[0]!, repeat: n });
    const s = Number(counters()!.last_ns - t0) / 1e9;
    return { forwarded: Number(br.portCounters(2)!.tx_packets - before), s };
  };
  const send = (frame: Buffer) => progRun(br.dp.xdpProgram, frame, { ingressIfindex: ifindex[0]!, repeat: 1 });
  const counters = () => {
    const mp = br.dp.map('xsw_meters');
    const k = Buffer.alloc(4);
    k.writeUInt32LE(7);
    const v = mp.lookup(k);
    mp.close();
    return v && decodeXswMeter(v);
  };
  return { p, br, flood, send, counters };
}

describe('meters in the datapath', () => {
  // The bucket holds at most its depth: while a shared CPU takes the run away for longer
  // than that, the meter's clock runs on and the tokens are lost, so fewer frames pass
  // than rate × time. Never more: the upper bound holds on every run, the 10% on the
  // best of five short ones.
  const within = async (rate: (s: number) => number, flood: () => Promise<{ forwarded: number; s: number }>, what: string) => {
    const ratios: number[] = [];
    for (let i = 0; i < 5; i++) {
      const { forwarded, s } = await flood();
      const r = forwarded / rate(s);
      console.log(`meter ${what}: ${forwarded} forwarded in ${s.toFixed(3)} s, ${r.toFixed(3)} of rate`);
      expect(r).toBeLessThan(1.1);
      ratios.push(r);
      if (r > 0.9) break;
    }
    expect(Math.max(...ratios)).toBeGreaterThan(0.9);
  };

  test('a drop band caps a flood at its packet rate within 10%, with no slow path', async () => {
    const { br, flood, counters } = await setup(2 /* PKTPS */, { type: 'DROP', rate: 10_000, burst_size: 0 });
    // Bucket depth: 10 ms of rate, at least 10 packets (src/ofproto/meter.ts); the first frame took one.
    await within((s) => 10_000 * s + 99, () => flood(udpFrame(), 300_000), 'pktps');
    expect(br.slowPath.byReason.size).toBe(0);
    const c = counters()!;
    expect(c.packets - c.band_packets[0]!).toBe(br.portCounters(2)!.tx_packets);
  });

  test('a drop band caps a flood at its bit rate within 10%', async () => {
    const { flood } = await setup(1 /* KBPS */, { type: 'DROP', rate: 8_000, burst_size: 0 });
    // 60-byte frames: 480 bits; depth 10 ms of rate but at least 10 full-size frames.
    await within((s) => (8_000_000 * s + 10 * 1518 * 8) / 480 - 1, () => flood(udpFrame(), 300_000), 'kbps');
  });

  test('a dscp_remark band raises DSCP over the rate, checksum fixed; meter delete removes its flows', async () => {
    const { p, br, send } = await setup(2 | 4 /* PKTPS | BURST */, { type: 'DSCP_REMARK', rate: 1, burst_size: 5, prec_level: 1 });
    const frame = udpFrame(10 << 2); // AF11
    const out: Buffer[] = [];
    for (let i = 0; i < 8; i++) {
      const r = await send(frame);
      expect(r.retval).toBe(XdpAction.REDIRECT);
      out.push(r.data);
    }
    // Five within the burst pass as they are; then AF12 (DSCP 12), ECN kept, checksum right.
    expect(out.slice(0, 5).every((f) => f.equals(frame))).toBe(true);
    for (const f of out.slice(5)) {
      expect(f.readUInt8(15) >> 2).toBe(12);
      expect(f.readUInt16BE(24)).toBe(ipSum(f));
    }
    const d = applyMeterMod(p, { command: 'DELETE', flags: 0, meter_id: 7, bands: [] }, 0);
    await br.apply(p, d.deltas);
    expect((await send(frame)).retval).toBe(XdpAction.DROP);
  });
});
