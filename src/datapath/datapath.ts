// The datapath as the rest of the switch sees it: bpf/xdpswitch.bpf.o loaded once per
// instance with its maps pinned, its program attached to each port at the port's hook,
// port verdicts written into maps, counters summed across CPUs, upcalls decoded.
// TC ports run through tcx links pinned beside the maps, so that, as XDP attachments do,
// they keep forwarding while no daemon runs; the next daemon adopts them.
import { existsSync, readdirSync, rmdirSync, rmSync, unlinkSync } from 'node:fs';
import { dirname, join } from 'node:path';
import {
  attachTc,
  attachXdp,
  BpfLink,
  BpfMap,
  BpfObject,
  BpfProgram,
  detachXdp,
  queryXdp,
  RingBuffer,
  TcAttachment,
  type XdpMode,
} from '../native/bpf.js';
import { NativeError } from '../native/errors.js';
import { bpfObjectPath } from '../native/paths.js';
import {
  decodeXswPort,
  decodeXswPortSlot,
  decodeXswPortStats,
  PORT_SLOTS,
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

const PIN_ROOT = '/sys/fs/bpf/xdpswitch';

/** The program of each hook in bpf/xdpswitch.bpf.o. */
const PROGRAMS = { xdp: 'xsw_xdp', tc: 'xsw_tc' } as const;

/** The bpffs directory of an instance's pinned maps: the layout version is part of it. */
export function pinDirFor(instance: string): string {
  return `${PIN_ROOT}/v${LAYOUT_VERSION}/${instance}`;
}

/** Where a TC port's tcx link is pinned (by ifindex: the link is checked against it on reuse). */
const tcxPin = (dir: string, ifindex: number): string => `${dir}/tcx_ingress_${ifindex}`;

/** How addPort found the port: nothing there, or a program of an earlier run swapped in place. */
export type PortAttach = 'attached' | 'replaced';

/** Removes `dir` and the version and xdpswitch directories above it once empty. */
function removePinDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
  for (const parent of [dirname(dir), dirname(dirname(dir))]) {
    try {
      rmdirSync(parent);
    } catch {
      break; // another instance still has its maps there
    }
  }
}

/**
 * Instances pinned under any layout version whose name passes `stale`, e.g. bridges gone
 * from the database while the daemon was down.
 */
export function pinnedInstances(stale: (instance: string) => boolean): string[] {
  if (!existsSync(PIN_ROOT)) return [];
  const out: string[] = [];
  for (const v of readdirSync(PIN_ROOT)) for (const i of readdirSync(join(PIN_ROOT, v))) if (stale(i)) out.push(join(PIN_ROOT, v, i));
  return out;
}

/**
 * Takes down what an instance left pinned with no process: its tcx links, its XDP
 * programs on the devices its port table names (but those in `inUse`, whose program is
 * this process's own by now), then the pins themselves.
 */
export function removePinned(dir: string, inUse: ReadonlySet<number> = new Set()): void {
  for (const f of readdirSync(dir)) {
    if (!f.startsWith('tcx_')) continue;
    try {
      const l = BpfLink.fromPinned(join(dir, f));
      l.detach();
      l.close();
    } catch {
      // Already detached (its device went away).
    }
  }
  if (existsSync(join(dir, 'xsw_ports'))) {
    const ports = BpfMap.fromPinned(join(dir, 'xsw_ports'));
    for (const key of ports.keys()) {
      const ifindex = key.readUInt32LE(0);
      if (inUse.has(ifindex)) continue;
      try {
        const q = queryXdp(ifindex);
        for (const [id, mode] of [[q.nativeProgId, 'native'], [q.genericProgId, 'generic']] as const) {
          if (!id) continue;
          const prog = BpfProgram.fromId(id);
          if (prog.name === 'xsw_xdp') detachXdp(ifindex, { mode, prog });
          prog.close();
        }
      } catch {
        // The device is gone, and its program with it.
      }
    }
    ports.close();
  }
  removePinDir(dir);
}

export class Datapath {
  private readonly ports = new Map<number, Port>();
  private ring?: RingBuffer;

  private constructor(
    /** The maps were pinned by an earlier run and are reused, contents and all. */
    readonly adopted: boolean,
    readonly instance: string,
    private readonly obj: BpfObject,
    /** Loads one hook's program against the pinned maps (each verification costs ~0.5 s). */
    private readonly loadProgram: (hook: Hook) => BpfProgram,
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
    const dir = pinDirFor(instance);
    let adopted = existsSync(join(dir, 'xsw_ports'));
    // The maps first, with no program: each program is verified only when a port at its hook
    // appears (most bridges need one of the two), then loaded by a second object that
    // reuses the pinned maps.
    const globals = { xsw_vlan_limit: u32key(opts.vlanLimit ?? 1) };
    const load = (autoload: Record<(typeof PROGRAMS)[Hook], boolean> = { xsw_xdp: false, xsw_tc: false }) =>
      BpfObject.load(bpfObjectPath('xdpswitch'), { pinDir: dir, globals, autoload });
    const loadProgram = (hook: Hook): BpfProgram => {
      const name = PROGRAMS[hook];
      let o: BpfObject | undefined;
      // The verifier gives up with EAGAIN when a signal arrives meanwhile (a profiler's
      // SIGPROF, a child's SIGCHLD): it is safe to run again.
      for (let tries = 1; !o; tries++) {
        try {
          o = load({ xsw_xdp: hook === 'xdp', xsw_tc: hook === 'tc' });
        } catch (e) {
          if (!(e instanceof NativeError && e.code === 'EAGAIN') || tries === 3) throw e;
        }
      }
      try {
        return o.program(name);
      } finally {
        o.close();
      }
    };
    let obj: BpfObject;
    let reset: string | undefined;
    try {
      obj = load();
    } catch (e) {
      if (!adopted) throw e;
      // Pinned maps this object cannot reuse (a layout changed without a version bump): new
      // maps. The pinned tcx links stay, for addPort to swap their programs in place.
      reset = e instanceof Error ? e.message : String(e);
      for (const f of readdirSync(dir)) if (!f.startsWith('tcx_')) rmSync(join(dir, f), { force: true });
      adopted = false;
      obj = load();
    }
    const dp = new Datapath(
      adopted,
      instance,
      obj,
      loadProgram,
      obj.map('xsw_ports'),
      obj.map('xsw_tx_ports'),
      obj.map('xsw_port_stats'),
      obj.map('xsw_upcalls'),
    );
    dp.resetPins = reset;
    return dp;
  }

  /** Why the pinned maps of an earlier run could not be reused, when they could not. */
  resetPins?: string;

  private readonly progs = new Map<Hook, BpfProgram>();

  /** Told when a hook's program was verified and loaded, with the time it took. */
  onProgramLoaded?: (hook: Hook, ms: number) => void;

  /** The program of a hook, verified and loaded on first use. */
  private prog(hook: Hook): BpfProgram {
    let p = this.progs.get(hook);
    if (!p) {
      const t0 = performance.now();
      p = this.loadProgram(hook);
      this.progs.set(hook, p);
      this.onProgramLoaded?.(hook, performance.now() - t0);
    }
    return p;
  }

  /**
   * Attaches the pipeline to a device and sets its verdict. A program an earlier run left
   * (XDP, or a pinned tcx link) is replaced atomically, so the port never runs without one.
   */
  addPort(ifindex: number, opts: PortOptions): PortAttach {
    this.setVerdict(ifindex, opts.ofport, opts.verdict);
    // Every port can be a redirect target; XDP redirects go through the devmap.
    this.txPorts.update(u32key(ifindex), u32key(ifindex));
    const port: Port = { ifindex, hook: opts.hook, xdpMode: opts.xdpMode ?? 'native' };
    const pin = tcxPin(pinDirFor(this.instance), ifindex);
    let how: PortAttach = 'attached';
    if (opts.hook === 'xdp') {
      const q = queryXdp(ifindex);
      if ((port.xdpMode === 'native' ? q.nativeProgId : q.genericProgId) !== 0) how = 'replaced';
      attachXdp(ifindex, this.prog('xdp'), { mode: port.xdpMode });
      // The port ran at TC before: its link goes only now, after XDP took over.
      if (existsSync(pin)) this.dropPinnedLink(pin);
    } else {
      const old = existsSync(pin) ? TcAttachment.fromPinned(pin, ifindex, 'ingress') : undefined;
      if (old) {
        port.tc = old.update(this.prog('tc'));
        how = 'replaced';
      } else {
        if (existsSync(pin)) unlinkSync(pin); // its device went away
        port.tc = attachTc(ifindex, this.prog('tc'), 'ingress');
        // tcx links die with their last fd: pinned, the port forwards while no daemon runs.
        if (port.tc.hook === 'tcx') port.tc.pin(pin);
      }
    }
    this.ports.set(ifindex, port);
    return how;
  }

  private dropPinnedLink(pin: string): void {
    try {
      const l = BpfLink.fromPinned(pin);
      l.detach();
      l.close();
    } catch {
      // Detached already.
    }
    unlinkSync(pin);
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

  /** xsw_port_slots, opened on first use. */
  private slots?: BpfMap;

  /** A port's counters, summed over CPUs. */
  portStats(ifindex: number): XswPortStats {
    const total: XswPortStats = { rx_packets: 0n, rx_bytes: 0n, tx_packets: 0n, tx_bytes: 0n, drops: 0n, upcalls: 0n };
    for (const slot of this.stats.lookupPerCpu(u32key(ifindex)) ?? []) {
      const s = decodeXswPortStats(slot.subarray(0, XSW_PORT_STATS_SIZE));
      for (const k of Object.keys(total) as (keyof XswPortStats)[]) total[k] += s[k];
    }
    // Ports numbered below PORT_SLOTS count in their slot: the CPUs' copies of this device.
    const port = this.portsMap.lookup(u32key(ifindex));
    const ofport = port ? decodeXswPort(port).ofport : 0;
    if (ofport > 0 && ofport < PORT_SLOTS) {
      this.slots ??= this.obj.map('xsw_port_slots');
      for (const c of this.slots.lookupPerCpu(u32key(ofport)) ?? []) {
        const s = decodeXswPortSlot(c);
        if (s.ifindex === ifindex) for (const k of Object.keys(total) as (keyof XswPortStats)[]) total[k] += s.stats[k];
      }
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

  /** Another handle on one of the datapath's programs (the caller closes it); loads it if need be. */
  program(name: string): BpfProgram {
    const hook = (Object.keys(PROGRAMS) as Hook[]).find((h) => PROGRAMS[h] === name);
    return hook ? BpfProgram.fromId(this.prog(hook).id) : this.obj.program(name);
  }

  /** The XDP program, for BPF_PROG_RUN tests and live frames (loaded on first use). */
  get xdpProgram(): BpfProgram {
    return this.prog('xdp');
  }

  removePort(ifindex: number): void {
    const p = this.ports.get(ifindex);
    if (!p) return;
    try {
      if (p.hook === 'xdp') detachXdp(ifindex, { mode: p.xdpMode, prog: this.prog('xdp') });
      else p.tc?.detach();
    } catch (e) {
      // A device that went away took its attachment with it.
      if (!(e instanceof NativeError) || !['ENODEV', 'ENOLINK', 'ENOENT', 'EINVAL'].includes(e.code)) throw e;
    }
    if (p.hook === 'tc') rmSync(tcxPin(pinDirFor(this.instance), ifindex), { force: true });
    this.portsMap.delete(u32key(ifindex));
    this.txPorts.delete(u32key(ifindex));
    this.ports.delete(ifindex);
  }

  /**
   * Detaches every port and closes the object; with `unpin`, also removes the pinned
   * maps, so nothing of the instance is left in bpffs. With `keepAttached`, ports stay
   * attached (XDP on the device, TC through its pinned tcx link) and go on forwarding
   * with no process.
   */
  close(opts: { unpin?: boolean; keepAttached?: boolean } = {}): void {
    for (const [ifindex, port] of [...this.ports]) {
      if (opts.keepAttached && (port.hook === 'xdp' || port.tc?.hook === 'tcx')) {
        port.tc?.release();
        continue;
      }
      try {
        this.removePort(ifindex);
      } catch {
        // The device may be gone already; its attachment went with it.
      }
    }
    this.ring?.close();
    for (const h of [...this.progs.values(), this.portsMap, this.txPorts, this.stats, this.upcalls]) h.close();
    this.progs.clear();
    this.slots?.close();
    this.obj.close();
    if (opts.unpin) removePinDir(pinDirFor(this.instance));
  }
}
