// src/ofproto/trace.ts — the reference interpreter: one frame arriving on a port, run
// through the pipeline model (tables, instructions, action set, groups, meters), gives
// the frames that leave and where, the packet-ins and the counters it touched. It is
// the semantics the XDP datapath must reproduce, its slow path, and its tests' oracle.
import type { Action } from '../../proto/openflow/actions.js';
import { OFPC_FRAG, OFPG, OFPP, OFPPC, OFPPS, OFP_NO_BUFFER } from '../../proto/openflow/constants.js';
import type { OxmEntry, OxmName } from '../../proto/openflow/oxm.js';
import { OfpError } from '../../proto/openflow/errors.js';
import { actionSetList, validateActions, writeActions } from './actions.js';
import { applyNat, ctRequest, type CtActionOf } from './ct-action.js';
import { MemoryConntrack, type Conntrack } from './ct.js';
import type { FlowEntry } from './classifier.js';
import type { Group } from './group.js';
import { bigintToOxm, oxmToBigint } from './match.js';
import { bitsOf, fieldOfHeader, ofsNbits, withBits } from './nx.js';
import { meterPacket } from './meter.js';
import { egressVid, normalDecision } from './normal.js';
import type { Pipeline } from './pipeline.js';
import { portLive } from './port.js';
import { copyTtlIn, copyTtlOut, decMplsTtl, decNwTtl, Pkt, popMpls, popPbb, popVlan, pushMpls, pushPbb, pushVlan, setField, setMplsTtl, setNwTtl } from './rewrite.js';
import { OFPR, type PacketOutInput } from './types.js';

export interface TraceOutput {
  port: number;
  frame: Buffer;
  queue_id?: number;
}

/** OFPT_PACKET_IN (§7.4.1), as data. */
export interface PacketIn {
  buffer_id: number;
  total_len: number;
  reason: number;
  table_id: number;
  cookie: bigint;
  match: OxmEntry[];
  data: Buffer;
}

export interface TraceCounters {
  /** Flow entries hit, in order. */
  entries: FlowEntry[];
  /** Tables looked up; `missed` those where nothing matched. */
  tables: number[];
  missed: number[];
  groups: number[];
  meters: number[];
}

export interface TraceResult {
  outputs: TraceOutput[];
  packetIns: PacketIn[];
  counters: TraceCounters;
  /** Why the packet stopped, when it was dropped on purpose (meter band, TTL, port config). */
  drops: string[];
}

export interface TraceOptions {
  /** Update the model's counters (entries, tables, groups, buckets, meters, ports). Default true. */
  count?: boolean;
  /** The connection tracker ct actions use; default: one MemoryConntrack per pipeline. */
  conntrack?: Conntrack;
  /**
   * Meter instructions the fast path already ran on this packet before handing it up
   * (upcall.meters): the first this many the trace meets neither meter nor count it
   * again (the packet passed them, or the fast path would have dropped it).
   */
  skipMeters?: number;
}

/** Nicira's fragment handling (ovs-ofctl set-frags nx-match): fragments matched by nw_frag, first ones with their ports. */
const OFPC_FRAG_NX_MATCH = 3;

/** Recirculations (ct(table=…)) one packet may take: OVS's userspace datapath allows 6 (MAX_RECIRC_DEPTH). */
export const MAX_RECIRCULATIONS = 6;

const defaultConntracks = new WeakMap<Pipeline, Conntrack>();
/** The pipeline's own in-memory tracker, used when a trace names none. */
export function pipelineConntrack(p: Pipeline): Conntrack {
  let ct = defaultConntracks.get(p);
  if (!ct) defaultConntracks.set(p, (ct = new MemoryConntrack()));
  return ct;
}

/** Group chains and goto_table are bounded; this guards against a model bug, not input. */
const MAX_DEPTH = 64;

interface Ctx {
  p: Pipeline;
  now: number;
  in_port: number;
  count: boolean;
  res: TraceResult;
  /** The entry whose actions run now (packet-in table_id and cookie). */
  entry?: FlowEntry;
  table_id: number;
  depth: number;
  /** Size at ingress, for flow/table byte counters. */
  bytes: number;
  /** The action set being built (§5.10), shared by resubmitted tables. */
  set: Map<string, Action>;
  /** Resubmits so far: OVS stops at 4096 per packet. */
  resubmits: number;
  /** Translation failed (recursion too deep): the packet is dropped whole. */
  failed: boolean;
  ct: Conntrack;
  /** Recirculations so far (ct(table=…)). */
  recircs: number;
  /** Meter instructions still to pass without metering (TraceOptions.skipMeters). */
  skipMeters: number;
}

/** A counter update, unless the trace counts nothing (count: false). */
function tally(ctx: Ctx, update: () => void): void {
  if (ctx.count) update();
}

/** Runs `frame`, received on `in_port` at time `now` (ms), through the pipeline. */
export function trace(p: Pipeline, in_port: number, frame: Uint8Array, now: number, opts: TraceOptions = {}): TraceResult {
  const ctx = newCtx(p, in_port, frame, now, opts);
  const port = p.ports.get(in_port);
  if (port)
    tally(ctx, () => {
      port.counters.rx_packets++;
      port.counters.rx_bytes += BigInt(frame.length);
    });
  if (port && port.desc.config & (OFPPC.NO_RECV | OFPPC.PORT_DOWN)) {
    ctx.res.drops.push(`port ${in_port} does not receive (config 0x${port.desc.config.toString(16)})`);
    tally(ctx, () => port.counters.rx_dropped++);
    return ctx.res;
  }
  const pk = new Pkt(frame, { in_port, metadata: 0n, tunnel_id: 0n, vlanLimit: p.vlan_limit, fragNxMatch: (p.config_flags & OFPC_FRAG.MASK) === OFPC_FRAG_NX_MATCH });
  if (pk.layout.frag && (p.config_flags & OFPC_FRAG.MASK) === OFPC_FRAG.DROP) {
    ctx.res.drops.push('IP fragment (OFPC_FRAG_DROP)');
    return ctx.res;
  }
  runTables(ctx, pk, 0);
  return finish(ctx);
}

function finish(ctx: Ctx): TraceResult {
  if (ctx.failed) {
    ctx.res.outputs = [];
    ctx.res.packetIns = [];
    ctx.res.drops.push(`resubmit recursion deeper than ${MAX_DEPTH} (or over 4096): packet dropped`);
  }
  return ctx.res;
}

/**
 * OFPT_PACKET_OUT (§7.3.7): runs the actions on the frame as if received on `in_port`
 * (OFPP_CONTROLLER when none); OUTPUT:TABLE sends it through the tables. We keep no
 * buffers, so a buffer_id is OFPBRC_BUFFER_UNKNOWN.
 */
export function packetOut(p: Pipeline, po: PacketOutInput, now: number, opts: TraceOptions = {}): TraceResult | OfpError {
  const bad = checkPacketOut(p, po);
  if (bad) return bad;
  const ctx = newCtx(p, po.in_port, po.data, now, opts);
  runActions(ctx, new Pkt(po.data, { in_port: po.in_port, metadata: 0n, tunnel_id: 0n, vlanLimit: p.vlan_limit, fragNxMatch: (p.config_flags & OFPC_FRAG.MASK) === OFPC_FRAG_NX_MATCH }), po.actions);
  return finish(ctx);
}

/** A packet-out's errors, found before anything is sent. */
export function checkPacketOut(p: Pipeline, po: PacketOutInput): OfpError | undefined {
  if (po.buffer_id !== OFP_NO_BUFFER) return new OfpError('OFPBRC_BUFFER_UNKNOWN', { why: `buffer ${po.buffer_id}` });
  const ok = po.in_port === OFPP.CONTROLLER || po.in_port === OFPP.LOCAL || po.in_port === OFPP.ANY || (po.in_port > 0 && po.in_port <= OFPP.MAX);
  if (!ok) return new OfpError('OFPBRC_BAD_PORT', { why: `in_port ${po.in_port}` });
  return validateActions(p, po.actions, { packetOut: true });
}

function newCtx(p: Pipeline, in_port: number, frame: Uint8Array, now: number, opts: TraceOptions): Ctx {
  return {
    p,
    now,
    in_port,
    count: opts.count ?? true,
    res: { outputs: [], packetIns: [], counters: { entries: [], tables: [], missed: [], groups: [], meters: [] }, drops: [] },
    table_id: 0,
    depth: 0,
    bytes: frame.length,
    set: new Map(),
    resubmits: 0,
    failed: false,
    ct: opts.conntrack ?? pipelineConntrack(p),
    recircs: 0,
    skipMeters: opts.skipMeters ?? 0,
  };
}

/** The pipeline from table `first` with a fresh action set, run at its end (§5.1). */
function runTables(ctx: Ctx, pk: Pkt, first: number): void {
  const outer = ctx.set;
  ctx.set = new Map();
  runFrom(ctx, pk, first);
  if (!pk.dead && ctx.set.size) runActions(ctx, pk, actionSetList(ctx.set));
  ctx.set = outer;
}

/** Lookups and instructions from table `table_id` on, following goto_table; the action set is the caller's. */
function runFrom(ctx: Ctx, pk: Pkt, table_id: number): void {
  for (;;) {
    const t = ctx.p.tables[table_id]!;
    ctx.table_id = table_id;
    ctx.res.counters.tables.push(table_id);
    tally(ctx, () => t.lookup_count++);
    const e = t.lookup(pk.key);
    if (!e) {
      // OF1.3 §5.4: without a table-miss entry the packet is dropped.
      ctx.res.counters.missed.push(table_id);
      ctx.res.drops.push(`table ${table_id} miss`);
      return;
    }
    ctx.entry = e;
    ctx.res.counters.entries.push(e);
    const { bytes, now } = ctx;
    tally(ctx, () => {
      t.matched_count++;
      e.packet_count++;
      e.byte_count += BigInt(bytes);
      e.last_used = now;
    });
    // Instructions run in the spec's order whatever their order in the entry (§5.9).
    const by = new Map(e.instructions.map((i) => [i.type, i]));
    const meter = by.get('METER');
    if (meter?.type === 'METER' && ctx.skipMeters > 0) ctx.skipMeters--;
    else if (meter?.type === 'METER') {
      const m = ctx.p.meters.get(meter.meter_id);
      if (m) {
        ctx.res.counters.meters.push(m.meter_id);
        const band = meterPacket(m, pk.data.length, ctx.now, ctx.count);
        if (band?.type === 'DROP') {
          ctx.res.drops.push(`meter ${m.meter_id} band drop`);
          pk.dead = true;
          return;
        }
        if (band?.type === 'DSCP_REMARK' && pk.key.IP_DSCP !== undefined) {
          // Raise the drop precedence (AF class low bits) by prec_level.
          const dscp = Number(pk.key.IP_DSCP);
          setField(pk, 'IP_DSCP', BigInt(Math.min(63, dscp + 2 * band.prec_level)));
        }
      }
    }
    const applyI = by.get('APPLY_ACTIONS');
    if (applyI?.type === 'APPLY_ACTIONS') runActions(ctx, pk, applyI.actions);
    if (pk.dead) return;
    if (by.has('CLEAR_ACTIONS')) ctx.set.clear();
    const writeI = by.get('WRITE_ACTIONS');
    if (writeI?.type === 'WRITE_ACTIONS') writeActions(ctx.set, writeI.actions);
    const wm = by.get('WRITE_METADATA');
    if (wm?.type === 'WRITE_METADATA') {
      pk.pf.metadata = (pk.pf.metadata & ~wm.metadata_mask) | (wm.metadata & wm.metadata_mask);
      pk.reparse();
    }
    const gt = by.get('GOTO_TABLE');
    const next = gt?.type === 'GOTO_TABLE' ? gt.table_id : undefined;
    if (next === undefined || next <= table_id) return;
    table_id = next;
  }
}

/** A field's value as the packet has it now (pipeline fields included). */
function readField(pk: Pkt, f: OxmName): bigint {
  if (f === 'METADATA') return pk.pf.metadata;
  return pk.key[f] ?? 0n;
}

/** Writes a whole field value: metadata directly, the rest as set_field does. */
function writeField(pk: Pkt, f: OxmName, v: bigint): void {
  if (f === 'METADATA') {
    pk.pf.metadata = v;
    pk.reparse();
  } else setField(pk, f, v);
}

/** nx_action_resubmit: the lookup (and its instructions) of another table, then back (OVS). */
function resubmit(ctx: Ctx, pk: Pkt, in_port: number, table: number): void {
  if (ctx.depth >= MAX_DEPTH || ++ctx.resubmits > 4096) {
    // OVS fails the whole translation: nothing of this packet leaves, not even earlier outputs.
    ctx.failed = true;
    pk.dead = true;
    return;
  }
  const savedPort = pk.pf.in_port;
  const savedTable = ctx.table_id;
  const savedEntry = ctx.entry;
  if (in_port !== 0xfff8) pk.pf.in_port = nxPort(in_port);
  pk.reparse();
  ctx.depth++;
  runFrom(ctx, pk, table === 0xff ? ctx.table_id : table);
  ctx.depth--;
  pk.pf.in_port = savedPort;
  pk.reparse();
  ctx.table_id = savedTable;
  ctx.entry = savedEntry;
}

/** A 16-bit (OpenFlow 1.0 / NXM) port number as an OpenFlow 1.3 one. */
function nxPort(p: number): number {
  return p >= 0xff00 ? (p + 0xffff0000) >>> 0 : p;
}

function runActions(ctx: Ctx, pk: Pkt, actions: readonly Action[]): void {
  for (const a of actions) {
    switch (a.type) {
      case 'OUTPUT':
        output(ctx, pk, a.port);
        break;
      case 'GROUP': {
        const g = ctx.p.groups.get(a.group_id);
        if (g) runGroup(ctx, pk, g);
        break;
      }
      case 'SET_FIELD': {
        const f = a.field;
        setField(pk, f.field, oxmToBigint(f.field, f.value));
        break;
      }
      case 'PUSH_VLAN':
        pushVlan(pk, a.ethertype);
        break;
      case 'POP_VLAN':
        popVlan(pk);
        break;
      case 'PUSH_MPLS':
        pushMpls(pk, a.ethertype);
        break;
      case 'POP_MPLS':
        popMpls(pk, a.ethertype);
        break;
      case 'PUSH_PBB':
        pushPbb(pk, a.ethertype);
        break;
      case 'POP_PBB':
        popPbb(pk);
        break;
      case 'SET_QUEUE':
        pk.queue_id = a.queue_id;
        break;
      case 'SET_NW_TTL':
        setNwTtl(pk, a.nw_ttl);
        break;
      case 'DEC_NW_TTL':
        if (decNwTtl(pk) === 'invalid') return invalidTtl(ctx, pk);
        break;
      case 'SET_MPLS_TTL':
        setMplsTtl(pk, a.mpls_ttl);
        break;
      case 'DEC_MPLS_TTL':
        if (decMplsTtl(pk) === 'invalid') return invalidTtl(ctx, pk);
        break;
      case 'COPY_TTL_OUT':
        copyTtlOut(pk);
        break;
      case 'COPY_TTL_IN':
        copyTtlIn(pk);
        break;
      case 'NX_RESUBMIT':
        resubmit(ctx, pk, a.in_port, 0xff);
        if (pk.dead) return;
        break;
      case 'NX_RESUBMIT_TABLE':
        resubmit(ctx, pk, a.in_port, a.table);
        if (pk.dead) return;
        break;
      case 'NX_REG_LOAD': {
        const f = fieldOfHeader(a.dst)!;
        const { ofs, nbits } = ofsNbits(a.ofs_nbits);
        writeField(pk, f, withBits(readField(pk, f), ofs, nbits, a.value));
        break;
      }
      case 'NX_REG_MOVE': {
        const src = fieldOfHeader(a.src)!;
        const dst = fieldOfHeader(a.dst)!;
        writeField(pk, dst, withBits(readField(pk, dst), a.dst_ofs, a.n_bits, bitsOf(readField(pk, src), a.src_ofs, a.n_bits)));
        break;
      }
      case 'NX_OUTPUT_REG': {
        const { ofs, nbits } = ofsNbits(a.ofs_nbits);
        output(ctx, pk, nxPort(Number(bitsOf(readField(pk, fieldOfHeader(a.src)!), ofs, nbits))));
        break;
      }
      case 'NX_CONTROLLER':
        packetIn(ctx, pk, a.reason);
        break;
      case 'NX_NOTE':
        break;
      case 'NX_CT':
        conntrack(ctx, pk, a);
        break;
      case 'NX_CLONE':
        // The nested actions act on a copy; the packet goes on as it was.
        runActions(ctx, pk.clone(), a.actions);
        break;
      case 'NX_CT_CLEAR':
        if (pk.pf.ct) pk.setCt(undefined);
        break;
      default:
        // validateActions admits nothing else; a Nicira action here is a model bug.
        ctx.res.drops.push(`action ${a.type} not implemented`);
        return;
    }
  }
}

/**
 * ct(…): the tracker sees the packet; NAT rewrites it. With table=N the pipeline forks,
 * as OVS's does: a copy with the ct fields set (and NAT applied) recirculates to table
 * N, the original goes on untracked. Without it the packet goes on, NATed, with the ct
 * fields it had (OVS shows a ct action's results only after recirculation).
 */
function conntrack(ctx: Ctx, pk: Pkt, a: CtActionOf): void {
  const req = ctRequest(pk, a, (h) => {
    const f = fieldOfHeader(h);
    return f ? readField(pk, f) : 0n;
  });
  const r = ctx.ct.execute(req, ctx.now);
  if (a.recirc_table === 0xff) {
    if (r.nat) applyNat(pk, r.nat);
    return;
  }
  if (ctx.recircs >= MAX_RECIRCULATIONS) {
    ctx.res.drops.push(`more than ${MAX_RECIRCULATIONS} recirculations: packet dropped`);
    return;
  }
  const copy = pk.clone();
  if (r.nat) applyNat(copy, r.nat);
  copy.setCt(r.fields);
  ctx.recircs++;
  const saved = { table_id: ctx.table_id, entry: ctx.entry };
  runTables(ctx, copy, a.recirc_table);
  ctx.table_id = saved.table_id;
  ctx.entry = saved.entry;
}

/**
 * A TTL that would reach zero stops the packet and goes to the controller with reason
 * OFPR_INVALID_TTL (each connection's async config filters it).
 */
function invalidTtl(ctx: Ctx, pk: Pkt): void {
  pk.dead = true;
  ctx.res.drops.push('invalid ttl');
  packetIn(ctx, pk, OFPR.INVALID_TTL);
}

function liveGroup(ctx: Ctx, id: number, depth = 0): boolean {
  const g = ctx.p.groups.get(id);
  if (!g || depth > MAX_DEPTH) return false;
  return g.buckets.some((b) => bucketLive(ctx, b, depth + 1));
}
function bucketLive(ctx: Ctx, b: Group['buckets'][number], depth = 0): boolean {
  if (b.watch_port !== OFPP.ANY && !portLive(ctx.p, b.watch_port)) return false;
  if (b.watch_group !== OFPG.ANY && !liveGroup(ctx, b.watch_group, depth)) return false;
  return true;
}

/** FNV-1a over the L2-L4 fields: the select group's flow hash. */
function flowHash(pk: Pkt): number {
  const k = pk.key;
  const parts = [k.ETH_SRC, k.ETH_DST, k.ETH_TYPE, k.VLAN_VID, k.IPV4_SRC, k.IPV4_DST, k.ARP_SPA, k.ARP_TPA, k.IPV6_SRC, k.IPV6_DST, k.IP_PROTO, k.TCP_SRC, k.TCP_DST, k.UDP_SRC, k.UDP_DST, k.SCTP_SRC, k.SCTP_DST];
  let h = 0x811c9dc5;
  for (const c of parts.map((x) => (x ?? 0n).toString(16)).join('|')) {
    h ^= c.charCodeAt(0);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  // Final avalanche so nearby keys spread across buckets.
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b) >>> 0;
  h ^= h >>> 13;
  return h >>> 0;
}

function runGroup(ctx: Ctx, pk: Pkt, g: Group): void {
  if (ctx.depth++ > MAX_DEPTH) {
    ctx.res.drops.push(`group chain deeper than ${MAX_DEPTH}`);
    return;
  }
  ctx.res.counters.groups.push(g.group_id);
  const len = pk.data.length;
  tally(ctx, () => {
    g.packet_count++;
    g.byte_count += BigInt(len);
  });
  // Each bucket acts on its own copy: actions after the group see the packet unchanged.
  const run = (b: Group['buckets'][number]) => {
    tally(ctx, () => {
      b.packet_count++;
      b.byte_count += BigInt(len);
    });
    runActions(ctx, pk.clone(), b.actions);
  };
  switch (g.group_type) {
    case 'ALL':
      for (const b of g.buckets) run(b);
      break;
    case 'INDIRECT':
      if (g.buckets[0]) run(g.buckets[0]);
      break;
    case 'SELECT': {
      const live = g.buckets.filter((b) => b.weight > 0 && bucketLive(ctx, b));
      const total = live.reduce((a, b) => a + b.weight, 0);
      if (!total) break;
      let x = flowHash(pk) % total;
      const b = live.find((b) => (x -= b.weight) < 0)!;
      run(b);
      break;
    }
    case 'FF': {
      const b = g.buckets.find((b) => bucketLive(ctx, b));
      if (b) run(b);
      else ctx.res.drops.push(`group ${g.group_id}: no live bucket`);
      break;
    }
  }
  ctx.depth--;
}

function emit(ctx: Ctx, pk: Pkt, port: number): void {
  const s = ctx.p.ports.get(port);
  if (s && s.desc.config & (OFPPC.NO_FWD | OFPPC.PORT_DOWN)) {
    ctx.res.drops.push(`port ${port} does not forward (config 0x${s.desc.config.toString(16)})`);
    tally(ctx, () => s.counters.tx_dropped++);
    return;
  }
  if (s) {
    const len = pk.data.length;
    tally(ctx, () => {
      s.counters.tx_packets++;
      s.counters.tx_bytes += BigInt(len);
    });
  }
  ctx.res.outputs.push({ port, frame: Buffer.from(pk.data), ...(pk.queue_id !== undefined ? { queue_id: pk.queue_id } : {}) });
}

/**
 * ALL: every standard port (physical and LOCAL) but the ingress one (§4.5). FLOOD: the
 * same less ports the link layer blocks (OFPPS_BLOCKED, e.g. by STP).
 */
function flood(ctx: Ctx, pk: Pkt, skipBlocked: boolean): void {
  for (const n of [...ctx.p.ports.keys()].sort((a, b) => a - b)) {
    if (n === ctx.in_port || (n > OFPP.MAX && n !== OFPP.LOCAL)) continue;
    if (skipBlocked && ctx.p.ports.get(n)!.desc.state & OFPPS.BLOCKED) continue;
    emit(ctx, pk, n);
  }
}

/** OFPP_NORMAL: each copy leaves with the tag its port wants for the frame's VLAN. */
function normal(ctx: Ctx, pk: Pkt): void {
  const d = normalDecision(ctx.p, pk.key, ctx.in_port, ctx.now);
  if ('drop' in d) {
    ctx.res.drops.push(`NORMAL: ${d.drop}`);
    return;
  }
  const tagged = pk.layout.vlans.length > 0;
  const vid = tagged ? Number(pk.key.VLAN_VID! & 0xfffn) : 0;
  for (const port of d.to) {
    const want = egressVid(ctx.p.ports.get(port)?.vlan, d.vlan);
    if (ctx.p.ports.get(port)!.desc.state & OFPPS.BLOCKED) continue;
    // VLAN 0 leaves untagged: a priority tag (VID 0) is stripped, as OVS does by default.
    if (tagged ? want === vid && want !== 0 : want === 0) {
      emit(ctx, pk, port);
      continue;
    }
    const copy = pk.clone();
    if (want === 0) popVlan(copy);
    else {
      if (!tagged) pushVlan(copy, 0x8100);
      setField(copy, 'VLAN_VID', BigInt(0x1000 | want));
    }
    emit(ctx, copy, port);
  }
}

function output(ctx: Ctx, pk: Pkt, port: number): void {
  switch (port) {
    case OFPP.IN_PORT:
      return emit(ctx, pk, ctx.in_port);
    case OFPP.ALL:
    case OFPP.FLOOD:
      return flood(ctx, pk, port === OFPP.FLOOD);
    case OFPP.CONTROLLER:
      return packetIn(ctx, pk);
    case OFPP.TABLE:
      // Packet-out only (validateActions refuses it in flows): through the tables from 0.
      return runTables(ctx, pk.clone(), 0);
    case OFPP.NORMAL:
      return normal(ctx, pk);
    default:
      // Sending back out of the ingress port needs OFPP_IN_PORT (§7.2.5).
      if (port === ctx.in_port) {
        ctx.res.drops.push(`output to in_port ${port} without OFPP_IN_PORT`);
        return;
      }
      return emit(ctx, pk, port);
  }
}

/**
 * A packet-in carries the whole frame: the switch keeps no buffers, and an unbuffered
 * packet-in must include the entire packet (OF1.3 §7.4.1), max_len and miss_send_len
 * notwithstanding. OVS does the same.
 */
function packetIn(ctx: Ctx, pk: Pkt, why?: number): void {
  const inPort = ctx.p.ports.get(ctx.in_port);
  if (inPort && inPort.desc.config & OFPPC.NO_PACKET_IN) {
    ctx.res.drops.push(`port ${ctx.in_port} has NO_PACKET_IN`);
    return;
  }
  const e = ctx.entry;
  // A table-miss entry (priority 0, empty match) sends OFPR_NO_MATCH (§6.1.2).
  const reason = why ?? (e && e.priority === 0 && e.match.length === 0 ? OFPR.NO_MATCH : OFPR.ACTION);
  const data = Buffer.from(pk.data);
  const match: OxmEntry[] = [{ field: 'IN_PORT', value: ctx.in_port }];
  if (pk.pf.metadata) match.push({ field: 'METADATA', value: bigintToOxm('METADATA', pk.pf.metadata) });
  if (pk.pf.tunnel_id) match.push({ field: 'TUNNEL_ID', value: bigintToOxm('TUNNEL_ID', pk.pf.tunnel_id) });
  ctx.res.packetIns.push({ buffer_id: OFP_NO_BUFFER, total_len: pk.data.length, reason, table_id: ctx.table_id, cookie: e?.cookie ?? 0xffffffffffffffffn, match, data });
}
