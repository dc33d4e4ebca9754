// src/ofproto/flow-stats.ts — one ofp_flow_stats of an OFPMP_FLOW reply, made from a flow
// entry. It is the codec's FlowStats value (the match as OXM entries, computed when read)
// and it writes itself: header numbers, OXM TLVs straight from the entry's bigints, and
// the instructions' bytes encoded once per shared instruction list. A dump of 100,000
// flows then costs no OXM strings and no generic struct walk per flow.
import type { Instruction } from '../../proto/openflow/instructions.js';
import { instructions as instructionsCodec } from '../../proto/openflow/instructions.js';
import type { FlowStats } from '../../proto/openflow/multipart.js';
import { oxmFields, oxmHeader, type OxmEntry, type OxmName, type OxmRow } from '../../proto/openflow/oxm.js';
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

/** `v` big-endian over `width` bytes at `o` (the OXM value layout of every field kind); returns the end. */
function putBig(d: DataView, o: number, width: number, v: bigint): number {
  if (width === 1) d.setUint8(o, Number(v));
  else if (width === 2) d.setUint16(o, Number(v));
  else if (width === 4) d.setUint32(o, Number(v));
  else if (width === 6) {
    const n = Number(v);
    d.setUint16(o, Math.floor(n / 0x100000000));
    d.setUint32(o + 2, n % 0x100000000);
  } else for (let i = 0; i < width; i += 8) d.setBigUint64(o + i, (v >> BigInt(8 * (width - 8 - i))) & 0xffffffffffffffffn);
  return o + width;
}

/** Per field, in one lookup: its OXM headers (exact, masked), experimenter id, width and full mask. */
interface Wire {
  exact: number;
  masked: number;
  experimenter: number | undefined;
  width: number;
  full: bigint;
}
const wires = new Map<string, Wire>(
  (Object.keys(oxmFields) as OxmName[]).map((f) => {
    const row: OxmRow = oxmFields[f];
    return [f, { exact: oxmHeader(f, false), masked: oxmHeader(f, true), experimenter: row.experimenter, width: row.width, full: fullMask(f) }];
  }),
);

/** Bytes of ofp_flow_stats before the match. */
const HEAD = 48;

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
    const match = this.#entry.match;
    let matchLen = 4;
    for (const f of match) {
      const x = wires.get(f.field)!;
      matchLen += 4 + (x.experimenter !== undefined ? 4 : 0) + (f.mask !== x.full ? 2 : 1) * x.width;
    }
    const padded = (matchLen + 7) & ~7;
    const ins = encodedInstructions(this.instructions);
    const len = HEAD + padded + ins.length;
    // One reservation, then straight writes at offsets.
    w.reserve(len);
    const d = w.view;
    const start = w.pos;
    d.setUint16(start, len);
    d.setUint8(start + 2, this.table_id);
    d.setUint8(start + 3, 0);
    d.setUint32(start + 4, this.duration_sec);
    d.setUint32(start + 8, this.duration_nsec);
    d.setUint16(start + 12, this.priority);
    d.setUint16(start + 14, this.idle_timeout);
    d.setUint16(start + 16, this.hard_timeout);
    d.setUint16(start + 18, this.flags);
    d.setUint32(start + 20, 0);
    d.setBigUint64(start + 24, this.cookie);
    d.setBigUint64(start + 32, this.packet_count);
    d.setBigUint64(start + 40, this.byte_count);
    let o = start + HEAD;
    d.setUint16(o, OFPMT_OXM);
    d.setUint16(o + 2, matchLen);
    o += 4;
    for (const f of match) {
      const x = wires.get(f.field)!;
      const masked = f.mask !== x.full;
      d.setUint32(o, masked ? x.masked : x.exact);
      o += 4;
      if (x.experimenter !== undefined) {
        d.setUint32(o, x.experimenter);
        o += 4;
      }
      o = putBig(d, o, x.width, f.value);
      if (masked) o = putBig(d, o, x.width, f.mask);
    }
    w.buf.fill(0, o, start + HEAD + padded);
    w.buf.set(ins, start + HEAD + padded);
    w.pos = start + len;
  }
}
