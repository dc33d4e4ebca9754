// The datapath as the rest of the switch sees it: bpf/xdpswitch.bpf.o loaded once per
// instance with its maps pinned, its program attached to each port at the port's hook,
// port verdicts written into maps, counters summed across CPUs, upcalls decoded.
// This is the first form (per-port verdicts); the compiled OpenFlow pipeline replaces
// the verdict map and keeps the rest of this interface.
import { rmdirSync, rmSync } from 'node:fs';
import { dirname } from 'node:path';
import {
  attachTc,
  attachXdp,
  BpfObject,
  type BpfMap,
  type BpfProgram,
  detachXdp,
  RingBuffer,
  type TcAttachment,
  type XdpMode,
} from '../native/bpf.js';
import { bpfObjectPath } from '../native/paths.js';
import {
  decodeXswPortStats,
  decodeXswUpcall,
  encodeXswPort,
  LAYOUT_VERSION,
  XSW_PORT_STATS_SIZE,
  XswPortAction,
  type XswPortStats,
  type XswUpcall,
} from './gen/maps.js';

/** Where XDP or TC runs the pipeline for a port (Interface other_config:datapath-hook). */
export type Hook = 'xdp' | 'tc';

export type PortVerdict =
  | { action: 'pass' }
  | { action: 'drop' }
  | { action: 'redirect'; outIfindex: number }
  | { action: 'upcall' }
  | { action: 'pipeline' };

export interface PortOptions {
  hook: Hook;
  /** OpenFlow port number, reported in upcalls. */
  ofport: number;
  verdict: PortVerdict;
  /** XDP only: 'generic' runs after the stack built an skb (slower; the caller logs it). */
  xdpMode?: XdpMode;
}

interface Port {
  ifindex: number;
  hook: Hook;
  xdpMode: XdpMode;
  tc?: TcAttachment;
}

const u32key = (n: number): Buffer => {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(n);
  return b;
};

/** The bpffs directory of an instance's pinned maps: the layout version is part of it. */
export function pinDirFor(instance: string): string {
  return `/sys/fs/bpf/xdpswitch/v${LAYOUT_VERSION}/${instance}`;
}

export class Datapath {
  private readonly ports = new Map<number, Port>();
  private ring?: RingBuffer;

  private constructor(
    readonly instance: string,
    private readonly obj: BpfObject,
    private readonly xdpProg: BpfProgram,
    private readonly tcProg: BpfProgram,
    private readonly portsMap: BpfMap,
    private readonly txPorts: BpfMap,
    private readonly stats: BpfMap,
    private readonly upcalls: BpfMap,
  ) {}

  /**
   * Loads the datapath object for `instance`, reusing its pinned maps (and so the
   * counters and port table) when a previous run left them.
   */
  static open(instance: string, opts: { vlanLimit?: 1 | 2 } = {}): Datapath {
    const obj = BpfObject.load(bpfObjectPath('xdpswitch'), {
      pinDir: pinDirFor(instance),
      globals: { xsw_vlan_limit: u32key(opts.vlanLimit ?? 1) },
    });
    return new Datapath(
      instance,
      obj,
      obj.program('xsw_xdp'),
      obj.program('xsw_tc'),
      obj.map('xsw_ports'),
      obj.map('xsw_tx_ports'),
      obj.map('xsw_port_stats'),
      obj.map('xsw_upcalls'),
    );
  }

  /** Attaches the pipeline to a device and sets its verdict. */
  addPort(ifindex: number, opts: PortOptions): void {
    this.setVerdict(ifindex, opts.ofport, opts.verdict);
    // Every port can be a redirect target; XDP redirects go through the devmap.
    this.txPorts.update(u32key(ifindex), u32key(ifindex));
    const port: Port = { ifindex, hook: opts.hook, xdpMode: opts.xdpMode ?? 'native' };
    if (opts.hook === 'xdp') attachXdp(ifindex, this.xdpProg, { mode: port.xdpMode });
    else port.tc = attachTc(ifindex, this.tcProg, 'ingress');
    this.ports.set(ifindex, port);
  }

  setVerdict(ifindex: number, ofport: number, v: PortVerdict): void {
    const action = {
      pass: XswPortAction.XSW_PORT_PASS,
      drop: XswPortAction.XSW_PORT_DROP,
      redirect: XswPortAction.XSW_PORT_REDIRECT,
      upcall: XswPortAction.XSW_PORT_UPCALL,
      pipeline: XswPortAction.XSW_PORT_PIPELINE,
    }[v.action];
    const out = v.action === 'redirect' ? v.outIfindex : 0;
    this.portsMap.update(u32key(ifindex), encodeXswPort({ action, out_ifindex: out, ofport, flags: 0 }));
  }

  /** How the port's pipeline is attached ('tcx' or 'clsact' for TC). */
  hookOf(ifindex: number): string | undefined {
    const p = this.ports.get(ifindex);
    if (!p) return undefined;
    return p.hook === 'xdp' ? `xdp (${p.xdpMode})` : `tc (${p.tc?.hook})`;
  }

  /** A port's counters, summed over CPUs. */
  portStats(ifindex: number): XswPortStats {
    const total: XswPortStats = { rx_packets: 0n, rx_bytes: 0n, tx_packets: 0n, tx_bytes: 0n, drops: 0n, upcalls: 0n };
    for (const slot of this.stats.lookupPerCpu(u32key(ifindex)) ?? []) {
      const s = decodeXswPortStats(slot.subarray(0, XSW_PORT_STATS_SIZE));
      for (const k of Object.keys(total) as (keyof XswPortStats)[]) total[k] += s[k];
    }
    return total;
  }

  /** Delivers every upcall record to `cb`, from the event loop (no polling). */
  onUpcall(cb: (u: XswUpcall) => void): void {
    this.ring?.close();
    this.ring = new RingBuffer(this.upcalls, (rec) => cb(decodeXswUpcall(rec)));
  }

  /** Delivers the upcalls queued now (for callers that just ran a test frame). */
  drainUpcalls(): number {
    return this.ring?.consume() ?? 0;
  }

  /** Another handle on one of the object's maps (the caller closes it). */
  map(name: string): BpfMap {
    return this.obj.map(name);
  }

  /** Another handle on one of the object's programs (the caller closes it). */
  program(name: string): BpfProgram {
    return this.obj.program(name);
  }

  /** The XDP program, for BPF_PROG_RUN tests and live frames. */
  get xdpProgram(): BpfProgram {
    return this.xdpProg;
  }

  removePort(ifindex: number): void {
    const p = this.ports.get(ifindex);
    if (!p) return;
    if (p.hook === 'xdp') detachXdp(ifindex, { mode: p.xdpMode, prog: this.xdpProg });
    else p.tc?.detach();
    this.portsMap.delete(u32key(ifindex));
    this.txPorts.delete(u32key(ifindex));
    this.ports.delete(ifindex);
  }

  /**
   * Detaches every port and closes the object; with `unpin`, also removes the pinned
   * maps, so nothing of the instance is left in bpffs. With `keepAttached`, XDP ports
   * stay attached and go on forwarding with no process (TC ports need their tcx link
   * pinned, which this first form does not do: they are detached).
   */
  close(opts: { unpin?: boolean; keepAttached?: boolean } = {}): void {
    for (const [ifindex, port] of [...this.ports]) {
      if (opts.keepAttached && port.hook === 'xdp') continue;
      try {
        this.removePort(ifindex);
      } catch {
        // The device may be gone already; its attachment went with it.
      }
    }
    this.ring?.close();
    for (const h of [this.xdpProg, this.tcProg, this.portsMap, this.txPorts, this.stats, this.upcalls]) h.close();
    this.obj.close();
    if (opts.unpin) {
      const dir = pinDirFor(this.instance);
      rmSync(dir, { recursive: true, force: true });
      // The version and xdpswitch directories too, once no instance is left in them.
      for (const parent of [dirname(dir), dirname(dirname(dir))]) {
        try {
          rmdirSync(parent);
        } catch {
          break; // another instance still has its maps there
        }
      }
    }
  }
}
