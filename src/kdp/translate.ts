// src/kdp/translate.ts — from the reference interpreter's verdict on one packet (the
// frames that leave and where) to kernel datapath actions. The megaflow is an exact
// match on every field the kernel extracted from the packet (the upcall key, no mask):
// correct for every packet it matches, though not minimal — a wildcarded megaflow needs
// the interpreter to report which fields it looked at, which it does not yet.
import type { TraceOutput } from '../ofproto/trace.js';
import type { Megaflow } from './datapath.js';
import type { OvsAction, OvsKey } from './ovs.js';

interface Headers {
  dst: string;
  src: string;
  /** 802.1Q/802.1ad outer tag: TPID and TCI. */
  vlan?: { tpid: number; tci: number };
  ethType: number;
  l3: number;
  ipv4?: { tos: number; ttl: number; proto: number; src: string; dst: string; l4: number };
}

const mac = (b: Uint8Array, off: number): string => [...b.subarray(off, off + 6)].map((x) => x.toString(16).padStart(2, '0')).join(':');
const ip4 = (b: Uint8Array, off: number): string => [...b.subarray(off, off + 4)].join('.');

function parse(f: Uint8Array): Headers | undefined {
  if (f.length < 14) return undefined;
  const v = new DataView(f.buffer, f.byteOffset, f.byteLength);
  const h: Headers = { dst: mac(f, 0), src: mac(f, 6), ethType: v.getUint16(12), l3: 14 };
  if ((h.ethType === 0x8100 || h.ethType === 0x88a8) && f.length >= 18) {
    h.vlan = { tpid: h.ethType, tci: v.getUint16(14) };
    h.ethType = v.getUint16(16);
    h.l3 = 18;
  }
  if (h.ethType === 0x0800 && f.length >= h.l3 + 20) {
    const ihl = (f[h.l3]! & 0xf) * 4;
    h.ipv4 = { tos: f[h.l3 + 1]!, ttl: f[h.l3 + 8]!, proto: f[h.l3 + 9]!, src: ip4(f, h.l3 + 12), dst: ip4(f, h.l3 + 16), l4: h.l3 + ihl };
  }
  return h;
}

/** Offsets, from the L3 header on, that set actions may change (with the checksums the kernel fixes). */
function rewritableL3(h: Headers): Set<number> {
  const s = new Set<number>();
  if (!h.ipv4) return s;
  for (const i of [1, 8, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19]) s.add(i);
  const l4 = h.ipv4.l4 - h.l3;
  const p = h.ipv4.proto;
  const add = (...xs: number[]): void => xs.forEach((i) => s.add(l4 + i));
  if (p === 6 || p === 17 || p === 132) add(0, 1, 2, 3);
  if (p === 6) add(16, 17);
  if (p === 17) add(6, 7);
  if (p === 132) add(8, 9, 10, 11);
  return s;
}

const portsOf = (f: Uint8Array, off: number): { src: number; dst: number } => ({ src: (f[off]! << 8) | f[off + 1]!, dst: (f[off + 2]! << 8) | f[off + 3]! });

/**
 * Kernel actions turning `input` into each output frame in turn and sending it, or
 * undefined when a difference is beyond set/push/pop (the caller then executes each
 * output frame as it is, without installing a flow). Output ports are datapath port
 * numbers equal to the OpenFlow ones (ports are added with portNo = ofport).
 */
export function outputsToActions(input: Uint8Array, outputs: readonly TraceOutput[]): OvsAction[] | undefined {
  const actions: OvsAction[] = [];
  let frame = input;
  let cur = parse(frame);
  if (!cur) return outputs.length ? undefined : [];
  for (const o of outputs) {
    if (o.port > 0xffff || o.port === 0) return undefined;
    const out = parse(o.frame);
    if (!out || out.ethType !== cur.ethType) return undefined;
    // VLAN: the kernel pops and pushes; it has no "set TCI".
    const vc = cur.vlan;
    const vo = out.vlan;
    if (vc && (!vo || vo.tci !== vc.tci || vo.tpid !== vc.tpid)) actions.push({ pop_vlan: true });
    if (vo && (!vc || vo.tci !== vc.tci || vo.tpid !== vc.tpid)) actions.push({ push_vlan: { vlan_tpid: vo.tpid, vlan_tci: vo.tci | 0x1000 } });
    if (out.src !== cur.src || out.dst !== cur.dst) actions.push({ set: { eth: { src: out.src, dst: out.dst } } });
    if (cur.ipv4 && out.ipv4) {
      const c = cur.ipv4;
      const w = out.ipv4;
      if (c.proto !== w.proto) return undefined;
      if (c.tos !== w.tos || c.ttl !== w.ttl || c.src !== w.src || c.dst !== w.dst) {
        const z = { src: '0.0.0.0', dst: '0.0.0.0', proto: 0, tos: 0, ttl: 0, frag: 0 };
        const value = { ...z, ...(c.src !== w.src ? { src: w.src } : {}), ...(c.dst !== w.dst ? { dst: w.dst } : {}), ...(c.tos !== w.tos ? { tos: w.tos } : {}), ...(c.ttl !== w.ttl ? { ttl: w.ttl } : {}) };
        const mask = { ...z, ...(c.src !== w.src ? { src: '255.255.255.255' } : {}), ...(c.dst !== w.dst ? { dst: '255.255.255.255' } : {}), ...(c.tos !== w.tos ? { tos: 0xff } : {}), ...(c.ttl !== w.ttl ? { ttl: 0xff } : {}) };
        actions.push({ set_masked: { value: { ipv4: value }, mask: { ipv4: mask } } });
      }
      const l4 = c.proto === 6 ? 'tcp' : c.proto === 17 ? 'udp' : c.proto === 132 ? 'sctp' : undefined;
      if (l4 && frame.length >= c.l4 + 4 && o.frame.length >= w.l4 + 4) {
        const pc = portsOf(frame, c.l4);
        const pw = portsOf(o.frame, w.l4);
        if (pc.src !== pw.src || pc.dst !== pw.dst) {
          const value = { src: pc.src !== pw.src ? pw.src : 0, dst: pc.dst !== pw.dst ? pw.dst : 0 };
          const mask = { src: pc.src !== pw.src ? 0xffff : 0, dst: pc.dst !== pw.dst ? 0xffff : 0 };
          actions.push({ set_masked: { value: { [l4]: value }, mask: { [l4]: mask } } } as OvsAction);
        }
      }
    } else if (cur.ipv4 || out.ipv4) return undefined;
    // Everything else must be equal, byte for byte, past the (possibly moved) L3 start.
    const inBody = frame.subarray(cur.l3);
    const outBody = o.frame.subarray(out.l3);
    if (inBody.length !== outBody.length) return undefined;
    const skip = rewritableL3(cur);
    for (let i = 0; i < inBody.length; i++) if (!skip.has(i) && inBody[i] !== outBody[i]) return undefined;
    actions.push({ output: o.port });
    frame = o.frame;
    cur = out;
  }
  return actions;
}

/** The exact-match megaflow for an upcall's key. */
export function exactMegaflow(key: OvsKey, actions: OvsAction[]): Megaflow {
  return { key, actions };
}
