// src/ofproto/flow-stats.ts — one ofp_flow_stats of an OFPMP_FLOW reply, made from a flow
// entry. It is the codec's FlowStats value (the match as OXM entries, computed when read)
// and it writes itself: header numbers, OXM TLVs straight from the entry's bigints, and
// the instructions' bytes encoded once per shared instruction list. A dump of 100,000
// flows then costs no OXM strings and no generic struct walk per flow.
import type { Instruction } from '../../proto/openflow/instructions.js';
import { instructions as instructionsCodec } from '../../proto/openflow/instructions.js';
import type { FlowStats } from '../../proto/openflow/multipart.js';
import { oxmFields, oxmHeader, type OxmEntry, type OxmRow } from '../../proto/openflow/oxm.js';
import { Writer, writeSelf, type WritesSelf } from '../../proto/openflow/struct.js';
import type { FlowEntry } from './classifier.js';
import { fullMask, matchToOxm } from './match.js';

const OFPMT_OXM = 1;

/** Instruction lists' bytes by list: the model shares one list among flows with equal instructions. */
const instructionBytes = new WeakMap<readonly Instruction[], Uint8Array>();

function encodedInstructions(list: readonly Instruction[]): Uint8Array {
  let b = instructionBytes.get(list);
  if (!b) {
    const w = new Writer();
    instructionsCodec.write(w, list as Instruction[]);
    instructionBytes.set(list, (b = w.buf.slice(0, w.pos)));
  }
  return b;
}

/** `v` big-endian over `width` bytes (the OXM value layout of every field kind). */
function writeBig(w: Writer, width: number, v: bigint): void {
  if (width === 1) w.u8(Number(v));
  else if (width === 2) w.u16(Number(v));
  else if (width === 4) w.u32(Number(v));
  else if (width === 6) {
    const n = Number(v);
    w.u16(Math.floor(n / 0x100000000));
    w.u32(n % 0x100000000);
  } else for (let i = width - 8; i >= 0; i -= 8) w.u64((v >> BigInt(8 * i)) & 0xffffffffffffffffn);
}

export class EntryFlowStats implements FlowStats, WritesSelf {
  readonly table_id: number;
  readonly duration_sec: number;
  readonly duration_nsec: number;
  readonly priority: number;
  readonly idle_timeout: number;
  readonly hard_timeout: number;
  readonly flags: number;
  readonly cookie: bigint;
  readonly packet_count: bigint;
  readonly byte_count: bigint;
  readonly instructions: Instruction[];
  readonly #entry: FlowEntry;

  constructor(e: FlowEntry, now: number) {
    const ms = Math.max(0, now - e.installed);
    this.table_id = e.table_id;
    this.duration_sec = Math.floor(ms / 1000);
    this.duration_nsec = Math.round((ms % 1000) * 1e6);
    this.priority = e.priority;
    this.idle_timeout = e.idle_timeout;
    this.hard_timeout = e.hard_timeout;
    this.flags = e.flags;
    this.cookie = e.cookie;
    this.packet_count = e.packet_count;
    this.byte_count = e.byte_count;
    this.instructions = e.instructions as Instruction[];
    this.#entry = e;
  }

  /** The match as the codec's OXM entries (exact fields without a mask). */
  get match(): OxmEntry[] {
    return matchToOxm(this.#entry.match);
  }

  toJSON(): FlowStats {
    return { ...this, match: this.match };
  }

  [writeSelf](w: Writer): void {
    const start = w.pos;
    w.u16(0); // length, patched below
    w.u8(this.table_id);
    w.u8(0);
    w.u32(this.duration_sec);
    w.u32(this.duration_nsec);
    w.u16(this.priority);
    w.u16(this.idle_timeout);
    w.u16(this.hard_timeout);
    w.u16(this.flags);
    w.u32(0);
    w.u64(this.cookie);
    w.u64(this.packet_count);
    w.u64(this.byte_count);
    const m = w.pos;
    w.u16(OFPMT_OXM);
    w.u16(0); // match length, patched below
    for (const f of this.#entry.match) {
      const row: OxmRow = oxmFields[f.field];
      const masked = f.mask !== fullMask(f.field);
      w.u32(oxmHeader(f.field, masked));
      if (row.experimenter !== undefined) w.u32(row.experimenter);
      writeBig(w, row.width, f.value);
      if (masked) writeBig(w, row.width, f.mask);
    }
    const matchLen = w.pos - m;
    w.patch16(m + 2, matchLen);
    w.zeros(((matchLen + 7) & ~7) - matchLen);
    w.bytes(encodedInstructions(this.instructions));
    w.patch16(start, w.pos - start);
  }
}
