// src/vswitchd/kernel-tier.ts — tier 2 in the daemon: where the kernel's openvswitch
// module is present (or loadable), each bridge's datapath also drives a kernel datapath
// (src/kdp KernelTier) holding the same ports, and the XDP/TC program hands it (XDP_PASS,
// TC_ACT_OK: the port's rx_handler is the kernel datapath's) what tier 1 cannot finish,
// instead of the upcall ring to the userspace slow path (tier 3). Without the module
// nothing here runs: bridges keep their datapath unchanged.
//
// The bridge's datapath is wrapped (a Proxy, so `instanceof XdpBridgeDatapath` and every
// other member still answer as the inner datapath does) at the points tier 2 needs:
// ports, applied changes (revalidate), flow counters (the kernel's added), packet-ins,
// close (the kernel datapath removed).
import { createHash } from 'node:crypto';
import type { BridgeDatapath, BridgePort, DatapathPacketIn, FlowCounters } from '../datapath/bridge.js';
import { XswUpcallReason } from '../datapath/gen/maps.js';
import { XdpBridgeDatapath } from '../datapath/xdp-bridge.js';
import { kernelConntrack } from '../ct/shared.js';
import { KernelTier } from '../kdp/tier.js';
import type { Delta, Pipeline } from '../ofproto/pipeline.js';
import type { Log } from './log.js';

/** Why tier 2 is on or off in this process (probed once, at daemon start). */
let probed: { available: boolean; why: string } | undefined;

/** What the fast path hands to the kernel datapath rather than to userspace when tier 2 runs. */
export const PASSED_REASONS = [
  XswUpcallReason.XSW_UPCALL_CONNTRACK, // ICMP, fragments, new connections, NAT, helpers
  XswUpcallReason.XSW_UPCALL_UNSUPPORTED,
  XswUpcallReason.XSW_UPCALL_MULTI_OUTPUT,
  XswUpcallReason.XSW_UPCALL_TABLE_HOPS,
  XswUpcallReason.XSW_UPCALL_OPS,
  XswUpcallReason.XSW_UPCALL_MASKS,
  XswUpcallReason.XSW_UPCALL_INVALID_TTL,
] as const;
// Not passed: NORMAL's floods and slow cases (the slow path keeps the fast path's MAC
// table in step), output:CONTROLLER (already a packet-in) and ports without a device.

/** Idle megaflows go after this long; checked every EXPIRE_EVERY_MS. */
const IDLE_MS = 10_000;
/** The kernel's port numbers are 16-bit (DP_MAX_PORTS): OpenFlow's LOCAL (0xfffffffe) does not fit. */
const MAX_KERNEL_PORT = 0xffff;
const EXPIRE_EVERY_MS = 5_000;

/**
 * Decides once whether bridges get a kernel datapath: XDPSWITCH_KERNEL_TIER=off turns it
 * off; else the openvswitch module must be loaded or loadable (modprobe). Logs why.
 */
export async function probeKernelTier(log: Log, env: NodeJS.ProcessEnv = process.env): Promise<boolean> {
  if (probed) return probed.available;
  probed = env.XDPSWITCH_KERNEL_TIER === 'off' ? { available: false, why: 'XDPSWITCH_KERNEL_TIER=off' } : await KernelTier.probe();
  if (probed.available) log.info(`tier 2 on: ${probed.why}; each bridge gets a kernel datapath (xs-BRIDGE) for what XDP cannot finish`);
  else log.info(`tier 2 off: ${probed.why}; what XDP cannot finish runs in userspace (tier 3)`);
  return probed.available;
}

/** The kernel datapath's name for a bridge: never OVS's "ovs-system" nor the bridge's own device. */
export function kernelDatapathName(bridge: string): string {
  const n = `xs-${bridge}`;
  return n.length <= 15 ? n : `xs-${createHash('sha1').update(bridge).digest('hex').slice(0, 12)}`;
}

const tiers = new WeakMap<object, KernelTierBridge>();

/** The bridge datapath with tier 2 in front of it where the module is there, else `dp` itself. */
export function withKernelTier(dp: BridgeDatapath, bridge: string, log: Log): BridgeDatapath {
  if (!probed?.available) {
    // Maps pinned by a run that had tier 2 may still pass packets to a kernel datapath nobody answers.
    if (dp instanceof XdpBridgeDatapath) {
      try {
        dp.passToKernel([]);
      } catch {
        // no such map in this object: nothing to undo
      }
    }
    return dp;
  }
  const t = new KernelTierBridge(dp, bridge, log);
  const proxy = new Proxy(dp, {
    get(target, prop, receiver) {
      const own = t.override(prop);
      return own ?? Reflect.get(target, prop, receiver);
    },
  });
  tiers.set(proxy, t);
  return proxy;
}

/** `dpif/show-upcalls` lines for a bridge datapath running tier 2 (none otherwise). */
export function kernelTierLines(dp: BridgeDatapath): string[] {
  return tiers.get(dp)?.lines() ?? [];
}

class KernelTierBridge {
  readonly name: string;
  private pipeline?: Pipeline;
  private tier?: KernelTier;
  private readonly ready: Promise<KernelTier | undefined>;
  private readonly packetInCbs: ((p: DatapathPacketIn) => void)[] = [];
  private timer?: NodeJS.Timeout;
  private readonly overrides: Record<string, unknown>;
  private readonly portErrors = new Map<number, string>();

  constructor(
    private readonly inner: BridgeDatapath,
    private readonly bridge: string,
    private readonly log: Log,
  ) {
    this.name = kernelDatapathName(bridge);
    this.ready = this.start();
    this.overrides = {
      addPort: (p: BridgePort) => this.addPort(p),
      removePort: (ofport: number) => this.removePort(ofport),
      apply: (p: Pipeline, d: readonly Delta[]) => this.apply(p, d),
      adopt: inner.adopt && ((p: Pipeline, e: Parameters<NonNullable<BridgeDatapath['adopt']>>[1]) => {
        this.pipeline = p;
        return inner.adopt!.call(inner, p, e);
      }),
      flowCounters: () => this.merge(inner.flowCounters()),
      readFlowCounters:
        inner.readFlowCounters &&
        (async () => {
          await this.tier?.syncCounters().catch((e: unknown) => this.log.warn(`${this.name}: kernel megaflow counters not read: ${String(e)}`));
          return this.merge(await inner.readFlowCounters!.call(inner));
        }),
      onPacketIn: (cb: (p: DatapathPacketIn) => void) => {
        this.packetInCbs.push(cb);
        inner.onPacketIn(cb);
      },
      close: (opts?: { keepPinned?: boolean }) => this.close(opts),
    };
  }

  override(prop: string | symbol): unknown {
    return typeof prop === 'string' && Object.hasOwn(this.overrides, prop) ? this.overrides[prop] : undefined;
  }

  private async start(): Promise<KernelTier | undefined> {
    const started = Date.now();
    try {
      const tier = await KernelTier.start({
        name: this.name,
        pipeline: () => this.pipeline,
        credit: 'totals',
        // What stays untranslated (NAT, mark, label) is tracked in the kernel's table where BPF reaches it.
        conntrack: kernelConntrack((t) => this.log.warn(t)),
        log: (l) => this.log.info(`${this.bridge}: ${l}`),
        onPacketInFrom: (pi, entry, inPort) => {
          for (const cb of this.packetInCbs) cb({ in_port: inPort, reason: pi.reason, table_id: pi.table_id, entryId: entry?.id ?? 0, data: pi.data, total_len: pi.total_len });
        },
      });
      this.tier = tier;
      if (this.inner instanceof XdpBridgeDatapath) {
        this.inner.passToKernel(PASSED_REASONS);
        this.log.info(`${this.bridge}: XDP/TC hands ${PASSED_REASONS.length} upcall reasons (conntrack, unsupported, multi_output, table_hops, ops, masks, invalid_ttl) to kernel datapath ${this.name} (${Date.now() - started} ms to set up)`);
      } else this.log.info(`${this.bridge}: no XDP pipeline on this bridge; kernel datapath ${this.name} takes every packet of its ports`);
      this.timer = setInterval(() => {
        tier.expire(IDLE_MS).catch((e: unknown) => this.log.warn(`${this.name}: expiring megaflows failed: ${String(e)}`));
      }, EXPIRE_EVERY_MS);
      this.timer.unref();
      return tier;
    } catch (e) {
      this.log.err(`${this.bridge}: no kernel datapath ${this.name} (${e instanceof Error ? e.message : String(e)}); what XDP cannot finish stays in userspace`);
      return undefined;
    }
  }

  private async addPort(p: BridgePort): ReturnType<BridgeDatapath['addPort']> {
    const tier = await this.ready;
    let r: Awaited<ReturnType<BridgeDatapath['addPort']>> = undefined;
    try {
      r = await this.inner.addPort(p);
    } catch (e) {
      // The XDP/TC program does not load here (an older kernel's verifier): the kernel
      // datapath alone serves the port, every packet through it, rather than no port at all.
      if (!tier || p.ofport > MAX_KERNEL_PORT) throw e;
      this.log.warn(`${this.bridge}: ${p.name} (port ${p.ofport}) has no XDP/TC program (${e instanceof Error ? e.message : String(e)}); kernel datapath ${this.name} takes all of its packets`);
    }
    if (tier && p.ofport > MAX_KERNEL_PORT) {
      this.portErrors.set(p.ofport, 'not numbered for the kernel');
      this.log.info(`${this.bridge}: ${p.name} (port ${p.ofport}) stays out of kernel datapath ${this.name} (its port numbers end at ${MAX_KERNEL_PORT}); it is served by XDP/TC and userspace`);
    } else if (tier) {
      try {
        await tier.addPort(p.ofport, p.name);
        this.portErrors.delete(p.ofport);
      } catch (e) {
        const why = e instanceof Error ? e.message : String(e);
        this.portErrors.set(p.ofport, why);
        this.log.warn(`${this.bridge}: ${p.name} (port ${p.ofport}) not in kernel datapath ${this.name}: ${why}; its passed packets reach the host stack`);
      }
    }
    return r;
  }

  private async removePort(ofport: number): Promise<void> {
    const tier = await this.ready;
    if (tier && !this.portErrors.has(ofport)) await tier.removePort(ofport).catch(() => undefined);
    this.portErrors.delete(ofport);
    await this.inner.removePort(ofport);
  }

  /** The tables changed: in effect in XDP, then the kernel's megaflows made from the old tables go. */
  private async apply(p: Pipeline, deltas: readonly Delta[]): Promise<void> {
    this.pipeline = p;
    await this.inner.apply(p, deltas);
    const tier = await this.ready;
    if (tier && deltas.length) await tier.revalidate().catch((e: unknown) => this.log.warn(`${this.name}: revalidation failed: ${String(e)}`));
  }

  /** The inner datapath's counters plus what the kernel datapath counted per entry. */
  private merge(c: Map<number, FlowCounters>): Map<number, FlowCounters> {
    const totals = this.tier?.entryTotals;
    if (!totals?.size) return c;
    const out = new Map(c);
    for (const [id, t] of totals) {
      const was = out.get(id);
      out.set(id, { ...was, packets: (was?.packets ?? 0n) + t.packets, bytes: (was?.bytes ?? 0n) + t.bytes });
    }
    return out;
  }

  private async close(opts?: { keepPinned?: boolean }): Promise<void> {
    clearInterval(this.timer);
    const tier = await this.ready;
    if (tier && opts?.keepPinned) {
      // Its megaflows go on forwarding with the XDP programs left attached; the next start adopts it.
      tier.dp.close();
      this.log.info(`${this.bridge}: kernel datapath ${this.name} left running for the next start`);
    } else if (tier) {
      if (this.inner instanceof XdpBridgeDatapath) {
        try {
          this.inner.passToKernel([]);
        } catch {
          // the maps may be gone already
        }
      }
      await tier.stop().then(
        () => this.log.info(`${this.bridge}: kernel datapath ${this.name} removed`),
        (e: unknown) => this.log.warn(`${this.bridge}: kernel datapath ${this.name} not removed: ${String(e)}`),
      );
    }
    await this.inner.close(opts);
  }

  lines(): string[] {
    const t = this.tier;
    if (!t) return [`  tier 2: kernel datapath ${this.name} not running`];
    const c = t.counters;
    const passed = this.inner instanceof XdpBridgeDatapath ? [...this.inner.passedToKernel()].sort(([a], [b]) => (a < b ? -1 : 1)) : [];
    const exec = Object.entries(c.executeOnly).filter(([, n]) => n > 0);
    return [
      `  tier 2 (kernel datapath ${this.name}):`,
      ...passed.map(([r, n]) => `    passed by XDP/TC, ${r}: ${n}`),
      `    upcalls: ${c.upcalls}`,
      `    megaflows installed: ${c.installed} (ct stages: ${c.ctStages}, drops: ${c.drops})`,
      ...exec.map(([r, n]) => `    executed without megaflow, ${r}: ${n}`),
      `    packet-ins: ${c.packetIns}`,
      `    revalidations: ${c.flushes}, expired: ${c.expired}, errors: ${c.errors}, dropped before any flow: ${c.noTables}`,
    ];
  }
}
