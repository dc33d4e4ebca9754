// src/ofproto/ct-action.ts — the ct, ct_clear and nat actions on a packet: what a ct action
// asks the tracker (zone, commit, mark/label, NAT, the packet's tuple), and the NAT
// rewrite it answers applied to the bytes. trace.ts runs them; ct.ts keeps connections.
import { decodeNatRange, NX_CT_F, NX_NAT_F, NX_NAT_RANGE, type Action, type CtAction } from '../../proto/openflow/actions.js';
import { OfpError } from '../../proto/openflow/errors.js';
import type { OxmName } from '../../proto/openflow/oxm.js';
import { CS, type CtRequest, type CtTuple, type NatRewrite, type NatSpec } from './ct.js';
import { oxmToBigint } from './match.js';
import { bitsOf, fieldOfHeader, ofsNbits, withBits } from './nx.js';
import { IPPROTO } from './packet.js';
import { setField, type Pkt } from './rewrite.js';

export type CtActionOf = Extract<Action, { type: 'NX_CT' }>;

const u16 = (b: Uint8Array, o: number) => (b[o]! << 8) | b[o + 1]!;
function big(b: Uint8Array, o: number, n: number): bigint {
  let v = 0n;
  for (let i = 0; i < n; i++) v = (v << 8n) | BigInt(b[o + i] ?? 0);
  return v;
}

/** ICMP error types, whose payload is the IP header (and 8 bytes) of the packet it is about. */
const ICMP_ERRORS: Record<number, readonly number[]> = { 1: [3, 4, 5, 11, 12], 58: [1, 2, 3, 4] };

/** The packet's tuple for conntrack, or undefined when it has none (not IP, a fragment, a cut L4 header). */
export function packetTuple(pk: Pkt): CtTuple | undefined {
  const L = pk.layout;
  if ((L.l3Kind !== 'ipv4' && L.l3Kind !== 'ipv6') || L.frag || L.l4 === undefined || L.ipProto === undefined) return undefined;
  const v6 = L.l3Kind === 'ipv6';
  const src = (v6 ? pk.key.IPV6_SRC : pk.key.IPV4_SRC) ?? 0n;
  const dst = (v6 ? pk.key.IPV6_DST : pk.key.IPV4_DST) ?? 0n;
  const proto = L.ipProto;
  const b = pk.data;
  const o = L.l4;
  switch (proto) {
    case IPPROTO.TCP:
    case IPPROTO.UDP:
    case IPPROTO.SCTP:
      if (o + 4 > b.length) return undefined;
      return { v6, src, dst, proto, sport: u16(b, o), dport: u16(b, o + 2) };
    case IPPROTO.ICMP:
    case IPPROTO.ICMPV6:
      if (o + 8 > b.length) return undefined;
      // Queries are tracked by id; an error is tracked by nothing of its own (see relatedTuple).
      return { v6, src, dst, proto, sport: ICMP_ERRORS[proto]!.includes(b[o]!) ? 0 : u16(b, o + 4), dport: b[o]! };
    default:
      return { v6, src, dst, proto, sport: 0, dport: 0 };
  }
}

/** For an ICMP error: the tuple of the packet it reports on, as that packet went. */
export function relatedTuple(pk: Pkt): CtTuple | undefined {
  const L = pk.layout;
  const b = pk.data;
  if (L.l4 === undefined || L.frag || (L.ipProto !== IPPROTO.ICMP && L.ipProto !== IPPROTO.ICMPV6)) return undefined;
  if (!ICMP_ERRORS[L.ipProto]!.includes(b[L.l4]!)) return undefined;
  const o = L.l4 + 8;
  if (L.ipProto === IPPROTO.ICMP) {
    if (o + 20 > b.length || b[o]! >> 4 !== 4) return undefined;
    const ihl = (b[o]! & 0xf) * 4;
    const proto = b[o + 9]!;
    const p = o + ihl;
    const ports = p + 4 <= b.length ? [u16(b, p), u16(b, p + 2)] : [0, 0];
    const isPorts = proto === 6 || proto === 17 || proto === 132;
    const isIcmp = proto === 1 && p + 8 <= b.length;
    return { v6: false, src: big(b, o + 12, 4), dst: big(b, o + 16, 4), proto, sport: isPorts ? ports[0]! : isIcmp ? u16(b, p + 4) : 0, dport: isPorts ? ports[1]! : isIcmp ? b[p]! : 0 };
  }
  if (o + 40 > b.length || b[o]! >> 4 !== 6) return undefined;
  const proto = b[o + 6]!;
  const p = o + 40;
  const isPorts = (proto === 6 || proto === 17 || proto === 132) && p + 4 <= b.length;
  const isIcmp = proto === 58 && p + 8 <= b.length;
  return { v6: true, src: big(b, o + 8, 16), dst: big(b, o + 24, 16), proto, sport: isPorts ? u16(b, p) : isIcmp ? u16(b, p + 4) : 0, dport: isPorts ? u16(b, p + 2) : isIcmp ? b[p]! : 0 };
}

/** What a ct action asks the tracker for this packet. `read` gives a field's value (for zone=NXM_…[]). */
export function ctRequest(pk: Pkt, a: CtActionOf, read: (header: number) => bigint): CtRequest {
  let zone = a.zone;
  if (a.zone_src) {
    const { ofs, nbits } = ofsNbits(a.zone);
    zone = Number(bitsOf(read(a.zone_src), ofs, nbits));
  }
  const req: CtRequest = {
    zone,
    commit: (a.flags & NX_CT_F.COMMIT) !== 0,
    force: (a.flags & NX_CT_F.FORCE) !== 0,
    tuple: packetTuple(pk),
    tcpFlags: pk.layout.ipProto === IPPROTO.TCP && pk.layout.l4 !== undefined && pk.layout.l4 + 14 <= pk.data.length ? pk.data[pk.layout.l4 + 13]! : 0,
  };
  const rel = relatedTuple(pk);
  if (rel) req.related = rel;
  for (const n of a.actions) nested(req, n);
  return req;
}

function nested(req: CtRequest, n: CtAction): void {
  switch (n.type) {
    case 'SET_FIELD':
      if (n.field.field === 'NXM_NX_CT_MARK') req.mark = { value: Number(oxmToBigint('NXM_NX_CT_MARK', n.field.value)), mask: 0xffffffff };
      else if (n.field.field === 'NXM_NX_CT_LABEL') req.label = { value: oxmToBigint('NXM_NX_CT_LABEL', n.field.value), mask: (1n << 128n) - 1n };
      return;
    case 'NX_REG_LOAD': {
      const { ofs, nbits } = ofsNbits(n.ofs_nbits);
      const mask = withBits(0n, ofs, nbits, (1n << BigInt(nbits)) - 1n);
      const value = withBits(0n, ofs, nbits, n.value);
      if (fieldOfHeader(n.dst) === 'NXM_NX_CT_MARK') {
        const m = req.mark ?? { value: 0, mask: 0 };
        req.mark = { value: Number((BigInt(m.value) & ~mask) | value), mask: Number(BigInt(m.mask) | mask) };
      } else {
        const l = req.label ?? { value: 0n, mask: 0n };
        req.label = { value: (l.value & ~mask) | value, mask: l.mask | mask };
      }
      return;
    }
    case 'NX_NAT': {
      const spec: NatSpec = { flags: n.flags };
      if (n.flags & NX_NAT_F.SRC) spec.kind = 'src';
      else if (n.flags & NX_NAT_F.DST) spec.kind = 'dst';
      const range = decodeNatRange(n.range_present, n.range);
      if (range && n.range_present) spec.range = range;
      req.nat = spec;
      return;
    }
  }
}

/**
 * ct(…) against what the match pins down (OVS's check_CT and check_NAT):
 * OFPBAC_MATCH_INCONSISTENT unless the flow is IP, a NAT range's family is the flow's,
 * the ALG's protocol is the flow's, and commit is not asked of +inv packets.
 */
export function checkCtContext(known: ReadonlyMap<OxmName, bigint>, a: CtActionOf): OfpError | undefined {
  const type = known.get('ETH_TYPE');
  const proto = known.get('IP_PROTO');
  const bad = (why: string) => new OfpError('OFPBAC_MATCH_INCONSISTENT', { why });
  if (type !== 0x0800n && type !== 0x86ddn) return bad('ct needs an IP eth_type in the match');
  const state = known.get('NXM_NX_CT_STATE') ?? 0n;
  if (state & BigInt(CS.INVALID) && a.flags & NX_CT_F.COMMIT) return bad('ct(commit) of +inv packets');
  if (a.alg === 21 && proto !== 6n) return bad('alg=ftp needs tcp');
  if (a.alg === 69 && proto !== 17n) return bad('alg=tftp needs udp');
  for (const n of a.actions) {
    if (n.type !== 'NX_NAT') continue;
    const v4 = n.range_present & (NX_NAT_RANGE.IPV4_MIN | NX_NAT_RANGE.IPV4_MAX);
    const v6 = n.range_present & (NX_NAT_RANGE.IPV6_MIN | NX_NAT_RANGE.IPV6_MAX);
    if ((v4 && type !== 0x0800n) || (v6 && type !== 0x86ddn)) return bad('nat range of another address family than the match');
  }
  return undefined;
}

/** Writes NAT's new addresses and ports into the packet (checksums follow, as set_field's). */
export function applyNat(pk: Pkt, rw: NatRewrite): void {
  const v6 = pk.layout.l3Kind === 'ipv6';
  if (rw.src !== undefined) setField(pk, v6 ? 'IPV6_SRC' : 'IPV4_SRC', rw.src);
  if (rw.dst !== undefined) setField(pk, v6 ? 'IPV6_DST' : 'IPV4_DST', rw.dst);
  const p = pk.layout.ipProto;
  const [s, d] = p === IPPROTO.TCP ? (['TCP_SRC', 'TCP_DST'] as const) : p === IPPROTO.UDP ? (['UDP_SRC', 'UDP_DST'] as const) : p === IPPROTO.SCTP ? (['SCTP_SRC', 'SCTP_DST'] as const) : [];
  if (s && rw.sport !== undefined) setField(pk, s, BigInt(rw.sport));
  if (d && rw.dport !== undefined) setField(pk, d, BigInt(rw.dport));
  pk.reparse();
}

/** ct_state names as ovs-ofctl prints them, for logs and traces. */
export function ctStateText(s: number): string {
  const names: [number, string][] = [
    [CS.NEW, 'new'],
    [CS.ESTABLISHED, 'est'],
    [CS.RELATED, 'rel'],
    [CS.REPLY_DIR, 'rpl'],
    [CS.INVALID, 'inv'],
    [CS.TRACKED, 'trk'],
    [CS.SRC_NAT, 'snat'],
    [CS.DST_NAT, 'dnat'],
  ];
  return names.filter(([b]) => s & b).map(([, n]) => `+${n}`).join('') || '-trk';
}
