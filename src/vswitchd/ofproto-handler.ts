// src/vswitchd/ofproto-handler.ts — one bridge's OpenFlow side: the endpoint's handler
// interface (src/openflow) served by the pipeline model (src/ofproto handleRequest), its
// changes handed to the bridge's datapath (BridgeDatapath) before the reply or barrier.
import { OFP_NO_BUFFER, OFPC, OFPC_FRAG, OFPG, OFPP, OFPTT } from '../../proto/openflow/constants.js';
import type { Message, MessageOf } from '../../proto/openflow/messages.js';
import type { BridgeDatapath, DatapathPacketIn, MeterCounters } from '../datapath/bridge.js';
import type { FlowEntry } from '../ofproto/classifier.js';
import type { BandState, Meter } from '../ofproto/meter.js';
import type { Group } from '../ofproto/group.js';
import { expire } from '../ofproto/flow-mod.js';
import { createPipeline, insertEntry, removeEntry, type Delta, type Pipeline } from '../ofproto/pipeline.js';
import { applyBundle } from '../ofproto/bundle.js';
import { flowRemovedMessage, handleRequest, packetInMessage, type SwitchDesc } from '../ofproto/requests.js';
import type { TraceResult } from '../ofproto/trace.js';
import type { AsyncMessage } from '../openflow/endpoint.js';
import type { Log } from './log.js';
import type { BundledMessage, BundleResult, ConnectionInfo, HandledMessage, HandlerResult, OpenFlowHandler, SwitchFeatures } from '../openflow/handler.js';

type FlowMod = MessageOf<'FLOW_MOD'>;

/** OVS's fail-open flow: above any priority OpenFlow can express, so hidden from controllers. */
export const FAIL_OPEN_PRIORITY = 0xf0f0f0;
const isHidden = (e: FlowEntry): boolean => e.priority > 0xffff;

export interface OfprotoOptions {
  datapath: BridgeDatapath;
  /** Current datapath id (changes with the bridge's MAC or other_config:datapath-id). */
  datapathId(): bigint;
  desc(): SwitchDesc;
  /** Sends an async message to the bridge's controllers. */
  publish(m: AsyncMessage): void;
  /** Refreshes the pipeline's port counters before port stats are answered. */
  refreshPortCounters?(): Promise<void>;
  now?: () => number;
  /** Where a failure of the datapath to apply a change is logged. */
  log?: Log;
}

export class BridgeOfproto implements OpenFlowHandler {
  readonly pipeline: Pipeline;
  private readonly now: () => number;
  /** Datapath applies are chained, so a barrier waits for every earlier change. */
  private applying: Promise<void> = Promise.resolve();
  /** The deltas of the last queued apply while it has not started: later commits join it. */
  private open: Delta[] | undefined;
  /** The fail-open flow while there is one. */
  private hidden?: FlowEntry;
  /** Called with each batch once the datapath applied it, before any later barrier replies (persistence). */
  onApplied?: (deltas: readonly Delta[]) => void;

  constructor(private readonly o: OfprotoOptions) {
    this.now = o.now ?? Date.now;
    this.pipeline = createPipeline(this.now());
  }

  features(): SwitchFeatures {
    return {
      datapath_id: this.o.datapathId(),
      n_buffers: 0,
      n_tables: 254,
      capabilities: OFPC.FLOW_STATS | OFPC.TABLE_STATS | OFPC.PORT_STATS | OFPC.GROUP_STATS | OFPC.QUEUE_STATS,
    };
  }

  /** Hands deltas to the datapath, in order; resolves once they are in effect. */
  commit(deltas: readonly Delta[]): Promise<void> {
    if (!deltas.length) return this.applying;
    // A burst of flow mods (a controller pumping them, then a barrier) becomes one apply:
    // while the last queued apply has not started, later deltas join it.
    if (this.open) {
      for (const d of deltas) this.open.push(d);
      return this.applying;
    }
    const batch = [...deltas];
    const done = this.after(async () => {
      if (this.open === batch) this.open = undefined;
      await this.o.datapath.apply(this.pipeline, batch);
      this.onApplied?.(batch);
    });
    this.open = batch;
    return done;
  }

  private publishAll(events: readonly Message[]): void {
    for (const e of events) this.o.publish(e as AsyncMessage);
  }

  /** PACKET_OUT's outcome: frames out of their ports, packet-ins to the controllers. */
  private async runTrace(t: TraceResult): Promise<void> {
    for (const out of t.outputs) await this.o.datapath.transmit(out.port, out.frame);
    for (const pi of t.packetIns) this.o.publish(packetInMessage(pi) as AsyncMessage);
  }

  /**
   * Copies the datapath's per-entry counters (cumulative since each entry was added) into the
   * model, which answers flow stats and judges idle timeouts.
   */
  syncFlowCounters(counters = this.o.datapath.flowCounters()): void {
    const tables = this.o.datapath.tableCounters?.();
    if (tables)
      for (const [id, c] of tables) {
        const t = this.pipeline.tables[id];
        if (t) {
          t.lookup_count = c.lookups;
          t.matched_count = c.matched;
        }
      }
    if (!counters.size) return;
    for (const t of this.pipeline.tables) {
      for (const e of t.entries) {
        const c = counters.get(e.id);
        if (!c) continue;
        e.packet_count = c.packets;
        e.byte_count = c.bytes;
        if (c.lastUsed !== undefined && c.lastUsed > e.last_used) e.last_used = c.lastUsed;
      }
    }
  }

  /** The datapath's meter counters already added to each model meter (the model itself counts the slow path's packets). */
  private readonly meterSeen = new WeakMap<Meter, { bands: BandState[]; c: MeterCounters }>();

  /**
   * Adds what the fast path metered since the last call to the model's meter stats. The
   * datapath's counts restart when a meter is written again (meter mod, restart): a
   * rewrite of the bands, or counts that went down, start the difference from zero.
   */
  syncMeterCounters(): void {
    const read = this.o.datapath.meterCounters;
    if (!read || !this.pipeline.meters.size) return;
    for (const [id, c] of read.call(this.o.datapath, [...this.pipeline.meters.keys()])) {
      const m = this.pipeline.meters.get(id);
      if (!m) continue;
      let seen = this.meterSeen.get(m);
      if (!seen || seen.bands !== m.bands || c.packets < seen.c.packets) seen = { bands: m.bands, c: { packets: 0n, bytes: 0n, bands: [] } };
      m.packet_in_count += c.packets - seen.c.packets;
      m.byte_in_count += c.bytes - seen.c.bytes;
      m.bands.forEach((b, i) => {
        const now = c.bands[i];
        if (!now) return;
        const was = seen.c.bands[i] ?? { packets: 0n, bytes: 0n };
        b.packet_band_count += now.packets - was.packets;
        b.byte_band_count += now.bytes - was.bytes;
      });
      this.meterSeen.set(m, { bands: m.bands, c });
    }
  }

  /** The datapath's group counters already added to each model group. */
  private readonly groupSeen = new WeakMap<Group, { packets: bigint; bytes: bigint }>();

  /**
   * Adds what the fast path ran through each group since the last call to the model's
   * group stats, and to the buckets that ran (ALL: each; INDIRECT: its one). The
   * datapath's counts restart when the group is written again: counts that went down
   * start the difference from zero.
   */
  syncGroupCounters(): void {
    const read = this.o.datapath.groupCounters;
    if (!read || !this.pipeline.groups.size) return;
    for (const [id, c] of read.call(this.o.datapath, [...this.pipeline.groups.keys()])) {
      const g = this.pipeline.groups.get(id);
      if (!g) continue;
      let seen = this.groupSeen.get(g);
      if (!seen || c.packets < seen.packets) seen = { packets: 0n, bytes: 0n };
      const dp = c.packets - seen.packets;
      const db = c.bytes - seen.bytes;
      g.packet_count += dp;
      g.byte_count += db;
      const ran = g.group_type === 'ALL' ? g.buckets : g.group_type === 'INDIRECT' ? g.buckets.slice(0, 1) : [];
      for (const b of ran) {
        b.packet_count += dp;
        b.byte_count += db;
      }
      this.groupSeen.set(g, c);
    }
  }

  /** A frame the datapath sends to the controllers (output:CONTROLLER or a table miss). */
  packetIn(p: DatapathPacketIn): void {
    let cookie = 0xffffffffffffffffn; // OVS: a packet-in not from a flow entry carries all-ones
    for (const t of this.pipeline.tables) {
      for (const e of t.entries) if (e.id === p.entryId) cookie = e.cookie;
    }
    this.o.publish({
      type: 'PACKET_IN',
      xid: 0,
      buffer_id: OFP_NO_BUFFER,
      total_len: p.total_len,
      reason: p.reason,
      table_id: p.table_id,
      cookie,
      match: [{ field: 'IN_PORT', value: p.in_port }],
      data: p.data,
    });
  }

  /** Idle and hard timeouts: called periodically by the bridge. */
  async expire(): Promise<void> {
    // Reading counters costs a syscall per flow (or a batch read): only when some flow has a timeout.
    if (this.pipeline.tables.some((t) => t.timed.size > 0)) await this.readFlowCounters();
    const { deltas, removed } = expire(this.pipeline, this.now());
    await this.commit(deltas);
    this.publishAll(removed.map(flowRemovedMessage));
  }

  /**
   * Answers from the model at once; the datapath applies the change behind the earlier
   * ones, and BARRIER waits for it (OF1.3 §6.2: only a barrier orders completion).
   */
  handle(msg: HandledMessage, _conn: ConnectionInfo): HandlerResult | Promise<HandlerResult> {
    if (msg.type === 'MULTIPART_REQUEST' && msg.body.type === 'PORT_STATS' && this.o.refreshPortCounters) {
      return this.o.refreshPortCounters().then(() => this.handleNow(msg));
    }
    if (msg.type === 'MULTIPART_REQUEST' && msg.body.type === 'METER') this.syncMeterCounters();
    if (msg.type === 'MULTIPART_REQUEST' && msg.body.type === 'GROUP') this.syncGroupCounters();
    const counted = msg.type === 'MULTIPART_REQUEST' && (msg.body.type === 'FLOW' || msg.body.type === 'AGGREGATE' || msg.body.type === 'TABLE');
    if (counted && this.o.datapath.readFlowCounters) return this.readFlowCounters().then(() => this.handleNow(msg));
    if (counted) this.syncFlowCounters();
    return this.handleNow(msg);
  }

  /** syncFlowCounters() from the datapath's batch read when it has one. */
  private async readFlowCounters(): Promise<void> {
    const read = this.o.datapath.readFlowCounters;
    this.syncFlowCounters(read ? await read.call(this.o.datapath) : undefined);
  }

  private handleNow(msg: HandledMessage): HandlerResult {
    const r = this.withoutHidden(() => handleRequest(this.pipeline, msg, this.now(), this.o.desc()));
    if (r.error) return r.error;
    void this.commit(r.deltas);
    this.publishAll(r.events);
    const t = r.trace;
    if (t) this.after(() => this.runTrace(t));
    return r.replies;
  }

  /**
   * Runs a controller's request on the model with the hidden flow (fail-open's) taken out,
   * as OVS does: it is not dumped, counted or deleted. The datapath keeps it.
   */
  private withoutHidden<T>(fn: () => T): T {
    const e = this.hidden;
    if (!e || !this.pipeline.tables[0]!.entries.has(e)) return fn();
    removeEntry(this.pipeline, e);
    try {
      return fn();
    } finally {
      insertEntry(this.pipeline, e);
    }
  }

  /** Finds the fail-open flow among restored ones (a restart in fail-open mode). */
  findHidden(): void {
    this.hidden = [...this.pipeline.tables[0]!.entries].find(isHidden);
  }

  /** Whether the fail-open flow is in place. */
  get failOpen(): boolean {
    return this.hidden !== undefined && this.pipeline.tables[0]!.entries.has(this.hidden);
  }

  /**
   * OVS fail-open: entering flushes every flow and adds the hidden `actions=NORMAL` flow;
   * leaving (a controller is back) removes it, leaving the table to the controller.
   */
  async setFailOpen(on: boolean): Promise<void> {
    if (on === this.failOpen) return;
    const mod: FlowMod = {
      type: 'FLOW_MOD', xid: 0, cookie: 0n, cookie_mask: 0n, table_id: 0, command: on ? 'ADD' : 'DELETE_STRICT', idle_timeout: 0, hard_timeout: 0,
      priority: FAIL_OPEN_PRIORITY, buffer_id: 0xffffffff, out_port: OFPP.ANY, out_group: OFPG.ANY, flags: 0, match: [],
      instructions: on ? [{ type: 'APPLY_ACTIONS', actions: [{ type: 'OUTPUT', port: OFPP.NORMAL, max_len: 0 }] }] : [],
    };
    if (on) await this.flush(false);
    await this.commit(handleRequest(this.pipeline, mod, this.now(), this.o.desc()).deltas);
    this.findHidden();
  }

  /** Runs `fn` once everything before it reached the datapath. */
  private after(fn: () => Promise<void>): Promise<void> {
    // Whatever is queued now (a packet-out's frames) comes after the open batch: close it.
    this.open = undefined;
    this.applying = this.applying.then(fn).catch((e: unknown) => this.o.log?.err(`datapath: ${e instanceof Error ? e.message : String(e)}`));
    return this.applying;
  }

  /** All or nothing (src/ofproto applyBundle); the datapath sees only a whole bundle. */
  async commitBundle(msgs: readonly BundledMessage[], _conn: ConnectionInfo): Promise<BundleResult> {
    const r = this.withoutHidden(() => applyBundle(this.pipeline, msgs, this.now()));
    if (!r.ok) return r;
    await this.commit(r.results.flatMap((x) => x.deltas));
    for (const x of r.results) {
      this.publishAll(x.events);
      if (x.trace) await this.runTrace(x.trace);
    }
    return { ok: true };
  }

  /**
   * OVS ofproto_flush_flows() then connmgr_flushed(): every flow goes; a standalone bridge
   * with no controller gets `priority=0 actions=NORMAL` back. OVS does this when a bridge
   * is created, when it gains its first controller or loses its last, and when fail_mode
   * changes while it has none.
   */
  async flush(addNormal: boolean): Promise<void> {
    const mod = (command: FlowMod['command'], table_id: number, instructions: FlowMod['instructions']): FlowMod => ({
      type: 'FLOW_MOD', xid: 0, cookie: 0n, cookie_mask: 0n, table_id, command, idle_timeout: 0, hard_timeout: 0, priority: 0,
      buffer_id: 0xffffffff, out_port: OFPP.ANY, out_group: OFPG.ANY, flags: 0, match: [], instructions,
    });
    const del = handleRequest(this.pipeline, mod('DELETE', OFPTT.ALL, []), this.now(), this.o.desc());
    const deltas = [...del.deltas];
    if (addNormal) {
      const normal = mod('ADD', 0, [{ type: 'APPLY_ACTIONS', actions: [{ type: 'OUTPUT', port: OFPP.NORMAL, max_len: 0 }] }]);
      deltas.push(...handleRequest(this.pipeline, normal, this.now(), this.o.desc()).deltas);
    }
    await this.commit(deltas);
    this.publishAll(del.events);
  }

  async barrier(): Promise<void> {
    await this.applying;
  }

  /** SET_CONFIG's fragment handling, as OVS 3.1 takes it: normal, drop and nx-match, not reassemble. */
  setFragHandling(flags: number): boolean {
    if ((flags & OFPC_FRAG.MASK) === OFPC_FRAG.REASM) return false;
    this.pipeline.config_flags = flags;
    return true;
  }
}
