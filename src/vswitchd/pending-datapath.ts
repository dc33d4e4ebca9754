// src/vswitchd/pending-datapath.ts — used only where the compiled XDP pipeline cannot load:
// a BridgeDatapath that does NOT forward: it attaches
// the first-form datapath (src/datapath/datapath.ts) to each port with verdict 'pass', so
// port counters are real, and only counts the pipeline's deltas. It stands in until the
// compiled XDP pipeline (issue 6) implements BridgeDatapath; every frame goes up the
// kernel stack of its port as if no switch were there.
import type { BridgeDatapath, BridgePort, DatapathPacketIn, FlowCounters, PortCounters } from '../datapath/bridge.js';
import { Datapath } from '../datapath/datapath.js';
import type { Delta, Pipeline } from '../ofproto/pipeline.js';
import type { Log } from './log.js';

/**
 * One first-form datapath object serves every bridge of the daemon (verdicts are per
 * ifindex); it is loaded with the first bridge and unloaded, maps unpinned, with the last.
 */
export class SharedDatapath {
  private dp?: Datapath;
  private failed = false;
  private users = 0;

  constructor(
    readonly instance: string,
    private readonly log: Log,
  ) {}

  acquire(): Datapath | undefined {
    this.users++;
    if (this.dp || this.failed) return this.dp;
    this.log.warn(`datapath is the pending implementation: ports get an XDP program that passes every frame to the kernel; nothing is forwarded by OpenFlow flows until the compiled pipeline lands`);
    try {
      this.dp = Datapath.open(this.instance);
    } catch (e) {
      // Not retried: loading runs the verifier on the event loop's thread.
      this.failed = true;
      this.log.err(`cannot load the BPF datapath (${e instanceof Error ? e.message : String(e)}); ports will have no program and no datapath counters`);
    }
    return this.dp;
  }

  release(opts: { keepPinned?: boolean } = {}): void {
    if (--this.users > 0 || !this.dp) return;
    this.dp.close({ unpin: !opts.keepPinned });
    this.dp = undefined;
  }
}

export class PendingDatapath implements BridgeDatapath {
  /** Deltas applied so far (the compiler will be handed them; this one only counts). */
  deltasApplied = 0;
  private readonly ports = new Map<number, BridgePort>();
  private readonly dp: Datapath | undefined;

  constructor(
    private readonly shared: SharedDatapath,
    private readonly log: Log,
  ) {
    this.dp = shared.acquire();
  }

  get loaded(): boolean {
    return this.dp !== undefined;
  }
  async addPort(port: BridgePort): Promise<void> {
    this.ports.set(port.ofport, port);
    if (!this.dp) return;
    try {
      this.dp.addPort(port.ifindex, { hook: port.hook, ofport: port.ofport, verdict: { action: 'pass' } });
    } catch (e) {
      if (port.hook !== 'xdp') throw e;
      // Some drivers have no native XDP; generic XDP runs after the skb is built.
      this.log.warn(`${port.name}: native XDP refused (${e instanceof Error ? e.message : String(e)}); attaching in generic mode`);
      this.dp.addPort(port.ifindex, { hook: 'xdp', ofport: port.ofport, verdict: { action: 'pass' }, xdpMode: 'generic' });
    }
  }

  async removePort(ofport: number): Promise<void> {
    const p = this.ports.get(ofport);
    if (!p) return;
    this.ports.delete(ofport);
    try {
      this.dp?.removePort(p.ifindex);
    } catch {
      // The device is gone, and its program with it.
    }
  }

  async apply(_pipeline: Pipeline, deltas: readonly Delta[]): Promise<void> {
    this.deltasApplied += deltas.length;
  }

  flowCounters(): Map<number, FlowCounters> {
    return new Map();
  }

  portCounters(ofport: number): PortCounters | undefined {
    const p = this.ports.get(ofport);
    if (!p || !this.dp) return undefined;
    const s = this.dp.portStats(p.ifindex);
    return { rx_packets: s.rx_packets, rx_bytes: s.rx_bytes, tx_packets: s.tx_packets, tx_bytes: s.tx_bytes, rx_dropped: s.drops, tx_dropped: 0n };
  }

  /** The pending datapath cannot send frames from userspace; PACKET_OUT is counted as dropped by the caller. */
  async transmit(_ofport: number, _frame: Buffer): Promise<void> {
    return;
  }

  onPacketIn(_cb: (p: DatapathPacketIn) => void): void {
    // Verdict 'pass' never sends a frame up to the switch.
  }

  async close(opts: { keepPinned?: boolean } = {}): Promise<void> {
    for (const ofport of [...this.ports.keys()]) await this.removePort(ofport);
    this.shared.release(opts);
  }
}
