// test/ofproto/ofconf.ts — runs the os-ken switch test tool's cases (converted once by
// ofconf-convert.py into fixtures/ofconf.json) against the reference interpreter, judging
// each the way the tool does: egress frame on port 2, packet-in data and reason,
// table-miss counters, or throughput within 10% over simulated time.
import { readFileSync } from 'node:fs';
import type { OxmEntry } from '../../proto/openflow/oxm.js';
import type { Instruction } from '../../proto/openflow/instructions.js';
import type { Action } from '../../proto/openflow/actions.js';
import type { MeterBand } from '../../proto/openflow/meter.js';
import { applyFlowMod } from '../../src/ofproto/flow-mod.js';
import { applyGroupMod } from '../../src/ofproto/group.js';
import { normaliseMatch, matches, rowOf } from '../../src/ofproto/match.js';
import { applyMeterMod } from '../../src/ofproto/meter.js';
import { parse } from '../../src/ofproto/packet.js';
import { createPipeline, type Pipeline } from '../../src/ofproto/pipeline.js';
import { addPort } from '../../src/ofproto/port.js';
import { trace } from '../../src/ofproto/trace.js';
import { OFPR, type BucketInput, type FlowModInput, type GroupModInput, type MeterModInput } from '../../src/ofproto/types.js';

type Json = Record<string, unknown>;
interface Sub {
  ingress?: string;
  packets?: { pktps: number; duration_time: number; variants: string[]; tail: string };
  egress?: string;
  packet_in?: string;
  table_miss?: number[];
  throughput?: ({ match: Json[] } & ({ kbps: number } | { pktps: number }))[];
}
export interface OfconfCase {
  file: string;
  description: string;
  prerequisite: { kind: 'flow' | 'group' | 'meter'; mod: Json }[];
  tests: Sub[];
}

const fixture = new URL('./fixtures/ofconf.json', import.meta.url);

export function loadCases(): OfconfCase[] {
  const files = JSON.parse(readFileSync(fixture, 'utf8')) as { file: string; tests: Omit<OfconfCase, 'file'>[] }[];
  return files.flatMap((f) => f.tests.map((t) => ({ ...t, file: f.file })));
}

// ---- JSON → proto value shapes (8-byte fields arrive as decimal strings) ----

function oxm(e: Json): OxmEntry {
  const field = e.field as OxmEntry['field'];
  const wide = rowOf(field).kind === 'uint' && rowOf(field).width > 4;
  const v = (x: unknown) => (wide ? BigInt(x as string) : (x as number | string));
  return e.mask === undefined || e.mask === null ? { field, value: v(e.value) } : { field, value: v(e.value), mask: v(e.mask) };
}
function action(a: Json): Action {
  if (a.type === 'SET_FIELD') return { type: 'SET_FIELD', field: oxm(a.field as Json) };
  return a as unknown as Action;
}
function instruction(i: Json): Instruction {
  switch (i.type) {
    case 'WRITE_METADATA':
      return { type: 'WRITE_METADATA', metadata: BigInt(i.metadata as string), metadata_mask: BigInt(i.metadata_mask as string) };
    case 'APPLY_ACTIONS':
    case 'WRITE_ACTIONS':
      return { type: i.type, actions: (i.actions as Json[]).map(action) };
    default:
      return i as unknown as Instruction;
  }
}

export const hex = (s: string) => Buffer.from(s, 'hex');
/** A frame as the tester's port receives it: padded to Ethernet's 60-byte minimum, as a NIC sends it. */
const wire = (f: Buffer) => (f.length >= 60 ? f : Buffer.concat([f, Buffer.alloc(60 - f.length)])).toString('hex');

/** Builds the target switch: ports 1-3, the case's mods; returns the first refusal. */
export function setup(c: OfconfCase): { p: Pipeline; error?: string } {
  const p = createPipeline(0);
  for (const n of [1, 2, 3]) addPort(p, { port_no: n, name: `p${n}`, hw_addr: `02:00:00:00:00:0${n}` });
  for (const { kind, mod } of c.prerequisite) {
    let r;
    if (kind === 'flow') {
      r = applyFlowMod(
        p,
        {
          ...(mod as unknown as FlowModInput),
          command: (['ADD', 'MODIFY', 'MODIFY_STRICT', 'DELETE', 'DELETE_STRICT'] as const)[mod.command as number]!,
          cookie: BigInt(mod.cookie as string),
          cookie_mask: BigInt(mod.cookie_mask as string),
          match: (mod.match as Json[]).map(oxm),
          instructions: (mod.instructions as Json[]).map(instruction),
        },
        0,
      );
    } else if (kind === 'group') {
      r = applyGroupMod(p, { ...(mod as unknown as GroupModInput), command: (['ADD', 'MODIFY', 'DELETE'] as const)[mod.command as number]!, group_type: (['ALL', 'SELECT', 'INDIRECT', 'FF'] as const)[mod.type as number]!, buckets: (mod.buckets as Json[]).map((b) => ({ ...(b as unknown as BucketInput), actions: (b.actions as Json[]).map(action) })) }, 0);
    } else {
      r = applyMeterMod(p, { ...(mod as unknown as MeterModInput), command: (['ADD', 'MODIFY', 'DELETE'] as const)[mod.command as number]!, bands: mod.bands as MeterBand[] }, 0);
    }
    if (r.error) return { p, error: `Failed to add ${kind}s: ${r.error.name}` };
  }
  return { p };
}

/** Runs one case; returns undefined on success, else the first failure, worded like the tool. */
export function runCase(c: OfconfCase): string | undefined {
  const { p, error } = setup(c);
  if (error) return error;
  let now = 1000;
  for (const s of c.tests) {
    if (s.ingress !== undefined) {
      const r = trace(p, 1, hex(s.ingress), now);
      now += 10;
      if (s.egress !== undefined) {
        const out = r.outputs.find((o) => o.port === 2);
        if (!out) return `no packet on port 2 (outputs ${r.outputs.map((o) => o.port).join(',') || 'none'}; ${r.drops.join('; ') || 'no drop reason'})`;
        if (wire(out.frame) !== s.egress) return `Received incorrect packet: got ${out.frame.toString('hex')} want ${s.egress}`;
      } else if (s.packet_in !== undefined) {
        const pin = r.packetIns[0];
        if (!pin) return `no packet-in (${r.drops.join('; ') || 'no drop reason'})`;
        if (pin.reason === OFPR.NO_MATCH || pin.reason === OFPR.INVALID_TTL) return `packet-in reason ${pin.reason}`;
        if (pin.data.toString('hex') !== s.packet_in) return `Received incorrect packet-in: got ${pin.data.toString('hex')} want ${s.packet_in}`;
      } else if (s.table_miss !== undefined) {
        for (const t of s.table_miss) {
          if (!r.counters.tables.includes(t)) return `table ${t} was not looked up`;
          if (!r.counters.missed.includes(t)) return `table ${t} matched`;
        }
      }
    } else if (s.packets && s.throughput) {
      const fail = throughput(p, s.packets, s.throughput, now);
      if (fail) return fail;
    }
  }
  return undefined;
}

const MAX_PACKETS = 6000;

/** Sends pktps × duration frames at even intervals of simulated time; checks each egress match's rate. */
function throughput(p: Pipeline, pk: NonNullable<Sub['packets']>, want: NonNullable<Sub['throughput']>, start: number): string | undefined {
  const frames = pk.variants.map((v) => hex(v + pk.tail));
  // Simulated time: at most MAX_PACKETS frames, so high-rate cases run a shorter window.
  const seconds = Math.min(pk.duration_time, MAX_PACKETS / pk.pktps);
  const n = Math.round(pk.pktps * seconds);
  const counts = want.map(() => ({ bytes: 0, packets: 0 }));
  const matchers = want.map((w) => {
    const m = normaliseMatch(w.match.map(oxm));
    if (!(m instanceof Array)) throw m;
    return m;
  });
  for (let i = 0; i < n; i++) {
    const now = start + (i * 1000) / pk.pktps;
    const r = trace(p, 1, frames[i % frames.length]!, now);
    for (const o of r.outputs) {
      // The tester switch sees the frame arrive on the port number it left from.
      const { key } = parse(o.frame, { in_port: o.port, metadata: 0n, tunnel_id: 0n });
      matchers.forEach((m, j) => {
        if (matches(m, key)) {
          counts[j]!.bytes += o.frame.length;
          counts[j]!.packets++;
        }
      });
    }
  }
  const msgs: string[] = [];
  want.forEach((w, j) => {
    const [measured, expected] = 'kbps' in w ? [counts[j]!.bytes, (w.kbps * seconds * 1024) / 8] : [counts[j]!.packets, w.pktps * seconds];
    if (Math.abs(measured - expected) > expected * 0.1) msgs.push(`${JSON.stringify(w.match)} ${measured} want ${expected.toFixed(0)}`);
  });
  return msgs.length ? `Received unexpected throughput: ${msgs.join(', ')}` : undefined;
}
