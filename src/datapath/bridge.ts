// What src/vswitchd needs from the datapath of one bridge: ports attached at their hook,
// the OpenFlow pipeline's changes compiled into the BPF maps, counters read back,
// packet-in and packet-out. src/vswitchd programs against this interface; the XDP
// implementation (compiler + bpf/xdpswitch.bpf.c) lives beside it in src/datapath.
import type { FlowEntry } from '../ofproto/classifier.js';
import type { Delta, Pipeline } from '../ofproto/pipeline.js';
import type { Hook, PortAttach } from './datapath.js';

export interface BridgePort {
  /** OpenFlow port number. */
  ofport: number;
  ifindex: number;
  name: string;
  /** Where the pipeline runs for frames arriving on this port. */
  hook: Hook;
}

export interface PortCounters {
  rx_packets: bigint;
  rx_bytes: bigint;
  tx_packets: bigint;
  tx_bytes: bigint;
  rx_dropped: bigint;
  tx_dropped: bigint;
}

export interface FlowCounters {
  packets: bigint;
  bytes: bigint;
  /** Time of the last hit on the caller's clock (ms), when the datapath saw one. */
  lastUsed?: number;
}

/** What the datapath metered itself (the slow path counts in the model), since the meter was last written. */
export interface MeterCounters {
  packets: bigint;
  bytes: bigint;
  /** Per band, in the meter's band order: packets and bytes that exceeded it. */
  bands: { packets: bigint; bytes: bigint }[];
}

export interface TableCounters {
  lookups: bigint;
  matched: bigint;
}

/** A frame the pipeline sends to the controller (output:CONTROLLER or a table miss). */
export interface DatapathPacketIn {
  in_port: number;
  /** ofp_packet_in_reason. */
  reason: number;
  table_id: number;
  /** FlowEntry.id of the rule that sent it (its cookie is in the model). */
  entryId: number;
  /** Bytes to send, already cut to max_len / miss_send_len. */
  data: Buffer;
  total_len: number;
}

/** What adopt() found and kept of an earlier run's pinned datapath. */
export interface AdoptedDatapath {
  flows: number;
  /** Rules of the earlier run's bank, removed once every table switched to the new one. */
  staleRules: number;
  /** Packets counted by the carried-over rules, the down time included. */
  packets: bigint;
  bank: number;
}

export interface BridgeDatapath {
  /** Resolves to 'replaced' when a program an earlier run left on the port was swapped in place. */
  addPort(port: BridgePort): Promise<PortAttach | void>;
  removePort(ofport: number): Promise<void>;
  /**
   * Compiles pipeline changes into the datapath. A packet sees all of `deltas` or none
   * of them; the promise resolves once they are in effect (what BARRIER_REPLY promises).
   */
  apply(pipeline: Pipeline, deltas: readonly Delta[]): Promise<void>;
  /** Counters of flow entries by FlowEntry.id, cumulative since each entry was added. */
  flowCounters(): Map<number, FlowCounters>;
  /** The same, read in batches off the JS thread (what a datapath with many flows offers). */
  readFlowCounters?(): Promise<Map<number, FlowCounters>>;
  /** Lookups and matches per table id, cumulative (OFPMP_TABLE's lookup/matched_count). */
  tableCounters?(): Map<number, TableCounters>;
  /** The fast path's meter counters of these meters (absent: the meter is not in the datapath). */
  meterCounters?(ids: readonly number[]): Map<number, MeterCounters>;
  /** What the fast path ran through these groups since each was last written (absent: none). */
  groupCounters?(ids: readonly number[]): Map<number, { packets: bigint; bytes: bigint }>;
  portCounters(ofport: number): PortCounters | undefined;
  /** Sends a frame out of a port as is (PACKET_OUT after the model resolved its actions). */
  transmit(ofport: number, frame: Buffer): Promise<void>;
  onPacketIn(cb: (p: DatapathPacketIn) => void): void;
  /** The datapath reopened what an earlier run pinned (maps, programs, links). */
  readonly adopted?: boolean;
  /**
   * Brings the pinned maps to `entries` (restored into `pipeline` by the caller) with no
   * moment where a packet misses, carrying each entry's counters from its old `slot`.
   */
  adopt?(pipeline: Pipeline, entries: readonly { entry: FlowEntry; slot?: number }[]): Promise<AdoptedDatapath>;
  /** The per-rule counter slot of an entry, persisted so that a restart can find its counters. */
  ruleSlot?(entryId: number): number | undefined;
  /**
   * What the slow path counted per entry (kept only in this process, so saved with the flows),
   * and how a restart hands it back.
   */
  slowCounters?(): ReadonlyMap<number, { packets: bigint; bytes: bigint }>;
  seedSlowCounters?(entryId: number, c: { packets: bigint; bytes: bigint }): void;
  /** Detaches everything; with `keepPinned`, leaves maps and programs for a restart. */
  close(opts?: { keepPinned?: boolean }): Promise<void>;
}
