// The XDP implementation of BridgeDatapath: the compiler's map writes applied to the
// loaded object, ports attached at their hook, counters read back, and the slow path —
// packets the fast path hands up are run through the reference interpreter and their
// outputs sent out of the ports' devices (AF_PACKET, which needs nothing of a veth's
// peer, unlike an XDP redirect into it).
// Ids of masks, op runs and rule slots live in one of two banks (halves of their maps),
// so that a new daemon adopting pinned maps compiles the same flows into the other bank
// and switches each table over in one write: packets never miss a rule across a restart.
import { randomBytes } from 'node:crypto';
import { OFPR } from '../ofproto/types.js';
import { trace } from '../ofproto/trace.js';
import { getMacEntry, ingressVlan, normalConfig, setMacEntry, type PortVlan } from '../ofproto/normal.js';
import { kernelConntrack } from '../ct/shared.js';
import type { Delta, Pipeline } from '../ofproto/pipeline.js';
import type { BpfMap } from '../native/bpf.js';
import { sendFrame } from '../native/packet.js';
import type { FlowEntry } from '../ofproto/classifier.js';
import type { AdoptedDatapath, BridgeDatapath, BridgePort, DatapathPacketIn, FlowCounters, MeterCounters, PortCounters, TableCounters } from './bridge.js';
import { PipelineCompiler, type MapWrite } from './compiler.js';
import { Datapath, type PortAttach } from './datapath.js';
import {
  decodeXswGroupStats,
  decodeXswMeter,
  decodeXswRuleKey,
  decodeXswRuleStats,
  decodeXswTable,
  decodeXswTableStats,
  encodeXswOp,
  encodeXswOfport,
  encodeXswTable,
  MAX_MASKS,
  XSW_OP_SIZE,
  XSW_RULE_SIZE,
  XSW_RULE_STATS_SIZE,
  XswUpcallReason,
  decodeXswMacEntry,
  decodeXswMacKey,
  encodeXswMacKey,
  encodeXswNormalConfig,
  encodeXswNormalPort,
  XswVlanMode,
  type XswUpcall,
} from './gen/maps.js';

/** Writes (or flows) from which a batch syscall beats one syscall each. */
const BATCH_MIN = 64;

/** Keys and values for one batch update of a map, packed as the syscall takes them. */
class Packer {
  count = 0;
  private keys: Buffer;
  private values: Buffer;

  constructor(
    private readonly map: BpfMap,
    private cap = 1024,
  ) {
    this.keys = Buffer.alloc(cap * map.keySize);
    this.values = Buffer.alloc(cap * map.valueLength);
  }

  private grow(): void {
    this.cap *= 2;
    const k = Buffer.alloc(this.cap * this.map.keySize);
    const v = Buffer.alloc(this.cap * this.map.valueLength);
    this.keys.copy(k);
    this.values.copy(v);
    this.keys = k;
    this.values = v;
  }

  /** Room for the next key (zeroed), to be written in place. */
  keyAt(): Buffer {
    if (this.count === this.cap) this.grow();
    const k = this.map.keySize;
    return this.keys.subarray(this.count * k, (this.count + 1) * k);
  }

  /** Adds the key written into keyAt(); returns its value's room (zeroed). */
  add(): Buffer {
    const l = this.map.valueLength;
    return this.values.subarray(this.count * l, ++this.count * l);
  }

  /** Adds an entry with a u32 key; returns its value's room (zeroed). */
  next(key: number): Buffer {
    this.keyAt().writeUInt32LE(key >>> 0);
    return this.add();
  }

  /** The keys gathered so far; starts over. */
  take(): Buffer {
    const k = Buffer.from(this.keys.subarray(0, this.count * this.map.keySize));
    this.reset();
    return k;
  }

  private reset(): void {
    this.keys.fill(0, 0, this.count * this.map.keySize);
    this.values.fill(0, 0, this.count * this.map.valueLength);
    this.count = 0;
  }

  async flush(): Promise<void> {
    if (!this.count) return;
    const n = this.count;
    // The addon copies them before the syscall: the buffers can be refilled at once.
    const p = this.map.updateBatch(this.keys.subarray(0, n * this.map.keySize), this.values.subarray(0, n * this.map.valueLength));
    this.reset();
    await p;
  }
}

const u32 = (n: number): Buffer => {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(n >>> 0);
  return b;
};

/** Upcall reasons by name, for the counters of packets that left the fast path. */
export const upcallReasonName = Object.fromEntries(Object.entries(XswUpcallReason).map(([k, v]) => [v, k.replace('XSW_UPCALL_', '').toLowerCase()])) as Record<number, string>;

export interface SlowPathCounters {
  /** Packets the fast path handed up, by reason. */
  byReason: Map<string, number>;
  /** Frames the slow path could not send (the device went away, a full queue). */
  txErrors: number;
}

/** A port's VLAN config as bpf/lib/normal.h reads it: trunks as a bitmap of 4096 VLANs. */
function normalPortValue(v: PortVlan): { mode: number; tag: number; trunks: bigint[] } {
  const mode = { access: XswVlanMode.XSW_VLAN_ACCESS, trunk: XswVlanMode.XSW_VLAN_TRUNK, 'native-tagged': XswVlanMode.XSW_VLAN_NATIVE_TAGGED, 'native-untagged': XswVlanMode.XSW_VLAN_NATIVE_UNTAGGED }[v.mode];
  const trunks = new Array<bigint>(64).fill(v.trunks?.length ? 0n : (1n << 64n) - 1n);
  for (const t of v.trunks ?? []) if (t >= 0 && t < 4096) trunks[t >> 6] = trunks[t >> 6]! | (1n << BigInt(t & 63));
  return { mode, tag: v.tag ?? 0, trunks };
}

/** Per-bank sizes: half of each map, so both banks fit while a restart moves between them. */
interface Bank {
  ops: number;
  slots: number;
  masks: number;
}

export class XdpBridgeDatapath implements BridgeDatapath {
  private compiler: PipelineCompiler;
  private readonly half: Bank;
  /** Which half the compiler's ids live in (0 or 1). */
  private bank = 0;
  /** Counters an entry gathered under an earlier run's slot, added to its current slot's. */
  private readonly carried = new Map<number, { packets: bigint; bytes: bigint; last: bigint }>();
  private readonly ports = new Map<number, BridgePort>();
  private readonly packetInCbs: ((p: DatapathPacketIn) => void)[] = [];
  private readonly maps: Record<'tables' | 'masks' | 'rules' | 'ops' | 'ofports' | 'stats' | 'tableStats', BpfMap>;
  /** What the slow path counted, added to the fast path's counters when they are read. */
  private readonly slowEntries = new Map<number, { packets: bigint; bytes: bigint }>();
  private readonly slowTables = new Map<number, TableCounters>();
  private pipeline?: Pipeline;
  /** Maps the compiler writes by name ('raw' writes), opened on first use. */
  private readonly rawMaps = new Map<string, BpfMap>();
  readonly slowPath: SlowPathCounters = { byReason: new Map(), txErrors: 0 };
  /** A zeroed per-CPU counters value (a new rule's counters start from it). */
  private zeroStats?: Buffer;
  /** The highest counter slot used since this process made the maps (needsReset). */
  private usedSlots = 0;
  /** Table descriptors and cache configs as last written (writeOnce). */
  private readonly lastWritten = new Map<string, Buffer>();
  /** NORMAL runs in the fast path (xsw_normal_config written; until then it all goes slow). */
  private normalFast?: boolean;
  private closed = false;
  /** The ports' VLAN config as last written to xsw_normal_ports (JSON by port). */
  private normalPorts = new Map<number, string>();

  private constructor(
    readonly dp: Datapath,
    private readonly clock: () => number,
  ) {
    this.maps = {
      tables: dp.map('xsw_tables'),
      masks: dp.map('xsw_masks'),
      rules: dp.map('xsw_rules'),
      ops: dp.map('xsw_ops'),
      ofports: dp.map('xsw_ofports'),
      stats: dp.map('xsw_rule_stats'),
      tableStats: dp.map('xsw_table_stats'),
    };
    this.half = {
      ops: Math.floor(this.maps.ops.info().maxEntries / 2),
      slots: Math.floor(this.maps.stats.info().maxEntries / 2),
      masks: Math.floor(this.maps.masks.info().maxEntries / 2),
    };
    this.compiler = new PipelineCompiler({ ...this.half });
    dp.onUpcall((u) => this.upcall(u));
  }

  /** The maps were pinned by an earlier run (adopt() takes them over). */
  get adopted(): boolean {
    return this.dp.adopted;
  }

  /** Why an earlier run's pinned maps could not be reused (they were replaced), if so. */
  get resetPins(): string | undefined {
    return this.dp.resetPins;
  }

  private get base(): Bank {
    return { ops: this.bank * this.half.ops, slots: this.bank * this.half.slots, masks: this.bank * this.half.masks };
  }

  /** The rule-stats slot of an entry, as the maps (and an earlier run) know it. */
  ruleSlot(entryId: number): number | undefined {
    const s = this.compiler.slotOf(entryId);
    return s === undefined ? undefined : s + this.base.slots;
  }

  /** A datapath for one bridge; `instance` names its pinned maps. */
  static open(instance = `br-${randomBytes(4).toString('hex')}`, clock: () => number = Date.now): XdpBridgeDatapath {
    return new XdpBridgeDatapath(Datapath.open(instance), clock);
  }

  /** Set when a port's driver refused native XDP and it runs in generic mode; for the log. */
  onWarning: (text: string) => void = () => undefined;
  /** Where a program's verification time is told (once per hook). */
  set onInfo(cb: (text: string) => void) {
    this.dp.onProgramLoaded = (hook, ms) => cb(`${hook === 'tc' ? 'TC' : 'XDP'} program verified and loaded in ${Math.round(ms)} ms`);
  }

  async addPort(port: BridgePort): Promise<PortAttach> {
    this.ports.set(port.ofport, port);
    this.maps.ofports.update(u32(port.ofport), encodeXswOfport({ ifindex: port.ifindex, config: 0 }));
    const opts = { hook: port.hook, ofport: port.ofport, verdict: { action: 'pipeline' } } as const;
    try {
      return this.dp.addPort(port.ifindex, opts);
    } catch (e) {
      if (port.hook !== 'xdp') throw e;
      // Some drivers have no native XDP; generic XDP runs after the stack built an skb.
      this.onWarning(`${port.name}: native XDP refused (${e instanceof Error ? e.message : String(e)}); attaching in generic mode`);
      return this.dp.addPort(port.ifindex, { ...opts, xdpMode: 'generic' });
    }
  }

  /**
   * Takes over maps an earlier run pinned: compiles `entries` (the flows it persisted,
   * with the rule slots they had) into the bank the maps do not use, switches each table
   * to it, then drops the old bank's rules. Until a table's switch its packets run the old
   * rules, which are the same flows; each entry's old counters are carried over.
   */
  async adopt(pipeline: Pipeline, entries: readonly { entry: FlowEntry; slot?: number }[]): Promise<AdoptedDatapath> {
    const old = new Map<number, number[]>();
    for (let t = 0; t < 255; t++) {
      const v = this.maps.tables.lookup(u32(t));
      if (!v) continue;
      const tb = decodeXswTable(v);
      if (tb.n_masks) old.set(t, tb.masks.filter((_, i) => i % 2 === 0).slice(0, tb.n_masks));
    }
    const oldBank = [...old.values()].flat().some((m) => m >= this.half.masks) ? 1 : 0;
    this.bank = oldBank ^ 1;
    this.pipeline = pipeline;
    let writes: MapWrite[];
    try {
      // Groups first: flows inline their buckets.
      const groups: Delta[] = [...pipeline.groups.values()].map((group) => ({ kind: 'group-add', group }));
      writes = this.compiler.apply([...groups, ...entries.map((e) => ({ kind: 'flow-add' as const, entry: e.entry }))]);
    } catch (e) {
      this.compiler = new PipelineCompiler({ ...this.half }); // nothing was written
      throw e;
    }
    await this.writeAll(writes);
    // Tables the persisted flows no longer use (a change the old run made but never saved).
    const written = new Set(writes.flatMap((w) => (w.map === 'xsw_tables' ? [w.table_id] : [])));
    for (const t of old.keys()) if (!written.has(t)) this.write({ map: 'xsw_tables', table_id: t, masks: [], slow: false });
    // Packets that read a table before its switch finish on the old rules; give them time.
    await new Promise((r) => setTimeout(r, 10));
    const stale: Buffer[] = [];
    const lo = this.base.masks;
    for (const key of this.maps.rules.keys()) {
      const m = decodeXswRuleKey(key).mask_id;
      if (m < lo || m >= lo + this.half.masks) stale.push(key);
    }
    for (const k of stale) this.maps.rules.delete(k);
    let packets = 0n;
    for (const { entry, slot } of entries) {
      if (slot === undefined || (slot >= this.base.slots && slot < this.base.slots + this.half.slots)) continue;
      const c = this.readSlot(slot);
      this.carried.set(entry.id, c);
      packets += c.packets;
    }
    return { flows: entries.length, staleRules: stale.length, packets, bank: this.bank };
  }

  slowCounters(): ReadonlyMap<number, { packets: bigint; bytes: bigint }> {
    return this.slowEntries;
  }

  seedSlowCounters(entryId: number, c: { packets: bigint; bytes: bigint }): void {
    this.slowEntries.set(entryId, { ...c });
  }

  private readSlot(slot: number): { packets: bigint; bytes: bigint; last: bigint } {
    let packets = 0n;
    let bytes = 0n;
    let last = 0n;
    for (const c of this.maps.stats.lookupPerCpu(u32(slot)) ?? []) {
      const s = decodeXswRuleStats(c);
      packets += s.packets;
      bytes += s.bytes;
      if (s.last_used > last) last = s.last_used;
    }
    return { packets, bytes, last };
  }

  async removePort(ofport: number): Promise<void> {
    const p = this.ports.get(ofport);
    if (!p) return;
    this.dp.removePort(p.ifindex);
    this.maps.ofports.delete(u32(ofport));
    this.forgetMacs(ofport);
    this.ports.delete(ofport);
  }

  /** Sets a port's OFPPC config bits (NO_FWD, PORT_DOWN drop its output). */
  setPortConfig(ofport: number, config: number): void {
    const p = this.ports.get(ofport);
    if (p) this.maps.ofports.update(u32(ofport), encodeXswOfport({ ifindex: p.ifindex, config }));
  }

  async apply(pipeline: Pipeline, deltas: readonly Delta[]): Promise<void> {
    this.pipeline = pipeline;
    for (const d of deltas)
      if (d.kind === 'flow-remove') {
        this.carried.delete(d.entry.id);
        this.slowEntries.delete(d.entry.id);
      }
    // What the previous batch freed is no longer read by packets: it can be reused now.
    this.compiler.release();
    await this.writeAll(this.compiler.apply(deltas));
    // The kernel tracker takes ~85 ms to load: with the first ct flow, not its first packet.
    const hasCt = (d: Delta) => (d.kind === 'flow-add' || d.kind === 'flow-modify') && d.entry.instructions.some((i) => i.type === 'APPLY_ACTIONS' && i.actions.some((x) => x.type === 'NX_CT'));
    if (deltas.some(hasCt)) kernelConntrack(this.onWarning);
    for (const d of deltas) if (d.kind === 'port-modify') this.setPortConfig(d.port.desc.port_no, d.port.desc.config);
    this.syncNormal();
  }

  /**
   * The ports' VLAN config (tag, trunks, vlan_mode) into xsw_normal_ports, where NORMAL in
   * the fast path applies it as src/ofproto/normal.ts does; then NORMAL runs there.
   */
  syncNormal(): void {
    if (!this.pipeline) return;
    const ports = this.raw('xsw_normal_ports');
    const want = new Map<number, PortVlan>();
    for (const [n, s] of this.pipeline.ports) if (s.vlan) want.set(n, s.vlan);
    // The first time, what an earlier run left in the pinned map: kept where it is still
    // the config (its MACs too), else rewritten or removed below.
    if (!this.normalFast)
      for (const k of ports.keys()) {
        const n = k.readUInt32LE(0);
        const v = want.get(n);
        const same = v && ports.lookup(k)?.equals(encodeXswNormalPort(normalPortValue(v)));
        if (!this.normalPorts.has(n)) this.normalPorts.set(n, same ? JSON.stringify(v) : '');
      }
    // A port whose VLANs change forgets the MACs it learned, in both tables (as OVS does).
    const changed = (n: number) => {
      this.forgetMacs(n);
      for (const [k, e] of this.pipeline!.fdb) if (e.port === n) this.pipeline!.fdb.delete(k);
    };
    for (const n of [...this.normalPorts.keys()])
      if (!want.has(n)) {
        ports.delete(u32(n));
        this.normalPorts.delete(n);
        changed(n);
      }
    for (const [n, v] of want) {
      const json = JSON.stringify(v);
      if (this.normalPorts.get(n) === json) continue;
      ports.update(u32(n), encodeXswNormalPort(normalPortValue(v)));
      this.normalPorts.set(n, json);
      changed(n);
    }
    // The bridge's aging time; with flood_vlans NORMAL runs in the slow path only (the fast
    // path has no per-VLAN switch; flooding is the slow path's work anyway).
    const cfg = normalConfig(this.pipeline);
    const flood = [...cfg.floodVlans].sort((a, b) => a - b).join(',');
    if (this.normalFast && flood !== this.floodVlans) this.flushMacs(); // as OVS: a new set flushes the table
    this.floodVlans = flood;
    const value = encodeXswNormalConfig({ enabled: flood ? 0 : 1, aging_sec: cfg.agingSec });
    if (this.normalFast && this.lastWritten.get('normal_config')?.equals(value)) return;
    this.raw('xsw_normal_config').update(u32(0), value);
    this.lastWritten.set('normal_config', value);
    this.normalFast = true;
  }

  /** How many MACs the fast path's table holds. */
  macCapacity(): number {
    return this.raw('xsw_macs').maxEntries;
  }

  /** flood_vlans as last applied (sorted, comma-separated). */
  private floodVlans = '';

  /**
   * other_config:mac-table-size below the fast path's table (an LRU of a fixed size): the
   * entries seen longest ago beyond it are removed (called once a second).
   */
  async trimMacs(): Promise<void> {
    if (this.closed || !this.pipeline || !this.normalFast) return;
    const max = normalConfig(this.pipeline).tableSize;
    const macs = this.raw('xsw_macs');
    if (max >= macs.maxEntries) return;
    // One batch read off the JS thread: this runs every second, on tables of thousands.
    const dump = await macs.lookupBatch();
    if (this.closed || dump.count <= max) return;
    const all: [Buffer, bigint][] = [];
    for (const [k, v] of dump.entries()) all.push([k, decodeXswMacEntry(v).seen_ns]);
    all.sort((a, b) => (a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0));
    for (const [k] of all.slice(0, all.length - max)) macs.delete(k);
  }

  /** The MACs the fast path learned on a port that went away. */
  private forgetMacs(ofport: number): void {
    const macs = this.raw('xsw_macs');
    const gone = [...macs.keys()].filter((k) => {
      const v = macs.lookup(k);
      return v && decodeXswMacEntry(v).ofport === ofport;
    });
    for (const k of gone) macs.delete(k);
  }

  /**
   * Before the slow path runs NORMAL on a frame the fast path handed up: what the fast
   * path knows of its destination (it learns from the frames it forwards, which the slow
   * path never sees), so that both send a MAC to the same port.
   */
  private syncMac(dst: Uint8Array, vlanTci: number, in_port: number): void {
    if (!this.pipeline || dst[0]! & 1) return;
    const vlan = ingressVlan(this.pipeline.ports.get(in_port)?.vlan, vlanTci & 0x1000 ? vlanTci & 0xfff : 0);
    if (vlan === undefined) return;
    const mac = BigInt(`0x${Buffer.from(dst).toString('hex')}`);
    const v = this.raw('xsw_macs').lookup(encodeXswMacKey({ mac: dst, vlan }));
    const e = v ? decodeXswMacEntry(v) : undefined;
    if (!e || this.ports.get(e.ofport)?.ifindex !== e.ifindex) return setMacEntry(this.pipeline, vlan, mac, undefined);
    // bpf_ktime_get_coarse_ns and hrtime share CLOCK_MONOTONIC (within a tick).
    const ageMs = Number((process.hrtime.bigint() - e.seen_ns) / 1_000_000n);
    setMacEntry(this.pipeline, vlan, mac, { port: e.ofport, seen: this.clock() - Math.max(ageMs, 0) });
  }

  /**
   * Copies what the fast path learned into the model's table (fdb/show reads it): every
   * live entry on a port of the bridge the model does not know as recently.
   */
  syncFdb(): void {
    if (!this.pipeline) return;
    const now = process.hrtime.bigint();
    const clock = this.clock();
    const macs = this.raw('xsw_macs');
    for (const k of macs.keys()) {
      const v = macs.lookup(k);
      if (!v) continue;
      const key = decodeXswMacKey(k);
      const e = decodeXswMacEntry(v);
      const ageMs = Math.max(0, Number((now - e.seen_ns) / 1_000_000n));
      if (ageMs > normalConfig(this.pipeline).agingSec * 1000 || this.ports.get(e.ofport)?.ifindex !== e.ifindex) continue;
      const mac = BigInt(`0x${Buffer.from(key.mac).toString('hex')}`);
      const seen = clock - ageMs;
      const have = getMacEntry(this.pipeline, key.vlan, mac);
      if (!have || have.seen < seen) setMacEntry(this.pipeline, key.vlan, mac, { port: e.ofport, seen });
    }
  }

  /** Forgets every MAC the fast path learned (fdb/flush). */
  flushMacs(): void {
    const macs = this.raw('xsw_macs');
    for (const k of [...macs.keys()]) macs.delete(k);
  }

  /** MACs the fast path learned, for fdb/show: (VLAN, MAC) → port, age in seconds. */
  /**
   * Tier 2 (src/vswitchd/kernel-tier.ts): packets the fast path leaves for one of these
   * reasons (XSW_UPCALL_* numbers) go to the kernel (XDP_PASS / TC_ACT_OK) instead of the
   * upcall ring, for the kernel openvswitch datapath holding the ports. [] restores the ring.
   */
  passToKernel(reasons: readonly number[]): void {
    const v = Buffer.alloc(4);
    v.writeUInt32LE(reasons.reduce((m, r) => (m | (1 << r)) >>> 0, 0));
    this.raw('xsw_t2_cfg').update(u32(0), v);
  }

  /** Packets handed to the kernel datapath, by reason name (cumulative, all CPUs). */
  passedToKernel(): Map<string, number> {
    const out = new Map<string, number>();
    const m = this.raw('xsw_t2_passed');
    for (const [num, name] of Object.entries(upcallReasonName)) {
      let n = 0n;
      for (const c of m.lookupPerCpu(u32(Number(num))) ?? []) n += c.readBigUInt64LE(0);
      if (n) out.set(name, Number(n));
    }
    return out;
  }

  learnedMacs(): { vlan: number; mac: string; port: number; ageSec: number }[] {
    const macs = this.raw('xsw_macs');
    const now = process.hrtime.bigint();
    const out: { vlan: number; mac: string; port: number; ageSec: number }[] = [];
    for (const k of macs.keys()) {
      const v = macs.lookup(k);
      if (!v) continue;
      const key = decodeXswMacKey(k);
      const e = decodeXswMacEntry(v);
      const mac = [...key.mac].map((b) => b.toString(16).padStart(2, '0')).join(':');
      out.push({ vlan: key.vlan, mac, port: e.ofport, ageSec: Math.max(0, Number((now - e.seen_ns) / 1_000_000_000n)) });
    }
    return out;
  }

  meterCounters(ids: readonly number[]): Map<number, MeterCounters> {
    const out = new Map<number, MeterCounters>();
    const map = this.raw('xsw_meters');
    const key = Buffer.alloc(4);
    for (const id of ids) {
      key.writeUInt32LE(id);
      const v = map.lookup(key);
      if (!v) continue;
      const m = decodeXswMeter(v);
      out.set(id, { packets: m.packets, bytes: m.bytes, bands: Array.from({ length: m.n_bands }, (_, i) => ({ packets: m.band_packets[i] ?? 0n, bytes: m.band_bytes[i] ?? 0n })) });
    }
    return out;
  }

  groupCounters(ids: readonly number[]): Map<number, { packets: bigint; bytes: bigint }> {
    const out = new Map<number, { packets: bigint; bytes: bigint }>();
    const map = this.raw('xsw_group_stats');
    for (const id of ids) {
      const per = map.lookupPerCpu(u32(id));
      if (!per) continue;
      const c = { packets: 0n, bytes: 0n };
      for (const v of per) {
        const g = decodeXswGroupStats(v);
        c.packets += g.packets;
        c.bytes += g.bytes;
      }
      out.set(id, c);
    }
    return out;
  }

  /** One of the object's maps by name, opened once. */
  private raw(name: string): BpfMap {
    return this.rawMaps.get(name) ?? this.rawMaps.set(name, this.dp.map(name)).get(name)!;
  }

  /**
   * The compiler's writes, in its order, with runs of them as one batch syscall each (made
   * off the JS thread): op runs and counter resets (ids nothing reads yet) gathered until the
   * first rule write, then each run of rule updates or of rule deletes. Anything else (masks,
   * tables, the cache generation, meters) is written alone once what precedes it is in.
   */
  private async writeAll(writes: readonly MapWrite[]): Promise<void> {
    if (writes.length < BATCH_MIN) {
      for (const w of writes) this.write(w);
      return;
    }
    const base = this.base;
    const ops = new Packer(this.maps.ops);
    const stats = new Packer(this.maps.stats);
    const rules = new Packer(this.maps.rules);
    let ruleDeletes = false;
    const flushFresh = async () => {
      await ops.flush();
      await stats.flush();
    };
    for (const w of writes) {
      switch (w.map) {
        case 'xsw_ops':
          for (let i = 0; i < w.ops.length; i++) encodeXswOp(w.ops[i]!, ops.next(base.ops + w.index + i));
          continue;
        case 'xsw_rule_stats':
          if (this.needsReset(w.slot)) stats.next(base.slots + w.slot); // values start zeroed
          continue;
        case 'xsw_rules': {
          await flushFresh();
          if (rules.count && ruleDeletes !== !w.rule) await this.flushRules(rules, ruleDeletes);
          ruleDeletes = !w.rule;
          this.ruleKey(w, base, rules.keyAt());
          const v = rules.add();
          if (w.rule) this.ruleValue(w.rule, base, v);
          continue;
        }
        default:
          await flushFresh();
          await this.flushRules(rules, ruleDeletes);
          this.write(w);
      }
    }
    await flushFresh();
    await this.flushRules(rules, ruleDeletes);
  }

  private async flushRules(rules: Packer, deletes: boolean): Promise<void> {
    if (!rules.count) return;
    if (!deletes) return rules.flush();
    const keys = rules.take();
    // A batch delete stops at the first key that is not there; delete() skips it.
    await this.maps.rules.deleteBatch(keys).catch(() => {
      for (let off = 0; off < keys.length; off += this.maps.rules.keySize) this.maps.rules.delete(keys.subarray(off, off + this.maps.rules.keySize));
    });
  }

  /** A rule's map key, its mask id moved into the bank, written into `out`. */
  private ruleKey(w: Extract<MapWrite, { map: 'xsw_rules' }>, base: Bank, out: Buffer): Buffer {
    out.writeUInt32LE(w.table_id, 0);
    out.writeUInt32LE(base.masks + w.mask_id, 4);
    w.key.copy(out, 8);
    return out;
  }

  /** A rule's value, its counter slot and op run moved into the bank, written into `out`. */
  private ruleValue(rule: Buffer, base: Bank, out: Buffer): Buffer {
    rule.copy(out);
    out.writeUInt32LE(rule.readUInt32LE(4) + base.slots, 4);
    out.writeUInt32LE(rule.readUInt32LE(8) + base.ops, 8);
    return out;
  }

  /**
   * Whether a new rule's counter slot must be zeroed: not when the maps were made by this
   * process (zero-filled) and the slot is above every slot used so far (the compiler
   * hands out new slots in order, reused ones below them).
   */
  private needsReset(slot: number): boolean {
    if (this.adopted || slot <= this.usedSlots) return true;
    this.usedSlots = slot;
    return false;
  }

  /** One compiler write, its ids moved into the current bank. */
  private write(w: MapWrite): void {
    const base = this.base;
    switch (w.map) {
      case 'xsw_ops': {
        const buf = Buffer.alloc(XSW_OP_SIZE);
        w.ops.forEach((op, i) => this.maps.ops.update(u32(base.ops + w.index + i), encodeXswOp(op, buf)));
        break;
      }
      case 'xsw_masks':
        this.maps.masks.update(u32(base.masks + w.index), w.mask);
        break;
      case 'xsw_rules': {
        const key = this.ruleKey(w, base, Buffer.alloc(this.maps.rules.keySize));
        if (w.rule) this.maps.rules.update(key, this.ruleValue(w.rule, base, Buffer.alloc(XSW_RULE_SIZE)));
        else this.maps.rules.delete(key);
        break;
      }
      case 'xsw_tables': {
        const masks = new Array<number>(2 * MAX_MASKS).fill(0);
        w.masks.forEach((m, i) => {
          masks[2 * i] = base.masks + m.mask_id;
          masks[2 * i + 1] = m.max_prio;
        });
        this.writeOnce(this.maps.tables, w.table_id, encodeXswTable({ n_masks: w.masks.length, flags: w.slow ? 1 : 0, masks }));
        break;
      }
      case 'xsw_rule_stats':
        if (!this.needsReset(w.slot)) break;
        this.maps.stats.update(u32(base.slots + w.slot), (this.zeroStats ??= Buffer.alloc(this.maps.stats.valueLength)));
        break;
      case 'raw': {
        // Maps without ids to move between banks (the exact-match cache's generation).
        const m = this.raw(w.name);
        if (w.value && w.name === 'xsw_emc_config') this.writeOnce(m, w.key.readUInt32LE(0), w.value);
        else if (w.value) m.update(w.key, w.value);
        else m.delete(w.key);
        break;
      }
    }
  }

  /**
   * Writes an array slot unless it holds that value already (as this process last wrote
   * it): a flow mod applied alone mostly leaves its table's descriptor and the cache's
   * config as they were. Only for maps nothing but this process writes.
   */
  private writeOnce(map: BpfMap, index: number, value: Buffer): void {
    const k = `${map.name}:${index}`;
    if (this.lastWritten.get(k)?.equals(value)) return;
    map.update(u32(index), value);
    this.lastWritten.set(k, value);
  }

  flowCounters(): Map<number, FlowCounters> {
    return this.countersFrom((slot) => this.readSlot(slot));
  }

  /**
   * flowCounters() from one batch read of the counters map, made off the JS thread: with
   * many flows, one syscall instead of one per flow.
   */
  async readFlowCounters(): Promise<Map<number, FlowCounters>> {
    if (!this.pipeline) return new Map();
    let n = 0;
    for (const t of this.pipeline.tables) n += t.entries.size;
    if (n < BATCH_MIN) return this.flowCounters();
    const dump = await this.maps.stats.lookupBatch(this.base.slots + this.half.slots);
    const vlen = this.maps.stats.valueLength;
    const cpus = vlen / XSW_RULE_STATS_SIZE;
    const v = dump.values;
    const none = { packets: 0n, bytes: 0n, last: 0n };
    return this.countersFrom((slot) => {
      if (slot >= dump.count) return none;
      // Most rules of a large table were never hit: no bigint arithmetic for them.
      let hit = 0;
      for (let c = 0, off = slot * vlen; c < cpus; c++, off += XSW_RULE_STATS_SIZE) hit |= v.readUInt32LE(off) | v.readUInt32LE(off + 4);
      if (!hit) return none;
      let packets = 0n;
      let bytes = 0n;
      let last = 0n;
      for (let c = 0, off = slot * vlen; c < cpus; c++, off += XSW_RULE_STATS_SIZE) {
        packets += v.readBigUInt64LE(off);
        bytes += v.readBigUInt64LE(off + 8);
        const l = v.readBigUInt64LE(off + 16);
        if (l > last) last = l;
      }
      return { packets, bytes, last };
    });
  }

  private countersFrom(read: (slot: number) => { packets: bigint; bytes: bigint; last: bigint }): Map<number, FlowCounters> {
    const out = new Map<number, FlowCounters>();
    if (!this.pipeline) return out;
    const nowNs = process.hrtime.bigint();
    for (const t of this.pipeline.tables)
      for (const e of t.entries) {
        const slot = this.ruleSlot(e.id);
        if (slot === undefined) continue;
        let { packets, bytes, last } = read(slot);
        const carried = this.carried.get(e.id);
        if (carried) {
          packets += carried.packets;
          bytes += carried.bytes;
          if (carried.last > last) last = carried.last;
        }
        // bpf_ktime_get_ns and hrtime share CLOCK_MONOTONIC.
        const lastUsed = last ? this.clock() - Number((nowNs - last) / 1_000_000n) : undefined;
        const slow = this.slowEntries.get(e.id);
        if (slow) {
          packets += slow.packets;
          bytes += slow.bytes;
        }
        out.set(e.id, { packets, bytes, ...(lastUsed !== undefined ? { lastUsed } : {}) });
      }
    return out;
  }

  tableCounters(): Map<number, TableCounters> {
    const out = new Map<number, TableCounters>();
    for (let t = 0; t < 255; t++) {
      let lookups = 0n;
      let matched = 0n;
      for (const c of this.maps.tableStats.lookupPerCpu(u32(t)) ?? []) {
        const s = decodeXswTableStats(c);
        lookups += s.lookups;
        matched += s.matched;
      }
      const slow = this.slowTables.get(t);
      if (slow) {
        lookups += slow.lookups;
        matched += slow.matched;
      }
      if (lookups) out.set(t, { lookups, matched });
    }
    return out;
  }

  portCounters(ofport: number): PortCounters | undefined {
    const p = this.ports.get(ofport);
    if (!p) return undefined;
    const s = this.dp.portStats(p.ifindex);
    return { rx_packets: s.rx_packets, rx_bytes: s.rx_bytes, tx_packets: s.tx_packets, tx_bytes: s.tx_bytes, rx_dropped: s.drops, tx_dropped: 0n };
  }

  async transmit(ofport: number, frame: Buffer): Promise<void> {
    const p = this.ports.get(ofport);
    if (!p) return;
    sendFrame(p.ifindex, frame);
  }

  onPacketIn(cb: (p: DatapathPacketIn) => void): void {
    this.packetInCbs.push(cb);
  }

  private upcall(u: XswUpcall): void {
    const reason = upcallReasonName[u.reason] ?? `reason ${u.reason}`;
    this.slowPath.byReason.set(reason, (this.slowPath.byReason.get(reason) ?? 0) + 1);
    // The parser put the ingress port's OpenFlow number in the key (0: not a port of ours).
    const in_port = u.key.in_port;
    if (!this.ports.has(in_port) || !this.pipeline) return;
    let frame = Buffer.from(u.data.subarray(0, u.cap_len));
    // At TC the device may keep the outer tag in skb metadata: put it back in the frame.
    if (u.vlan_meta && frame.length >= 12) {
      const tag = Buffer.alloc(4);
      tag.writeUInt32BE(u.vlan_meta >>> 0);
      frame = Buffer.concat([frame.subarray(0, 12), tag, frame.subarray(12)]);
    }
    if (u.reason === XswUpcallReason.XSW_UPCALL_ACTION) {
      // The fast path ran the rules and rewrote the frame: only the packet-in is left.
      const entry = this.pipeline.tables[u.table_id]?.entries;
      const e = entry && [...entry].find((x) => this.ruleSlot(x.id) === u.rule_id);
      const isMiss = e && e.priority === 0 && e.match.length === 0;
      // Unbuffered packet-ins carry the whole frame, whatever max_len says (OF1.3 §7.4.1).
      const total_len = u.frame_len + (u.vlan_meta ? 4 : 0);
      for (const cb of this.packetInCbs)
        cb({ in_port, reason: isMiss ? OFPR.NO_MATCH : OFPR.ACTION, table_id: u.table_id, entryId: e?.id ?? 0, data: frame, total_len });
      return;
    }
    // The slow path: the reference interpreter runs the packet from the start and
    // counts it in the model (the fast path counted nothing for it).
    // ct actions use the kernel's conntrack table where the kernel lets BPF reach it.
    if (u.reason === XswUpcallReason.XSW_UPCALL_NORMAL_FLOOD || u.reason === XswUpcallReason.XSW_UPCALL_NORMAL_SLOW) this.syncMac(u.key.eth_dst, u.key.vlan_tci, in_port);
    const ct = kernelConntrack(this.onWarning);
    // The meters the fast path ran before the packet left already metered and counted it.
    const res = trace(this.pipeline, in_port, frame, this.clock(), { ...(ct ? { conntrack: ct } : {}), skipMeters: u.meters });
    for (const e of res.counters.entries) {
      const c = this.slowEntries.get(e.id) ?? { packets: 0n, bytes: 0n };
      c.packets++;
      c.bytes += BigInt(frame.length);
      this.slowEntries.set(e.id, c);
    }
    for (const t of res.counters.tables) {
      const c = this.slowTables.get(t) ?? { lookups: 0n, matched: 0n };
      c.lookups++;
      if (!res.counters.missed.includes(t)) c.matched++;
      this.slowTables.set(t, c);
    }
    for (const o of res.outputs) void this.transmit(o.port, o.frame).catch(() => this.slowPath.txErrors++);
    for (const pi of res.packetIns) {
      const e = res.counters.entries.at(-1);
      for (const cb of this.packetInCbs) cb({ in_port, reason: pi.reason, table_id: pi.table_id, entryId: e?.id ?? 0, data: pi.data, total_len: pi.total_len });
    }
  }

  async close(opts: { keepPinned?: boolean } = {}): Promise<void> {
    this.closed = true;
    for (const m of [...Object.values(this.maps), ...this.rawMaps.values()]) m.close();
    // Pinned means the maps and the XDP attachments outlive this process.
    this.dp.close({ unpin: !opts.keepPinned, keepAttached: opts.keepPinned === true });
  }
}

