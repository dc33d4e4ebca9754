// src/kdp/tier.ts — tier 2 for the daemon: a kernel openvswitch datapath holding the
// bridge's ports, whose upcalls the reference interpreter answers. Each answer becomes
// an exact-match megaflow plus an execute of the packet; packet-ins go to the caller.
// What XDP passes up (XDP_PASS) reaches this datapath through the port's rx_handler.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { FlowEntry } from '../ofproto/classifier.js';
import type { Conntrack, CtEntry, CtFields, CtRequest, CtResult } from '../ofproto/ct.js';
import type { CtActionOf } from '../ofproto/ct-action.js';
import type { Pipeline } from '../ofproto/pipeline.js';
import { trace, type PacketIn } from '../ofproto/trace.js';
import { KernelDatapath, ovsFamilies, type Upcall } from './datapath.js';
import type { OvsAction, OvsKey } from './ovs.js';
import { outputsToActions } from './translate.js';

const execFileP = promisify(execFile);

/** Why a packet was handled without installing a megaflow (counted per reason). */
export type ExecuteOnlyReason = 'packet-in' | 'untranslatable' | 'conntrack-in-pipeline' | 'mac-learned';

/** Which rule counters a KernelTier keeps: the model's entries themselves, or its own totals per entry id. */
export type CreditMode = 'entries' | 'totals';

export interface KernelTierCounters {
  upcalls: number;
  /** Megaflows installed from upcalls. */
  installed: number;
  /** Packets executed without a megaflow, by reason. */
  executeOnly: Record<ExecuteOnlyReason, number>;
  packetIns: number;
  /** Packets the interpreter dropped (a drop megaflow was installed for them). */
  drops: number;
  errors: number;
  /** Upcalls dropped because the bridge had no OpenFlow tables yet (nothing applied). */
  noTables: number;
  /** Megaflows that are one stage of a ct pipeline (ct(...),recirc(id) or what follows a recirculation). */
  ctStages: number;
  /** Megaflow flushes (revalidate) and idle expiries. */
  flushes: number;
  expired: number;
}

export interface KernelTierOptions {
  /** Datapath name (its local port is a netdev of that name): 15 characters at most. */
  name: string;
  /** The bridge's OpenFlow model, or how to get it (undefined: not known yet, the upcall is dropped); read at each upcall. */
  pipeline: Pipeline | (() => Pipeline | undefined);
  /** Packet-ins produced while answering upcalls (send as OFPT_PACKET_IN). */
  onPacketIn?(pi: PacketIn): void;
  /** One line per event (probe results, errors), never per packet. */
  log?(line: string): void;
  /** ms clock for the interpreter (default Date.now). */
  now?(): number;
  /**
   * The tracker ct actions in the pipeline use while answering upcalls: pass the daemon's
   * kernel-backed one (src/ct) so this tier's answers share the kernel's conntrack table.
   * Default: the pipeline's own in-memory tracker.
   */
  conntrack?: Conntrack;
  /**
   * 'entries' (default): the interpreter counts upcalled packets in the model and
   * megaflow counts are added to the entries. 'totals': nothing in the model is touched;
   * `entryTotals` holds what this tier counted per entry (for a daemon whose model
   * counters are overwritten from another datapath's).
   */
  credit?: CreditMode;
  /** The packet-in with the rule that sent it (its cookie) and the port it came in on. */
  onPacketInFrom?(pi: PacketIn, entry: FlowEntry | undefined, inPort: number): void;
}

/**
 * The interpreter's tracker while a ct pipeline is translated to kernel ct/recirc: it
 * records each ct request and answers the first one with `first` (the state the kernel
 * reported on recirculation) or, before recirculation, +trk+inv (what follows is the
 * next stage's and is not used).
 */
class CtRecorder implements Conntrack {
  readonly calls: CtRequest[] = [];
  constructor(private readonly first?: CtFields) {}
  execute(req: CtRequest): CtResult {
    this.calls.push(req);
    if (this.calls.length === 1 && this.first) return { fields: this.first };
    return { fields: { state: 0x30, zone: req.zone, mark: 0, label: 0n } };
  }
  entries(): CtEntry[] {
    return [];
  }
  flush(): void {}
}

/** The ct actions (NX_CT) of the entries a trace hit, in the order they ran (apply-actions). */
function ctActions(entries: readonly FlowEntry[]): { entryIndex: number; action: CtActionOf }[] {
  const out: { entryIndex: number; action: CtActionOf }[] = [];
  entries.forEach((e, entryIndex) => {
    for (const i of e.instructions) if ('actions' in i) for (const a of i.actions) if (a.type === 'NX_CT') out.push({ entryIndex, action: a });
  });
  return out;
}

/** A ct request as the kernel's ct() action, or undefined when it needs what this tier does not translate (NAT, mark, label, helper). */
function kernelCt(req: CtRequest, a: CtActionOf): OvsAction | undefined {
  if (req.nat || req.mark || req.label || a.alg) return undefined;
  return { ct: { ...(req.commit ? { commit: true } : {}), ...(req.force ? { force_commit: true } : {}), zone: req.zone } } as OvsAction;
}

const keyId = (k: OvsKey): string => JSON.stringify(k, (_n, v: unknown) => (typeof v === 'bigint' ? v.toString() : Buffer.isBuffer(v) ? v.toString('hex') : v));

interface Made {
  key: OvsKey;
  entries: FlowEntry[];
  packets: bigint;
  bytes: bigint;
}

export class KernelTier {
  readonly counters: KernelTierCounters = {
    upcalls: 0,
    installed: 0,
    executeOnly: { 'packet-in': 0, untranslatable: 0, 'conntrack-in-pipeline': 0, 'mac-learned': 0 },
    packetIns: 0,
    drops: 0,
    errors: 0,
    noTables: 0,
    ctStages: 0,
    flushes: 0,
    expired: 0,
  };
  /** Megaflows this tier installed, by key: the rules that made them and the counts already credited. */
  private readonly made = new Map<string, Made>();
  private readonly now: () => number;
  /** Packet count of each megaflow at the last expire() and since when it has not moved. */
  private readonly activity = new Map<string, { packets: bigint; since: number }>();

  private constructor(
    readonly dp: KernelDatapath,
    private readonly opts: KernelTierOptions,
  ) {
    this.now = opts.now ?? Date.now;
  }

  /**
   * Whether tier 2 can run here: the ovs_datapath family resolves, or `modprobe
   * openvswitch` makes it resolve. Answers the reason either way, for the log.
   */
  static async probe(opts: { modprobe?: boolean } = {}): Promise<{ available: boolean; why: string }> {
    try {
      await ovsFamilies();
      return { available: true, why: 'openvswitch module loaded (ovs_datapath family resolves)' };
    } catch (e) {
      if (opts.modprobe === false) return { available: false, why: `ovs_datapath family unresolvable: ${(e as Error).message}` };
    }
    try {
      await execFileP('modprobe', ['openvswitch']);
      await ovsFamilies();
      return { available: true, why: 'openvswitch module loaded by modprobe' };
    } catch (e) {
      return { available: false, why: `no openvswitch module (modprobe openvswitch: ${(e as Error).message.split('\n')[0] ?? ''})` };
    }
  }

  /** Creates the datapath (taking over one left by a previous run of the same name). */
  static async start(opts: KernelTierOptions): Promise<KernelTier> {
    const ref: { tier?: KernelTier } = {};
    const handlers = {
      onUpcall: (u: Upcall) => ref.tier?.onUpcall(u),
      onOverrun: () => opts.log?.(`kdp ${opts.name}: upcalls lost (socket buffer overrun)`),
      onError: (e: Error) => opts.log?.(`kdp ${opts.name}: ${e.message}`),
    };
    let dp: KernelDatapath;
    try {
      dp = await KernelDatapath.create(opts.name, handlers);
    } catch (e) {
      if ((e as { code?: string }).code !== 'EEXIST') throw e;
      dp = await KernelDatapath.open(opts.name, handlers);
      await dp.flushFlows();
      opts.log?.(`kdp ${opts.name}: adopted the datapath an earlier run left (its ports kept, its megaflows flushed)`);
    }
    ref.tier = new KernelTier(dp, opts);
    opts.log?.(`kdp ${opts.name}: kernel datapath up (dp ifindex ${dp.dpIfindex}, upcalls ${dp.perCpuDispatch ? 'per CPU' : 'per port'} to pid ${dp.upcallPid})`);
    return ref.tier;
  }

  /** Adds the netdev as datapath port `ofport` (the same number as in OpenFlow). */
  async addPort(ofport: number, ifname: string): Promise<void> {
    // A datapath taken over from an earlier run may hold the port already.
    const had = (await this.dp.ports()).find((p) => p.name === ifname || p.portNo === ofport);
    if (had?.name === ifname && had.portNo === ofport) return;
    if (had) await this.dp.removePort(had.portNo);
    await this.dp.addPort(ifname, { portNo: ofport });
  }

  async removePort(ofport: number): Promise<void> {
    await this.dp.removePort(ofport);
  }

  /**
   * A packet the daemon already holds (e.g. from XDP's slow-path ring) runs through
   * this tier as if the kernel had sent it up: megaflow installed, packet executed.
   */
  async inject(inPort: number, frame: Buffer): Promise<void> {
    await this.answer({ kind: 'miss', packet: frame, key: { in_port: inPort, recirc_id: 0 } }, false);
  }

  private get pipeline(): Pipeline {
    const p = typeof this.opts.pipeline === 'function' ? this.opts.pipeline() : this.opts.pipeline;
    if (!p) throw new Error('no OpenFlow tables yet');
    return p;
  }

  private onUpcall(u: Upcall): void {
    this.counters.upcalls++;
    if (typeof this.opts.pipeline === 'function' && !this.opts.pipeline()) {
      this.counters.noTables++; // a bridge with no flows yet drops, as its table-miss would
      return;
    }
    this.answer(u, true).catch((e: unknown) => {
      this.counters.errors++;
      this.opts.log?.(`kdp ${this.opts.name}: upcall on port ${u.key.in_port ?? '?'} not answered: ${(e as Error).message}`);
    });
  }

  /** Recirculation ids of ct(table=N) stages, by "zone/table", and what each one resumes. */
  private readonly recircIds = new Map<string, number>();
  private readonly recircStages = new Map<number, { zone: number; table: number }>();
  /** Packets and bytes this tier counted per FlowEntry.id (credit 'totals'). */
  readonly entryTotals = new Map<number, { packets: bigint; bytes: bigint }>();

  private recircFor(zone: number, table: number): number {
    const k = `${zone}/${table}`;
    let id = this.recircIds.get(k);
    if (id === undefined) {
      id = this.recircIds.size + 1;
      this.recircIds.set(k, id);
      this.recircStages.set(id, { zone, table });
    }
    return id;
  }

  private get totalsMode(): boolean {
    return this.opts.credit === 'totals';
  }

  /** Counts packets (and bytes) on entries: in the model or in entryTotals, by credit mode. */
  private credit(entries: readonly FlowEntry[], packets: bigint, bytes: bigint): void {
    for (const e of new Set(entries)) {
      if (this.totalsMode) {
        const t = this.entryTotals.get(e.id) ?? { packets: 0n, bytes: 0n };
        t.packets += packets;
        t.bytes += bytes;
        this.entryTotals.set(e.id, t);
      } else {
        e.packet_count += packets;
        e.byte_count += bytes;
      }
      e.last_used = this.now();
    }
  }

  /**
   * A pipeline with ct: translated to the kernel's ct() and recirc(id) when each stage is
   * one the kernel can run (stage 0 up to the first ct(table=N); stage id: the rest, from
   * the state the kernel reports, with commits as ct(commit)). Undefined: not translatable.
   */
  private ctStage(u: Upcall, inPort: number): { actions: OvsAction[]; entries: FlowEntry[]; outputs: number; packetIns: PacketIn[] } | undefined {
    const p = this.pipeline;
    const recirc = u.key.recirc_id ?? 0;
    const stage = recirc ? this.recircStages.get(recirc) : undefined;
    if (recirc && !stage) return undefined;
    const k = u.key;
    const rec = new CtRecorder(stage ? { state: k.ct_state ?? 0, zone: k.ct_zone ?? 0, mark: k.ct_mark ?? 0, label: 0n } : undefined);
    const res = trace(p, inPort, u.packet, this.now(), { conntrack: rec, count: false });
    const cts = ctActions(res.counters.entries);
    if (!cts.length || cts.length !== rec.calls.length) return undefined;
    const first = cts[0]!;
    if (!stage) {
      if (first.action.recirc_table === 0xff) return undefined; // a commit with no recirculation: not yet
      const ct = kernelCt(rec.calls[0]!, first.action);
      if (!ct) return undefined;
      return { actions: [ct, { recirc: this.recircFor(rec.calls[0]!.zone, first.action.recirc_table) }], entries: res.counters.entries.slice(0, first.entryIndex + 1), outputs: 1, packetIns: [] };
    }
    if (first.action.recirc_table !== stage.table || rec.calls[0]!.zone !== stage.zone) return undefined; // the tables changed
    const commits: OvsAction[] = [];
    for (let i = 1; i < cts.length; i++) {
      const c = cts[i]!;
      const ct = c.action.recirc_table === 0xff ? kernelCt(rec.calls[i]!, c.action) : undefined;
      if (!ct) return undefined;
      commits.push(ct);
    }
    const out = outputsToActions(u.packet, res.outputs);
    if (!out) return undefined;
    return { actions: [...commits, ...out], entries: res.counters.entries.slice(first.entryIndex + 1), outputs: res.outputs.length, packetIns: res.packetIns };
  }

  private async answer(u: Upcall, install: boolean): Promise<void> {
    const p = this.pipeline;
    const inPort = u.key.in_port ?? 0;
    const fdbBefore = p.fdb.size;
    const bytes = BigInt(u.packet.length);
    const usesCt = (entries: readonly FlowEntry[]): boolean => ctActions(entries).length > 0;
    // One run with a recording tracker: when no ct action ran it is the answer itself (the
    // model counted it in 'entries' mode, as the interpreter does; there a ct pipeline's
    // entries are counted by this run, continuation included, not per stage).
    const probe = trace(p, inPort, u.packet, this.now(), { conntrack: new CtRecorder(), count: !this.totalsMode });
    const probeUsedCt = usesCt(probe.counters.entries);
    const staged = probeUsedCt || (u.key.recirc_id ?? 0) !== 0 ? this.ctStage(u, inPort) : undefined;
    if (staged) {
      for (const pi of staged.packetIns) this.packetIn(pi, staged.entries.at(-1), inPort);
      if (this.totalsMode) this.credit(staged.entries, 1n, bytes);
      await this.dp.execute({ packet: u.packet, key: u.key, actions: staged.actions, ...(u.mru ? { mru: u.mru } : {}) });
      if (install && !staged.packetIns.length) {
        await this.dp.putFlow({ key: u.key, actions: staged.actions });
        this.made.set(keyId(u.key), { key: u.key, entries: [...new Set(staged.entries)], packets: 0n, bytes: 0n });
        this.counters.installed++;
        this.counters.ctStages++;
        if (!staged.outputs) this.counters.drops++;
      } else if (staged.packetIns.length) this.counters.executeOnly['packet-in']++;
      return;
    }
    const res = probeUsedCt ? trace(p, inPort, u.packet, this.now(), { ...(this.opts.conntrack ? { conntrack: this.opts.conntrack } : {}), count: false }) : probe;
    if (this.totalsMode) this.credit(res.counters.entries, 1n, bytes);
    for (const pi of res.packetIns) this.packetIn(pi, res.counters.entries.at(-1), inPort);
    const usedCt = usesCt(res.counters.entries);
    const actions = outputsToActions(u.packet, res.outputs);
    let reason: ExecuteOnlyReason | undefined;
    if (res.packetIns.length) reason = 'packet-in';
    else if (usedCt) reason = 'conntrack-in-pipeline';
    else if (!actions) reason = 'untranslatable';
    else if (p.fdb.size !== fdbBefore) reason = 'mac-learned';
    if (p.fdb.size !== fdbBefore) await this.revalidate(); // learned MACs change NORMAL's answers
    if (!actions) {
      // Each frame as the interpreter made it, out of its port: right for this packet only.
      this.counters.executeOnly[reason ?? 'untranslatable']++;
      for (const o of res.outputs) await this.dp.execute({ packet: o.frame, key: { in_port: inPort }, actions: [{ output: o.port }] });
      return;
    }
    // The packet first, then its megaflow: a later packet of the flow that hits the
    // megaflow can then rarely overtake this one.
    if (actions.length) await this.dp.execute({ packet: u.packet, key: u.key, actions, ...(u.mru ? { mru: u.mru } : {}) });
    if (install && !reason) {
      await this.dp.putFlow({ key: u.key, actions });
      this.made.set(keyId(u.key), { key: u.key, entries: [...new Set(res.counters.entries)], packets: 0n, bytes: 0n });
      this.counters.installed++;
      if (!res.outputs.length) this.counters.drops++;
    } else if (reason) this.counters.executeOnly[reason]++;
  }

  private packetIn(pi: PacketIn, entry: FlowEntry | undefined, inPort: number): void {
    this.counters.packetIns++;
    this.opts.onPacketIn?.(pi);
    this.opts.onPacketInFrom?.(pi, entry, inPort);
  }

  /** Credits the megaflows' packets and bytes since the last call to the rules that made them. */
  async syncCounters(): Promise<void> {
    for (const f of await this.dp.dumpFlows()) {
      const m = this.made.get(keyId(f.key));
      if (!m) continue;
      const dp = f.packets - m.packets;
      const db = f.bytes - m.bytes;
      if (dp <= 0n) continue;
      this.credit(m.entries, dp, db);
      m.packets = f.packets;
      m.bytes = f.bytes;
    }
  }

  /** The tables (or learned MACs) changed: credit counters, then drop every megaflow. */
  async revalidate(): Promise<void> {
    await this.syncCounters();
    await this.dp.flushFlows();
    this.made.clear();
    this.counters.flushes++;
  }

  /**
   * Deletes megaflows whose packet count has not moved for `idleMs` (as seen by calls to
   * this method, so call it at least every idleMs/2); answers how many. Judged from the
   * counts rather than OVS_FLOW_ATTR_USED, whose clock a time namespace shifts.
   */
  async expire(idleMs: number): Promise<number> {
    await this.syncCounters();
    const now = this.now();
    let n = 0;
    const seen = new Set<string>();
    for (const f of await this.dp.dumpFlows()) {
      const id = keyId(f.key);
      seen.add(id);
      const last = this.activity.get(id);
      if (!last || last.packets !== f.packets) {
        this.activity.set(id, { packets: f.packets, since: now });
        continue;
      }
      if (now - last.since < idleMs) continue;
      await this.dp.deleteFlow({ key: f.key }).catch(() => undefined);
      this.made.delete(id);
      this.activity.delete(id);
      n++;
    }
    for (const id of this.activity.keys()) if (!seen.has(id)) this.activity.delete(id);
    this.counters.expired += n;
    return n;
  }

  /** Deletes the datapath (ports and megaflows with it). */
  async stop(): Promise<void> {
    await this.syncCounters().catch(() => undefined);
    await this.dp.destroy();
  }
}
