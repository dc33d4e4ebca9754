// src/vswitchd/flow-store.ts — a bridge's OpenFlow state on disk, kept as it changes, so a
// daemon restarted after a crash (kill -9 included) finds the flows its pinned datapath still
// runs: `<rundir>/<bridge>.ofstate` is a snapshot line, then one line per applied batch. Each
// line is one write(2) made before the barrier reply; compaction writes a new file and renames
// it over the old one. Like the pins, it need not outlive a reboot, so nothing is fsynced.
// A flow is written as one compact array (its match as the model's own mask signature and
// key strings, its instructions' JSON made once per shared instructions object), so that
// persisting a batch of 100,000 flows is a string join, not a JSON walk of every entry.
import { closeSync, existsSync, openSync, readFileSync, renameSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import type { FlowEntry } from '../ofproto/classifier.js';
import type { Group } from '../ofproto/group.js';
import { OFPPC } from '../../proto/openflow/constants.js';
import { maskSignature, matchKey, type Match } from '../ofproto/match.js';
import type { Instruction } from '../../proto/openflow/instructions.js';
import type { OxmName } from '../../proto/openflow/oxm.js';
import type { Meter } from '../ofproto/meter.js';
import { insertEntry, type Delta, type Pipeline } from '../ofproto/pipeline.js';

/** What the flows were last flushed for (vswitchd flushes when either changes). */
export interface FlushedFor {
  failMode: string;
  controllers: boolean;
}

type StoredEntry = Omit<FlowEntry, 'sig' | 'key' | 'packet_count' | 'byte_count'>;
/** An entry and the datapath's counter slot for it (how a restart finds its counters). */
interface StoredFlow {
  e: StoredEntry;
  s?: number;
}
/** A stored flow as read back: the long form earlier versions wrote, or the compact one. */
type ReadFlow = StoredFlow | CompactFlow;

/** What the slow path counted for an entry: [id, packets, bytes]. */
type SlowCount = [number, bigint, bigint];
export type SlowCounters = ReadonlyMap<number, { packets: bigint; bytes: bigint }>;

/** A group's counters: [group_id, packets, bytes, [packets, bytes] per bucket]. */
type GroupCount = [number, bigint, bigint, [bigint, bigint][]];
/** PORT_MOD's config bits of a port (all but PORT_DOWN, which follows the device), by port name. */
type PortConfigs = Record<string, number>;

interface Snapshot {
  v: 1;
  next: number;
  flows: ReadFlow[];
  groups: Group[];
  meters: Meter[];
  flushed?: FlushedFor;
  slow?: SlowCount[];
  ports?: PortConfigs;
  gcount?: GroupCount[];
}

interface Change {
  put?: ReadFlow[];
  del?: number[];
  gput?: Group[];
  gdel?: number[];
  mput?: Meter[];
  mdel?: number[];
  next?: number;
  flushed?: FlushedFor;
  slow?: SlowCount[];
  ports?: PortConfigs;
  gcount?: GroupCount[];
}

export interface SavedState {
  nextEntryId: number;
  flows: { entry: FlowEntry; slot?: number; slow?: { packets: bigint; bytes: bigint } }[];
  groups: Group[];
  meters: Meter[];
  flushed?: FlushedFor;
  /** PORT_MOD config bits by port name (PORT_DOWN excluded). */
  portConfig: Map<string, number>;
  /** Lines of the file that could not be read (a torn last line after a crash). */
  skipped: number;
}

/** The config bits PORT_MOD sets that a restart puts back (PORT_DOWN follows the device). */
const KEPT_PORT_BITS = ~OFPPC.PORT_DOWN >>> 0;

/** What of a pipeline's ports PORT_MOD changed, by name. */
function portConfigs(p: Pipeline): PortConfigs {
  const out: PortConfigs = {};
  for (const s of p.ports.values()) if (s.desc.config & KEPT_PORT_BITS) out[s.desc.name] = s.desc.config & KEPT_PORT_BITS;
  return out;
}

const groupCount = (g: Group): GroupCount => [g.group_id, g.packet_count, g.byte_count, g.buckets.map((b) => [b.packet_count, b.byte_count])];

// bigint and bytes do not survive JSON as themselves: tagged objects stand for them.
function replacer(this: Record<string, unknown>, k: string, v: unknown): unknown {
  const raw = this[k];
  if (raw instanceof Uint8Array) return { $x: Buffer.from(raw).toString('hex') };
  if (typeof v === 'bigint') return { $n: v.toString() };
  return v;
}

function reviver(_k: string, v: unknown): unknown {
  if (v && typeof v === 'object' && !Array.isArray(v)) {
    const o = v as Record<string, unknown>;
    if (typeof o.$n === 'string' && Object.keys(o).length === 1) return BigInt(o.$n);
    if (typeof o.$x === 'string' && Object.keys(o).length === 1) return Buffer.from(o.$x, 'hex');
  }
  return v;
}

const encode = (x: Snapshot | Change): string => `${JSON.stringify(x, replacer)}\n`;

/**
 * A flow as written: [id, table_id, priority, cookie (hex), idle_timeout, hard_timeout, flags,
 * installed, last_used, sig, key, instructions, slot (-1: none)].
 */
type CompactFlow = [number, number, number, string, number, number, number, number, number, string, string, Instruction[], number];

/** Instructions' JSON by object: the model shares one object among flows with equal instructions. */
const instructionJson = new WeakMap<readonly Instruction[], string>();

function compact(e: FlowEntry, slotOf: (id: number) => number | undefined): string {
  let ins = instructionJson.get(e.instructions);
  if (ins === undefined) instructionJson.set(e.instructions, (ins = JSON.stringify(e.instructions, replacer)));
  const s = slotOf(e.id);
  return `[${e.id},${e.table_id},${e.priority},"${e.cookie.toString(16)}",${e.idle_timeout},${e.hard_timeout},${e.flags},${e.installed},${e.last_used},${JSON.stringify(e.sig)},${JSON.stringify(e.key)},${ins},${s ?? -1}]`;
}

/** The match a mask signature and key stand for (maskSignature() and matchKey() reversed). */
function matchOf(sig: string, key: string): Match {
  if (!sig) return [];
  const values = key.split(',');
  return sig.split(',').map((f, i) => {
    const slash = f.lastIndexOf('/');
    return { field: f.slice(0, slash) as OxmName, value: BigInt(`0x${values[i]}`), mask: BigInt(`0x${f.slice(slash + 1)}`) };
  });
}

function expand(f: StoredFlow | CompactFlow): StoredFlow {
  if (!Array.isArray(f)) return f;
  const [id, table_id, priority, cookie, idle_timeout, hard_timeout, flags, installed, last_used, sig, key, instructions, s] = f;
  const e: StoredEntry = { id, table_id, priority, match: matchOf(sig, key), cookie: BigInt(`0x${cookie}`), idle_timeout, hard_timeout, flags, instructions, installed, last_used };
  return s < 0 ? { e } : { e, s };
}

/** A change line with its flows written compactly (the rest as JSON). */
function encodeChange(c: Omit<Change, 'put'>, put: readonly string[] | undefined): string {
  // Deletes, the next id and flush state hold no bigints or bytes: no replacer (V8's fast path).
  const rest = c.gput || c.mput || c.slow ? JSON.stringify(c, replacer) : JSON.stringify(c);
  if (!put) return `${rest}\n`;
  return `{"put":[${put.join(',')}]${rest === '{}' ? '' : `,${rest.slice(1, -1)}`}}\n`;
}

export class FlowStore {
  private fd?: number;
  private lines = 0;
  private flows = 0;
  /** Slow-path counts as last written, to write only what changed. */
  private slowWritten = new Map<number, bigint>();
  private groupsWritten = new Map<number, bigint>();
  private readonly pendingPorts: PortConfigs = {};

  constructor(
    readonly path: string,
    private readonly slotOf: (id: number) => number | undefined = () => undefined,
    /** The slow path's counts, carried into snapshots the store makes itself. */
    private readonly slowSource?: () => SlowCounters | undefined,
  ) {}

  /** Reads a bridge's saved state; undefined when there is none or its snapshot is unreadable. */
  static load(path: string): SavedState | undefined {
    if (!existsSync(path)) return undefined;
    const lines = readFileSync(path, 'utf8').split('\n').filter((l) => l.length);
    let snap: Snapshot;
    try {
      snap = JSON.parse(lines[0] ?? '', reviver) as Snapshot;
      if (snap.v !== 1) return undefined;
    } catch {
      return undefined;
    }
    const flows = new Map(snap.flows.map((x) => { const f = expand(x); return [f.e.id, f]; }));
    const groups = new Map(snap.groups.map((g) => [g.group_id, g]));
    const meters = new Map(snap.meters.map((m) => [m.meter_id, m]));
    let next = snap.next;
    let flushed = snap.flushed;
    let skipped = 0;
    const slow = new Map((snap.slow ?? []).map(([id, packets, bytes]) => [id, { packets, bytes }]));
    const ports = new Map(Object.entries(snap.ports ?? {}));
    const gcount = new Map((snap.gcount ?? []).map((c) => [c[0], c]));
    for (const line of lines.slice(1)) {
      let c: Change;
      try {
        c = JSON.parse(line, reviver) as Change;
      } catch {
        skipped++;
        continue;
      }
      for (const id of c.del ?? []) flows.delete(id);
      for (const x of c.put ?? []) {
        const f = expand(x);
        flows.set(f.e.id, { ...f, s: f.s ?? flows.get(f.e.id)?.s });
      }
      for (const id of c.gdel ?? []) groups.delete(id);
      for (const g of c.gput ?? []) groups.set(g.group_id, g);
      for (const id of c.mdel ?? []) meters.delete(id);
      for (const m of c.mput ?? []) meters.set(m.meter_id, m);
      if (c.next !== undefined) next = c.next;
      if (c.flushed) flushed = c.flushed;
      for (const [id, packets, bytes] of c.slow ?? []) slow.set(id, { packets, bytes });
      for (const [name, bits] of Object.entries(c.ports ?? {})) ports.set(name, bits);
      for (const g of c.gcount ?? []) gcount.set(g[0], g);
    }
    for (const g of groups.values()) {
      const c = gcount.get(g.group_id);
      if (!c) continue;
      [g.packet_count, g.byte_count] = [c[1], c[2]];
      g.buckets.forEach((b, i) => ([b.packet_count, b.byte_count] = c[3][i] ?? [0n, 0n]));
    }
    return {
      nextEntryId: next,
      flows: [...flows.values()].map((f) => ({
        entry: { ...f.e, sig: maskSignature(f.e.match), key: matchKey(f.e.match), packet_count: 0n, byte_count: 0n },
        ...(f.s !== undefined ? { slot: f.s } : {}),
        ...(slow.has(f.e.id) ? { slow: slow.get(f.e.id)! } : {}),
      })),
      groups: [...groups.values()],
      meters: [...meters.values()],
      ...(flushed ? { flushed } : {}),
      portConfig: new Map([...ports].filter(([, bits]) => bits)),
      skipped,
    };
  }

  /** Writes the whole state as a new file (write, then rename over the old one). */
  snapshot(p: Pipeline, flushed: FlushedFor | undefined, slowCounts?: SlowCounters): void {
    const flows: string[] = [];
    const live = new Set<number>();
    for (const t of p.tables)
      for (const e of t.entries) {
        flows.push(compact(e, this.slotOf));
        live.add(e.id);
      }
    const slow: SlowCount[] = [...(slowCounts ?? [])].filter(([id]) => live.has(id)).map(([id, c]) => [id, c.packets, c.bytes]);
    this.slowWritten = new Map(slow.map(([id, packets]) => [id, packets]));
    const ports = { ...this.pendingPorts, ...portConfigs(p) };
    this.groupsWritten = new Map([...p.groups.values()].map((g) => [g.group_id, g.packet_count]));
    const snap: Snapshot = {
      v: 1, next: p.nextEntryId, flows: [], groups: [...p.groups.values()], meters: [...p.meters.values()], ...(flushed ? { flushed } : {}), ...(slow.length ? { slow } : {}),
      ...(Object.keys(ports).length ? { ports } : {}),
    };
    const tmp = `${this.path}.tmp`;
    // The flows go in as compact arrays, joined in place of the empty list.
    writeFileSync(tmp, encode(snap).replace('"flows":[]', `"flows":[${flows.join(',')}]`));
    this.closeFd();
    renameSync(tmp, this.path);
    this.fd = openSync(this.path, 'a');
    this.lines = 0;
    this.flows = flows.length;
  }

  /** Appends one applied batch; compacts once the changes outgrow the flows they describe. */
  record(p: Pipeline, deltas: readonly Delta[], flushed: FlushedFor | undefined): void {
    const c: Omit<Change, 'put'> = {};
    let put: string[] | undefined;
    for (const d of deltas) {
      switch (d.kind) {
        case 'flow-add':
        case 'flow-modify':
          (put ??= []).push(compact(d.entry, this.slotOf));
          if (d.kind === 'flow-add') this.flows++;
          break;
        case 'flow-remove':
          (c.del ??= []).push(d.entry.id);
          this.flows--;
          break;
        case 'group-add':
        case 'group-modify':
          (c.gput ??= []).push(d.group);
          break;
        case 'group-remove':
          (c.gdel ??= []).push(d.group.group_id);
          break;
        case 'meter-add':
        case 'meter-modify':
          (c.mput ??= []).push(d.meter);
          break;
        case 'meter-remove':
          (c.mdel ??= []).push(d.meter.meter_id);
          break;
        case 'port-modify':
          c.ports = { ...c.ports, [d.port.desc.name]: d.port.desc.config & KEPT_PORT_BITS };
          delete this.pendingPorts[d.port.desc.name];
          break;
      }
    }
    if (!put && !c.del && !c.gput && !c.gdel && !c.mput && !c.mdel && !c.ports) return;
    c.next = p.nextEntryId;
    if (this.lines > 1000 && this.lines > 2 * this.flows) return this.snapshot(p, flushed, this.slowSource?.());
    this.write(encodeChange(c, put));
  }

  /**
   * Appends the slow path's counts that changed since the last call (the daemon calls this
   * once a second: a crash loses at most that second of them).
   */
  recordSlow(counts: SlowCounters): void {
    const changed: SlowCount[] = [];
    for (const [id, c] of counts) {
      if (this.slowWritten.get(id) === c.packets) continue;
      this.slowWritten.set(id, c.packets);
      changed.push([id, c.packets, c.bytes]);
    }
    if (changed.length) this.append({ slow: changed });
  }

  /**
   * Appends the groups' counters that changed since the last call (the slow path counts
   * them; the daemon calls this once a second).
   */
  recordGroups(p: Pipeline): void {
    const changed: GroupCount[] = [];
    for (const g of p.groups.values()) {
      if (this.groupsWritten.get(g.group_id) === g.packet_count) continue;
      this.groupsWritten.set(g.group_id, g.packet_count);
      changed.push(groupCount(g));
    }
    if (changed.length) this.append({ gcount: changed });
  }

  /**
   * Port config bits an earlier run saved for ports not attached yet: kept in snapshots
   * until the port is back and its bits are recorded as a port-modify.
   */
  keepPortConfig(saved: ReadonlyMap<string, number>): void {
    for (const [name, bits] of saved) this.pendingPorts[name] = bits;
  }

  /** Records what the flows were flushed for. */
  setFlushed(flushed: FlushedFor): void {
    this.append({ flushed });
  }

  private append(c: Change): void {
    this.write(encode(c));
  }

  private write(line: string): void {
    if (this.fd === undefined) this.fd = openSync(this.path, 'a');
    writeSync(this.fd, line);
    this.lines++;
  }

  private closeFd(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }

  close(): void {
    this.closeFd();
  }

  /** Closes and deletes the file (the bridge is gone, or shut down cleanly). */
  remove(): void {
    this.closeFd();
    rmSync(this.path, { force: true });
  }
}

/** Puts saved flows, groups and meters back into a fresh pipeline; returns the flows for the datapath. */
export function restoreInto(p: Pipeline, s: SavedState): SavedState['flows'] {
  for (const g of s.groups) p.groups.set(g.group_id, g);
  for (const m of s.meters) p.meters.set(m.meter_id, m);
  let next = s.nextEntryId;
  for (const f of s.flows) {
    insertEntry(p, f.entry);
    if (f.entry.id >= next) next = f.entry.id + 1;
  }
  p.nextEntryId = next;
  return s.flows;
}
