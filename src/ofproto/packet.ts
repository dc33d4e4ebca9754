// src/ofproto/packet.ts — parses a frame into OXM field values (Ethernet, two VLAN tags,
// PBB, MPLS, ARP, IPv4 with fragments, IPv6 with extension headers and ND, TCP, UDP,
// SCTP, ICMP, ICMPv6) and records where each header sits, so rewrite.ts can change
// the bytes in place. The parse follows the flow key the BPF parser fills (design.md).
import { OFPXMC_OPENFLOW_BASIC, oxmFields, type OxmName, type OxmRow } from '../../proto/openflow/oxm.js';
import type { CtFields } from './ct.js';
import type { FlowKey } from './match.js';

export const ETH = { IPV4: 0x0800, ARP: 0x0806, VLAN: 0x8100, QINQ: 0x88a8, IPV6: 0x86dd, MPLS: 0x8847, MPLS_MC: 0x8848, PBB: 0x88e7 } as const;
export const IPPROTO = { ICMP: 1, TCP: 6, UDP: 17, SCTP: 132, ICMPV6: 58 } as const;
/** ofp_ipv6exthdr_flags. */
export const OFPIEH = { NONEXT: 1, ESP: 2, AUTH: 4, DEST: 8, FRAG: 16, ROUTER: 32, HOP: 64, UNREP: 128, UNSEQ: 256 } as const;

export interface Layout {
  /** Offset of each VLAN tag (TPID), outermost first. */
  vlans: number[];
  /** Offset of the ethertype that follows the VLAN tags. */
  ethTypeAt: number;
  ethType: number;
  /** PBB I-TAG offset (after the 0x88e7 ethertype). */
  itag?: number;
  /** Offset of the outermost MPLS label stack entry. */
  mpls?: number;
  /** Offset of the L3 header (IPv4/IPv6/ARP), and where the payload after MPLS starts. */
  l3?: number;
  l3Kind?: 'ipv4' | 'ipv6' | 'arp';
  /** Offset of the byte holding the L4 protocol number (IPv4 proto or the last IPv6 next-header). */
  protoAt?: number;
  ipProto?: number;
  /** Offset of the transport header, when the packet is not a later fragment. */
  l4?: number;
  /** Bytes of the L4 segment (IPv4 total length or IPv6 payload length minus extension headers). */
  l4Len?: number;
  /** An IP fragment: the first (offset 0, more to come) or a later one. */
  frag?: 'first' | 'later';
  /** Fields read from whole headers in the frame (the rest of the key is OVS's zeros). */
  present: ReadonlySet<OxmName>;
}

const u16 = (b: Uint8Array, o: number) => (b[o]! << 8) | b[o + 1]!;
const u32 = (b: Uint8Array, o: number) => ((b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!) >>> 0;
function big(b: Uint8Array, o: number, n: number): bigint {
  let v = 0n;
  for (let i = 0; i < n; i++) v = (v << 8n) | BigInt(b[o + i] ?? 0);
  return v;
}
const has = (b: Uint8Array, o: number, n: number) => o + n <= b.length;

/** Pipeline fields that are not in the packet: in_port, metadata, tunnel id, registers. */
export interface PipelineFields {
  in_port: number;
  metadata: bigint;
  tunnel_id: bigint;
  regs?: readonly bigint[];
  /**
   * VLAN tags parsed (1 or 2): OVS's other_config:vlan-limit, 1 by default. Past the
   * limit a tag is payload: eth_type is its TPID and no L3 field is read.
   */
  vlanLimit?: number;
  /** The ct fields a ct action (or nothing: all zero) gave the packet. */
  ct?: CtFields;
  /**
   * SET_CONFIG's nx-match fragment handling: a first fragment keeps its transport ports
   * (later ones have none); otherwise every fragment looks up with ports 0.
   */
  fragNxMatch?: boolean;
}

const EXT: Record<number, number> = { 0: OFPIEH.HOP, 43: OFPIEH.ROUTER, 44: OFPIEH.FRAG, 60: OFPIEH.DEST, 51: OFPIEH.AUTH, 50: OFPIEH.ESP };
/** RFC 8200 §4.1 preferred order; a destination options header may come first or last. */
const RANK: Record<number, number> = { 0: 0, 60: 1, 43: 2, 44: 3, 51: 4, 50: 5 };

/** Parses `b`, returning the flow key and the header layout. */
export function parse(b: Uint8Array, pf: PipelineFields): { key: FlowKey; layout: Layout } {
  const r = parseHeaders(b, pf);
  r.layout.present = new Set(Object.keys(r.key) as OxmName[]);
  fillAbsent(r.key);
  return r;
}

/**
 * OVS reads a field the frame is too short (or too damaged) to hold as 0 whenever its
 * prerequisites hold: a UDP packet with a cut header has udp_dst 0, an IPv4 packet with a
 * bad header has nw_src 0. Fields in oxmFields order, so prerequisites are filled first.
 */
function fillAbsent(key: FlowKey): void {
  for (const [name, row] of FIELD_ROWS) {
    if (key[name] !== undefined || !row.prereq) continue;
    const ok = row.prereq.every((p) => {
      const v = key[p.field as OxmName];
      if (v === undefined) return false;
      if (p.bits !== undefined) return (Number(v) & p.bits) === p.bits;
      return !p.values || p.values.includes(Number(v));
    });
    if (ok) key[name] = 0n;
  }
}
const FIELD_ROWS = (Object.entries(oxmFields) as [OxmName, OxmRow][]).filter(([n, r]) => r.oxmClass === OFPXMC_OPENFLOW_BASIC && n !== 'IN_PHY_PORT');

/** OVS's ipv4_sanity_check: a whole header, and a total length the frame holds. */
function ipv4Sane(b: Uint8Array, o: number): boolean {
  if (!has(b, o, 20)) return false;
  const ihl = (b[o]! & 0xf) * 4;
  const tot = u16(b, o + 2);
  return ihl >= 20 && has(b, o, ihl) && tot >= ihl && o + tot <= b.length;
}

function parseHeaders(b: Uint8Array, pf: PipelineFields): { key: FlowKey; layout: Layout } {
  const key: FlowKey = {
    IN_PORT: BigInt(pf.in_port),
    IN_PHY_PORT: BigInt(pf.in_port),
    METADATA: pf.metadata,
    TUNNEL_ID: pf.tunnel_id,
    NXM_NX_TUN_ID: pf.tunnel_id,
    VLAN_VID: 0n,
  };
  for (let i = 0; i < 16; i++) key[`NXM_NX_REG${i}` as 'NXM_NX_REG0'] = pf.regs?.[i] ?? 0n;
  ctKey(key, pf.ct);
  const layout: Layout = { vlans: [], ethTypeAt: 12, ethType: 0, present: new Set() };
  if (b.length < 14) return { key, layout };
  key.ETH_DST = big(b, 0, 6);
  key.ETH_SRC = big(b, 6, 6);
  let o = 12;
  let type = u16(b, o);
  const vlanLimit = pf.vlanLimit ?? 1;
  while ((type === ETH.VLAN || type === ETH.QINQ) && has(b, o, 6) && layout.vlans.length < vlanLimit) {
    if (layout.vlans.length === 0) {
      const tci = u16(b, o + 2);
      key.VLAN_VID = BigInt((tci & 0xfff) | 0x1000);
      key.VLAN_PCP = BigInt(tci >> 13);
    }
    layout.vlans.push(o);
    o += 4;
    type = u16(b, o);
  }
  layout.ethTypeAt = o;
  layout.ethType = type;
  key.ETH_TYPE = BigInt(type);
  o += 2;
  if (type === ETH.PBB) {
    if (has(b, o, 4)) {
      layout.itag = o;
      key.PBB_ISID = BigInt(u32(b, o) & 0xffffff);
    }
    return { key, layout };
  }
  if (type === ETH.MPLS || type === ETH.MPLS_MC) {
    if (has(b, o, 4)) {
      layout.mpls = o;
      const e = u32(b, o);
      key.MPLS_LABEL = BigInt(e >>> 12);
      key.MPLS_TC = BigInt((e >> 9) & 7);
      key.MPLS_BOS = BigInt((e >> 8) & 1);
    }
    return { key, layout };
  }
  // Ethernet/IPv4 ARP only, opcode in 8 bits (OVS reads the rest as zeros).
  if (type === ETH.ARP && has(b, o, 28) && u16(b, o) === 1 && u16(b, o + 2) === ETH.IPV4 && b[o + 4] === 6 && b[o + 5] === 4 && u16(b, o + 6) <= 0xff) {
    layout.l3 = o;
    layout.l3Kind = 'arp';
    key.ARP_OP = BigInt(u16(b, o + 6));
    key.ARP_SHA = big(b, o + 8, 6);
    key.ARP_SPA = big(b, o + 14, 4);
    key.ARP_THA = big(b, o + 18, 6);
    key.ARP_TPA = big(b, o + 24, 4);
    return { key, layout };
  }
  if (type === ETH.IPV4 && ipv4Sane(b, o)) {
    layout.l3 = o;
    layout.l3Kind = 'ipv4';
    const ihl = (b[o]! & 0xf) * 4;
    const tos = b[o + 1]!;
    key.IP_DSCP = BigInt(tos >> 2);
    key.IP_ECN = BigInt(tos & 3);
    key.IP_PROTO = BigInt(b[o + 9]!);
    key.IPV4_SRC = big(b, o + 12, 4);
    key.IPV4_DST = big(b, o + 16, 4);
    layout.protoAt = o + 9;
    layout.ipProto = b[o + 9]!;
    const fragWord = u16(b, o + 6);
    if (fragWord & 0x1fff) layout.frag = 'later';
    else if (fragWord & 0x2000) layout.frag = 'first';
    key.NXM_NX_IP_FRAG = layout.frag === 'later' ? 3n : layout.frag ? 1n : 0n;
    if (layout.frag !== 'later') {
      layout.l4 = o + ihl;
      layout.l4Len = u16(b, o + 2) - ihl;
      l4(b, layout.l4, o + u16(b, o + 2), layout.ipProto, key, false);
    }
    if (layout.frag && !(pf.fragNxMatch && layout.frag === 'first')) fragmentPorts(key, layout.ipProto);
    return { key, layout };
  }
  // As OVS: a payload length past the frame's end makes it no IPv6 packet to parse.
  if (type === ETH.IPV6 && has(b, o, 40) && o + 40 + u16(b, o + 4) <= b.length) {
    layout.l3 = o;
    layout.l3Kind = 'ipv6';
    const w = u32(b, o);
    const tc = (w >>> 20) & 0xff;
    key.IP_DSCP = BigInt(tc >> 2);
    key.IP_ECN = BigInt(tc & 3);
    key.IPV6_FLABEL = BigInt(w & 0xfffff);
    key.IPV6_SRC = big(b, o + 8, 16);
    key.IPV6_DST = big(b, o + 24, 16);
    const end = o + 40 + u16(b, o + 4);
    let nxt = b[o + 6]!;
    let protoAt = o + 6;
    let p = o + 40;
    let ext = 0;
    let rank = -1;
    let later = false;
    const seen = new Set<number>();
    while (nxt in EXT && has(b, p, 2)) {
      const bit = EXT[nxt]!;
      if (seen.has(nxt) && !(nxt === 60 && seen.size > 0)) ext |= OFPIEH.UNREP;
      const r = nxt === 60 && rank >= 2 ? 6 : RANK[nxt]!;
      if (r < rank) ext |= OFPIEH.UNSEQ;
      rank = r;
      seen.add(nxt);
      ext |= bit;
      if (nxt === 44) {
        if ((u16(b, p + 2) & 0xfff8) !== 0) later = true;
        else if (u16(b, p + 2) & 1) layout.frag = 'first';
      }
      if (nxt === 50) {
        // ESP hides everything after it.
        nxt = -1;
        break;
      }
      const len = nxt === 51 ? (b[p + 1]! + 2) * 4 : nxt === 44 ? 8 : (b[p + 1]! + 1) * 8;
      protoAt = p;
      nxt = b[p]!;
      p += len;
    }
    if (nxt === 59) ext |= OFPIEH.NONEXT;
    key.IPV6_EXTHDR = BigInt(ext);
    key.NXM_NX_IP_FRAG = later ? 3n : layout.frag ? 1n : 0n;
    if (nxt >= 0) {
      key.IP_PROTO = BigInt(nxt);
      layout.protoAt = protoAt;
      layout.ipProto = nxt;
      if (later) layout.frag = 'later';
      else if (p <= end) {
        layout.l4 = p;
        layout.l4Len = end - p;
        l4(b, p, end, nxt, key, true);
      }
      if (layout.frag && !(pf.fragNxMatch && layout.frag === 'first')) fragmentPorts(key, nxt);
    }
    return { key, layout };
  }
  return { key, layout };
}

const CT_TUPLE = ['NXM_NX_CT_NW_PROTO', 'NXM_NX_CT_NW_SRC', 'NXM_NX_CT_NW_DST', 'NXM_NX_CT_IPV6_SRC', 'NXM_NX_CT_IPV6_DST', 'NXM_NX_CT_TP_SRC', 'NXM_NX_CT_TP_DST'] as const;

/** The ct match fields: state, zone, mark and label always (0 untracked); the original tuple only with a connection. */
export function ctKey(key: FlowKey, ct: CtFields | undefined): void {
  for (const f of CT_TUPLE) if (key[f] !== undefined) delete key[f];
  key.NXM_NX_CT_STATE = BigInt(ct?.state ?? 0);
  key.NXM_NX_CT_ZONE = BigInt(ct?.zone ?? 0);
  key.NXM_NX_CT_MARK = BigInt(ct?.mark ?? 0);
  key.NXM_NX_CT_LABEL = ct?.label ?? 0n;
  const o = ct?.orig;
  if (!o) return;
  key.NXM_NX_CT_NW_PROTO = BigInt(o.proto);
  if (o.v6) [key.NXM_NX_CT_IPV6_SRC, key.NXM_NX_CT_IPV6_DST] = [o.src, o.dst];
  else [key.NXM_NX_CT_NW_SRC, key.NXM_NX_CT_NW_DST] = [o.src, o.dst];
  // ICMP: type and code (conntrack keeps the echo id, which is no match field).
  const icmp = o.proto === IPPROTO.ICMP || o.proto === IPPROTO.ICMPV6;
  [key.NXM_NX_CT_TP_SRC, key.NXM_NX_CT_TP_DST] = icmp ? [BigInt(o.dport), 0n] : [BigInt(o.sport), BigInt(o.dport)];
}

/**
 * OFPC_FRAG_NORMAL as OVS reads it: a fragment's transport ports (and ICMP type and
 * code) are looked up as 0, the first fragment included, so no fragment matches a port.
 */
function fragmentPorts(key: FlowKey, proto: number): void {
  const zero = (...fs: (keyof FlowKey)[]) => fs.forEach((f) => (key[f] = 0n));
  if (proto === IPPROTO.TCP) zero('TCP_SRC', 'TCP_DST');
  else if (proto === IPPROTO.UDP) zero('UDP_SRC', 'UDP_DST');
  else if (proto === IPPROTO.SCTP) zero('SCTP_SRC', 'SCTP_DST');
  else if (proto === IPPROTO.ICMP) zero('ICMPV4_TYPE', 'ICMPV4_CODE');
  else if (proto === IPPROTO.ICMPV6) {
    zero('ICMPV6_TYPE', 'ICMPV6_CODE');
    delete key.IPV6_ND_TARGET;
    delete key.IPV6_ND_SLL;
    delete key.IPV6_ND_TLL;
  }
}

/** Transport fields, each only from a whole header (OVS's sizes: TCP 20 and its data offset, UDP 8, SCTP 12, ICMP 8, ICMPv6 8). */
function l4(b: Uint8Array, o: number, end: number, proto: number, key: FlowKey, v6: boolean): void {
  const size = end - o;
  switch (proto) {
    case IPPROTO.TCP: {
      const hdr = ((b[o + 12] ?? 0) >> 4) * 4;
      if (size >= 20 && hdr >= 20 && size >= hdr) [key.TCP_SRC, key.TCP_DST] = [BigInt(u16(b, o)), BigInt(u16(b, o + 2))];
      return;
    }
    case IPPROTO.UDP:
      if (size >= 8) [key.UDP_SRC, key.UDP_DST] = [BigInt(u16(b, o)), BigInt(u16(b, o + 2))];
      return;
    case IPPROTO.SCTP:
      if (size >= 12) [key.SCTP_SRC, key.SCTP_DST] = [BigInt(u16(b, o)), BigInt(u16(b, o + 2))];
      return;
    case IPPROTO.ICMP:
      if (!v6 && size >= 8) [key.ICMPV4_TYPE, key.ICMPV4_CODE] = [BigInt(b[o]!), BigInt(b[o + 1]!)];
      return;
    case IPPROTO.ICMPV6: {
      if (!v6 || size < 8) return;
      const type = b[o]!;
      key.ICMPV6_TYPE = BigInt(type);
      key.ICMPV6_CODE = BigInt(b[o + 1]!);
      // Neighbor discovery (code 0 only, as OVS): the target, then 8-byte link-layer options.
      if ((type === 135 || type === 136) && b[o + 1] === 0 && size >= 24) {
        key.IPV6_ND_TARGET = big(b, o + 8, 16);
        const want = type === 135 ? 1 : 2;
        for (let p = o + 24; p + 8 <= end && b[p + 1]! > 0 && p + b[p + 1]! * 8 <= end; p += b[p + 1]! * 8) {
          if (b[p] === want && b[p + 1] === 1) {
            key[type === 135 ? 'IPV6_ND_SLL' : 'IPV6_ND_TLL'] = big(b, p + 2, 6);
            break;
          }
        }
      }
      return;
    }
  }
}
