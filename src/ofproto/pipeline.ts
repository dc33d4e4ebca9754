// src/ofproto/pipeline.ts — the OpenFlow pipeline model of one bridge: tables 0-254,
// groups, meters, ports and the switch config. Pure data, changed only through the
// *-mod functions, which return what changed (deltas) for src/datapath to compile.
import { OFPTT } from '../../proto/openflow/constants.js';
import { FlowTable, type FlowEntry } from './classifier.js';
import type { Group } from './group.js';
import type { Meter } from './meter.js';
import type { MacEntry } from './normal.js';
import type { PortState } from './port.js';

export const N_TABLES = OFPTT.MAX + 1;
/**
 * Tables a controller sees and writes: 0-253. As in OVS, table 254 exists but is hidden
 * from stats and features and refuses flows (OFPBRC_EPERM), so dump-tables agree.
 */
export const N_VISIBLE_TABLES = OFPTT.MAX;

export type Delta =
  | { kind: 'flow-add'; entry: FlowEntry }
  | { kind: 'flow-modify'; entry: FlowEntry }
  | { kind: 'flow-remove'; entry: FlowEntry; reason: number }
  | { kind: 'group-add' | 'group-modify' | 'group-remove'; group: Group }
  | { kind: 'meter-add' | 'meter-modify' | 'meter-remove'; meter: Meter }
  | { kind: 'port-modify'; port: PortState };

export class Pipeline {
  readonly tables: FlowTable[] = Array.from({ length: N_TABLES }, (_, i) => new FlowTable(i));
  readonly groups = new Map<number, Group>();
  readonly meters = new Map<number, Meter>();
  readonly ports = new Map<number, PortState>();
  /** OFPT_SET_CONFIG flags (OFPC_FRAG_*). */
  config_flags = 0;
  /** VLAN tags parsed at ingress, 1 or 2 (Open_vSwitch other_config:vlan-limit, OVS default 1). */
  vlan_limit = 1;
  /** OFPP_NORMAL's learned MACs, by `vid/mac`. */
  readonly fdb = new Map<string, MacEntry>();
  /** Ids for flow entries, so the datapath can name them. */
  nextEntryId = 1;
  /** While a bundle is applied: how to undo each change, newest last. */
  journal: (() => void)[] | undefined;
  /** ms of the caller's clock at creation, for port stats durations. */
  constructor(readonly created = 0) {}
}

/** Records how to undo a change, when a bundle is being applied. */
export function undoable(p: Pipeline, undo: () => void): void {
  p.journal?.push(undo);
}

export function insertEntry(p: Pipeline, e: FlowEntry): void {
  const t = p.tables[e.table_id]!;
  t.insert(e);
  undoable(p, () => t.remove(e));
}

export function removeEntry(p: Pipeline, e: FlowEntry): void {
  const t = p.tables[e.table_id]!;
  t.remove(e);
  undoable(p, () => t.insert(e));
}

export function createPipeline(now = 0): Pipeline {
  return new Pipeline(now);
}

/** seconds and nanoseconds since `since`, both on the caller's ms clock. */
export function duration(since: number, now: number): { duration_sec: number; duration_nsec: number } {
  const ms = Math.max(0, now - since);
  return { duration_sec: Math.floor(ms / 1000), duration_nsec: Math.round((ms % 1000) * 1e6) };
}
