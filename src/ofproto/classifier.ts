// src/ofproto/classifier.ts — one OpenFlow table as a tuple-space classifier: a hash per
// distinct mask, the masks walked in order of the highest priority under each so a lookup
// stops early. The same shape the BPF datapath compiles to (design.md). Counts its hash
// probes so tests can assert on cost without timing.
import type { Instruction } from '../../proto/openflow/instructions.js';
import { covers, maskSignature, matchKey, overlaps, type FlowKey, type Match, type MatchField } from './match.js';

export interface FlowEntry {
  readonly id: number;
  table_id: number;
  priority: number;
  match: Match;
  /** maskSignature(match) and matchKey(match), computed once. */
  readonly sig: string;
  readonly key: string;
  cookie: bigint;
  idle_timeout: number;
  hard_timeout: number;
  flags: number;
  instructions: readonly Instruction[];
  packet_count: bigint;
  byte_count: bigint;
  /** ms, caller's clock. */
  installed: number;
  last_used: number;
}

interface Subtable {
  readonly sig: string;
  readonly fields: readonly Pick<MatchField, 'field' | 'mask'>[];
  /** masked key → entries with that match, highest priority first. */
  readonly byKey: Map<string, FlowEntry[]>;
  maxPriority: number;
  size: number;
  /** priority → entries with it, so removing the top entry finds the next maximum without a scan. */
  readonly priorities: Map<number, number>;
}

export class FlowTable {
  readonly entries = new Set<FlowEntry>();
  /** Entries with an idle or hard timeout: what expire() walks. */
  readonly timed = new Set<FlowEntry>();
  lookup_count = 0n;
  matched_count = 0n;
  /** Hash probes made by lookups, for cost assertions. */
  probes = 0;
  /** Entries compared one by one by non-strict searches, for cost assertions. */
  scanned = 0;
  private readonly subtables = new Map<string, Subtable>();
  private order: Subtable[] = [];
  private dirty = false;
  /** priority → entries, for CHECK_OVERLAP; built on its first use and kept from then on. */
  private byPriority: Map<number, Set<FlowEntry>> | undefined;

  constructor(readonly table_id: number) {}

  get size(): number {
    return this.entries.size;
  }
  get subtableCount(): number {
    return this.subtables.size;
  }

  /** `sig` as the subtable already holds it, so entries of one mask share one string. */
  internSig(sig: string): string {
    return this.subtables.get(sig)?.sig ?? sig;
  }

  /** The entry with this exact match and priority (strict modify/delete, ADD replace). */
  findStrict(match: Match, priority: number, sig = maskSignature(match), key = matchKey(match)): FlowEntry | undefined {
    const st = this.subtables.get(sig);
    return st?.byKey.get(key)?.find((e) => e.priority === priority);
  }

  /** Entries whose match is within `match` (non-strict modify/delete, stats filters). */
  findCovered(match: Match): FlowEntry[] {
    if (match.length === 0) return [...this.entries];
    const out: FlowEntry[] = [];
    const sig = maskSignature(match);
    for (const st of this.subtables.values()) {
      // The filter's own mask: covered entries are exactly those with its key, one probe.
      if (st.sig === sig) {
        this.probes++;
        out.push(...(st.byKey.get(matchKey(match)) ?? []));
        continue;
      }
      // Otherwise a subtable can only hold covered entries if its masks include the filter's.
      const ok = match.every((f) => st.fields.some((g) => g.field === f.field && (g.mask & f.mask) === f.mask));
      if (!ok) continue;
      for (const list of st.byKey.values()) {
        for (const e of list) {
          this.scanned++;
          if (covers(match, e.match)) out.push(e);
        }
      }
    }
    return out;
  }

  /** An entry of the same priority that one packet could match along with `match`. */
  findOverlap(match: Match, priority: number): FlowEntry | undefined {
    if (!this.byPriority) {
      this.byPriority = new Map();
      for (const e of this.entries) this.indexPriority(e);
    }
    for (const e of this.byPriority.get(priority) ?? []) if (overlaps(match, e.match)) return e;
    return undefined;
  }

  insert(e: FlowEntry): void {
    const sig = e.sig;
    let st = this.subtables.get(sig);
    if (!st) {
      st = { sig, fields: e.match.map((f) => ({ field: f.field, mask: f.mask })), byKey: new Map(), maxPriority: -1, size: 0, priorities: new Map() };
      this.subtables.set(sig, st);
      this.dirty = true;
    }
    const key = e.key;
    const list = st.byKey.get(key);
    if (list) {
      let i = 0;
      while (i < list.length && list[i]!.priority >= e.priority) i++;
      list.splice(i, 0, e);
    } else st.byKey.set(key, [e]);
    st.size++;
    st.priorities.set(e.priority, (st.priorities.get(e.priority) ?? 0) + 1);
    if (e.priority > st.maxPriority) {
      st.maxPriority = e.priority;
      this.dirty = true;
    }
    this.entries.add(e);
    if (e.idle_timeout || e.hard_timeout) this.timed.add(e);
    if (this.byPriority) this.indexPriority(e);
  }

  private indexPriority(e: FlowEntry): void {
    let p = this.byPriority!.get(e.priority);
    if (!p) this.byPriority!.set(e.priority, (p = new Set()));
    p.add(e);
  }

  remove(e: FlowEntry): void {
    if (!this.entries.delete(e)) return;
    this.timed.delete(e);
    const same = this.byPriority?.get(e.priority);
    if (same) {
      same.delete(e);
      if (same.size === 0) this.byPriority!.delete(e.priority);
    }
    const st = this.subtables.get(e.sig)!;
    const key = e.key;
    const list = st.byKey.get(key)!;
    list.splice(list.indexOf(e), 1);
    if (list.length === 0) st.byKey.delete(key);
    st.size--;
    const left = st.priorities.get(e.priority)! - 1;
    if (left) st.priorities.set(e.priority, left);
    else st.priorities.delete(e.priority);
    if (st.size === 0) {
      this.subtables.delete(st.sig);
      this.dirty = true;
    } else if (!left && e.priority === st.maxPriority) {
      // The last entry at the subtable's top priority went: the next one down (few distinct priorities).
      let max = -1;
      for (const q of st.priorities.keys()) if (q > max) max = q;
      st.maxPriority = max;
      this.dirty = true;
    }
  }

  /** The highest-priority entry matching `k`, without touching counters. */
  lookup(k: FlowKey): FlowEntry | undefined {
    if (this.dirty) {
      this.order = [...this.subtables.values()].sort((a, b) => b.maxPriority - a.maxPriority);
      this.dirty = false;
    }
    let best: FlowEntry | undefined;
    for (const st of this.order) {
      if (best && st.maxPriority <= best.priority) break;
      let key = '';
      let ok = true;
      for (let i = 0; i < st.fields.length; i++) {
        const f = st.fields[i]!;
        const v = k[f.field];
        if (v === undefined) {
          ok = false;
          break;
        }
        key += (i ? ',' : '') + (v & f.mask).toString(16);
      }
      if (!ok) continue;
      this.probes++;
      const hit = st.byKey.get(key)?.[0];
      if (hit && (!best || hit.priority > best.priority)) best = hit;
    }
    return best;
  }
}
