// src/ofproto/rewrite.ts — every OpenFlow 1.3 action on packet bytes: set_field,
// push/pop of VLAN, MPLS and PBB tags, TTL actions. Checksums are updated incrementally
// (RFC 1624) as the datapath does: IPv4 header, TCP/UDP/ICMPv6 pseudo-header and ports,
// ICMPv4, and SCTP's CRC32c by OVS's xor rule.
import type { OxmName } from '../../proto/openflow/oxm.js';
import type { FlowKey } from './match.js';
import type { CtFields } from './ct.js';
import { ctKey, ETH, IPPROTO, parse, type Layout, type PipelineFields } from './packet.js';

/** A packet in flight: its bytes, pipeline fields, and the parse of both. */
export class Pkt {
  key!: FlowKey;
  layout!: Layout;
  queue_id?: number;
  /** Stopped by an action (invalid TTL): nothing more happens to it. */
  dead = false;
  /** Tags pushed by actions: parsed beyond the ingress vlan limit. */
  vlansPushed = 0;
  data: Uint8Array;
  constructor(
    data: Uint8Array,
    readonly pf: PipelineFields,
    parsed?: { key: FlowKey; layout: Layout },
  ) {
    // A plain copy: Buffer's slice() is a view, and rewrites compare old bytes with new.
    this.data = new Uint8Array(data);
    if (parsed) ({ key: this.key, layout: this.layout } = parsed);
    else this.reparse();
  }
  reparse(): void {
    const pf = this.vlansPushed ? { ...this.pf, vlanLimit: Math.min(2, (this.pf.vlanLimit ?? 1) + this.vlansPushed) } : this.pf;
    ({ key: this.key, layout: this.layout } = parse(this.data, pf));
  }
  /** The same bytes and fields: the parse is copied, not redone. */
  clone(): Pkt {
    const p = new Pkt(this.data, { ...this.pf, regs: this.pf.regs?.slice() }, { key: { ...this.key }, layout: { ...this.layout, vlans: [...this.layout.vlans] } });
    p.queue_id = this.queue_id;
    p.vlansPushed = this.vlansPushed;
    return p;
  }

  /** The ct fields a ct action (or ct_clear: none) gives the packet; nothing else of the parse changes. */
  setCt(ct: CtFields | undefined): void {
    this.pf.ct = ct;
    ctKey(this.key, ct);
  }
}

// ---- checksums -----------------------------------------------------------------

const u16 = (b: Uint8Array, o: number) => (b[o]! << 8) | b[o + 1]!;
function put16(b: Uint8Array, o: number, v: number): void {
  b[o] = (v >> 8) & 0xff;
  b[o + 1] = v & 0xff;
}

/**
 * RFC 1624 eqn. 3, HC' = ~(~HC + ~m + m'), over the 16-bit words (aligned to `base`, the
 * start of what the checksum covers) holding the bytes at `at` that were `oldBytes`.
 */
function csumUpdate(b: Uint8Array, csumAt: number, base: number, at: number, oldBytes: Uint8Array, udp = false, virtualNew?: Uint8Array): void {
  const hc = u16(b, csumAt);
  if (udp && hc === 0) return; // UDP over IPv4 without a checksum stays without.
  if (virtualNew) {
    // A word that is summed but not in the packet (the pseudo-header's protocol).
    let acc = (~hc & 0xffff) + (~((oldBytes[0]! << 8) | oldBytes[1]!) & 0xffff) + ((virtualNew[0]! << 8) | virtualNew[1]!);
    while (acc > 0xffff) acc = (acc & 0xffff) + (acc >>> 16);
    put16(b, csumAt, udp && (~acc & 0xffff) === 0 ? 0xffff : ~acc & 0xffff);
    return;
  }
  const start = at - ((at - base) & 1);
  const end = at + oldBytes.length + ((at + oldBytes.length - base) & 1);
  const byteAt = (i: number, old: boolean) => (old && i >= at && i < at + oldBytes.length ? oldBytes[i - at]! : (b[i] ?? 0));
  let acc = ~hc & 0xffff;
  for (let i = start; i < end; i += 2) {
    acc += ~((byteAt(i, true) << 8) | byteAt(i + 1, true)) & 0xffff;
    acc += (byteAt(i, false) << 8) | byteAt(i + 1, false);
  }
  while (acc > 0xffff) acc = (acc & 0xffff) + (acc >>> 16);
  let r = ~acc & 0xffff;
  if (udp && r === 0) r = 0xffff;
  put16(b, csumAt, r);
}

const CRC32C = (() => {
  const t = new Uint32Array(256);
  for (let i = 0; i < 256; i++) {
    let c = i;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
    t[i] = c >>> 0;
  }
  return t;
})();
export function crc32c(b: Uint8Array, o: number, n: number): number {
  let c = 0xffffffff;
  for (let i = 0; i < n; i++) c = CRC32C[(c ^ b[o + i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/**
 * SCTP's CRC32c after a port change, as OVS computes it (packet_set_sctp_port): the stored
 * value xor the CRC of the old and of the new segment, so a frame that arrived with a
 * wrong checksum leaves with a wrong one, as incremental updates do everywhere else.
 */
function sctpUpdate(pk: Pkt, at: number, old: Uint8Array): void {
  const { l4, l4Len } = pk.layout;
  if (l4 === undefined || l4Len === undefined || l4Len < 12) return;
  const b = pk.data;
  const stored = b.slice(l4 + 8, l4 + 12);
  b.fill(0, l4 + 8, l4 + 12);
  const now = b.slice(at, at + old.length);
  b.set(old, at);
  const before = crc32c(b, l4, l4Len);
  b.set(now, at);
  const after = crc32c(b, l4, l4Len);
  // Stored least significant byte first (RFC 3309), as Linux and OVS write it.
  const x = (stored[0]! | (stored[1]! << 8) | (stored[2]! << 16) | (stored[3]! << 24)) ^ before ^ after;
  b[l4 + 8] = x & 0xff;
  b[l4 + 9] = (x >>> 8) & 0xff;
  b[l4 + 10] = (x >>> 16) & 0xff;
  b[l4 + 11] = (x >>> 24) & 0xff;
}

/** Where the L4 checksum lives, if the packet has one covered by the pseudo-header. */
function l4Csum(pk: Pkt): { at: number; udp: boolean } | undefined {
  const { l4, ipProto } = pk.layout;
  if (l4 === undefined) return undefined;
  if (ipProto === IPPROTO.TCP && l4 + 18 <= pk.data.length) return { at: l4 + 16, udp: false };
  if (ipProto === IPPROTO.UDP && l4 + 8 <= pk.data.length) return { at: l4 + 6, udp: pk.layout.l3Kind === 'ipv4' };
  if (ipProto === IPPROTO.ICMPV6 && l4 + 4 <= pk.data.length) return { at: l4 + 2, udp: false };
  return undefined;
}

/**
 * Writes `bytes` at `at`, fixing the checksums that cover them: `ipHdr` for the IPv4
 * header, `pseudo` for the L4 checksum (pseudo-header fields or the L4 header itself).
 */
function write(pk: Pkt, at: number, bytes: Uint8Array, cover: { ipHdr?: boolean; pseudo?: boolean; icmp4?: boolean }): void {
  const b = pk.data;
  const old = b.slice(at, at + bytes.length);
  b.set(bytes, at);
  const { l3, l4 } = pk.layout;
  if (cover.ipHdr && l3 !== undefined) csumUpdate(b, l3 + 10, l3, at, old);
  if (cover.pseudo) {
    if (pk.layout.ipProto === IPPROTO.SCTP) sctpUpdate(pk, at, old);
    else {
      const c = l4Csum(pk);
      // Pseudo-header fields (addresses) are word-aligned in the IP header; L4 fields in the segment.
      if (c) csumUpdate(b, c.at, l4 !== undefined && at >= l4 ? l4 : (l3 ?? 0), at, old, c.udp);
    }
  }
  if (cover.icmp4 && l4 !== undefined && l4 + 4 <= b.length) csumUpdate(b, l4 + 2, l4, at, old);
}

function bytesOf(v: bigint, n: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = n - 1; i >= 0; i--) {
    out[i] = Number(v & 0xffn);
    v >>= 8n;
  }
  return out;
}

// ---- set_field -------------------------------------------------------------------

/** set_field: changes the field if the packet has it (spec: no effect otherwise); `v` is the full-width value. */
export function setField(pk: Pkt, field: OxmName, v: bigint): void {
  // The parser sets a field only when its bytes are all there: absent means nothing to write.
  const inPacket = field !== 'TUNNEL_ID' && field !== 'NXM_NX_TUN_ID' && !field.startsWith('NXM_NX_REG');
  if (inPacket && !pk.layout.present.has(field)) return;
  const L = pk.layout;
  const b = pk.data;
  const n = Number(v);
  switch (field) {
    case 'ETH_DST':
      b.set(bytesOf(v, 6), 0);
      break;
    case 'ETH_SRC':
      b.set(bytesOf(v, 6), 6);
      break;
    case 'ETH_TYPE':
      put16(b, L.ethTypeAt, n);
      break;
    case 'VLAN_VID':
      if (L.vlans.length) put16(b, L.vlans[0]! + 2, (u16(b, L.vlans[0]! + 2) & 0xf000) | (n & 0xfff));
      break;
    case 'VLAN_PCP':
      if (L.vlans.length) put16(b, L.vlans[0]! + 2, (u16(b, L.vlans[0]! + 2) & 0x1fff) | ((n & 7) << 13));
      break;
    case 'IP_DSCP':
    case 'IP_ECN': {
      if (L.l3Kind === 'ipv4') {
        const tos = b[L.l3! + 1]!;
        const next = field === 'IP_DSCP' ? ((n & 0x3f) << 2) | (tos & 3) : (tos & 0xfc) | (n & 3);
        write(pk, L.l3! + 1, Uint8Array.of(next), { ipHdr: true });
      } else if (L.l3Kind === 'ipv6') {
        const w = u16(b, L.l3!);
        const tc = (w >> 4) & 0xff;
        const next = field === 'IP_DSCP' ? ((n & 0x3f) << 2) | (tc & 3) : (tc & 0xfc) | (n & 3);
        put16(b, L.l3!, (w & 0xf00f) | (next << 4));
      }
      break;
    }
    case 'IP_PROTO':
      if (L.protoAt !== undefined) {
        // The protocol is in the L4 pseudo-header: the old transport checksum follows it.
        const c = l4Csum(pk);
        if (c) csumUpdate(b, c.at, 0, 1, Uint8Array.of(0, L.ipProto!), c.udp, Uint8Array.of(0, n));
        if (L.l3Kind === 'ipv4') write(pk, L.protoAt, Uint8Array.of(n), { ipHdr: true });
        else b[L.protoAt] = n;
      }
      break;
    case 'IPV4_SRC':
    case 'IPV4_DST':
      if (L.l3Kind === 'ipv4') write(pk, L.l3! + (field === 'IPV4_SRC' ? 12 : 16), bytesOf(v, 4), { ipHdr: true, pseudo: true });
      break;
    case 'IPV6_SRC':
    case 'IPV6_DST':
      if (L.l3Kind === 'ipv6') write(pk, L.l3! + (field === 'IPV6_SRC' ? 8 : 24), bytesOf(v, 16), { pseudo: true });
      break;
    case 'IPV6_FLABEL':
      if (L.l3Kind === 'ipv6') {
        b[L.l3! + 1] = (b[L.l3! + 1]! & 0xf0) | ((n >> 16) & 0xf);
        put16(b, L.l3! + 2, n & 0xffff);
      }
      break;
    case 'TCP_SRC':
    case 'TCP_DST':
    case 'UDP_SRC':
    case 'UDP_DST':
    case 'SCTP_SRC':
    case 'SCTP_DST': {
      const proto = field.startsWith('TCP') ? IPPROTO.TCP : field.startsWith('UDP') ? IPPROTO.UDP : IPPROTO.SCTP;
      if (L.l4 !== undefined && L.ipProto === proto) write(pk, L.l4 + (field.endsWith('SRC') ? 0 : 2), bytesOf(v, 2), { pseudo: true });
      break;
    }
    case 'ICMPV4_TYPE':
    case 'ICMPV4_CODE':
      if (L.l4 !== undefined && L.ipProto === IPPROTO.ICMP && L.l3Kind === 'ipv4') write(pk, L.l4 + (field === 'ICMPV4_TYPE' ? 0 : 1), Uint8Array.of(n), { icmp4: true });
      break;
    case 'ICMPV6_TYPE':
    case 'ICMPV6_CODE':
      if (L.l4 !== undefined && L.ipProto === IPPROTO.ICMPV6) write(pk, L.l4 + (field === 'ICMPV6_TYPE' ? 0 : 1), Uint8Array.of(n), { pseudo: true });
      break;
    case 'IPV6_ND_TARGET':
      if (L.present.has('IPV6_ND_TARGET')) write(pk, L.l4! + 8, bytesOf(v, 16), { pseudo: true });
      break;
    case 'IPV6_ND_SLL':
    case 'IPV6_ND_TLL': {
      if (!L.present.has(field)) break;
      const want = field === 'IPV6_ND_SLL' ? 1 : 2;
      for (let p = L.l4! + 24; p + 8 <= b.length && b[p + 1]! > 0; p += b[p + 1]! * 8) {
        if (b[p] === want) {
          write(pk, p + 2, bytesOf(v, 6), { pseudo: true });
          break;
        }
      }
      break;
    }
    case 'ARP_OP':
      if (L.l3Kind === 'arp') put16(b, L.l3! + 6, n);
      break;
    case 'ARP_SHA':
      if (L.l3Kind === 'arp') b.set(bytesOf(v, 6), L.l3! + 8);
      break;
    case 'ARP_SPA':
      if (L.l3Kind === 'arp') b.set(bytesOf(v, 4), L.l3! + 14);
      break;
    case 'ARP_THA':
      if (L.l3Kind === 'arp') b.set(bytesOf(v, 6), L.l3! + 18);
      break;
    case 'ARP_TPA':
      if (L.l3Kind === 'arp') b.set(bytesOf(v, 4), L.l3! + 24);
      break;
    case 'MPLS_LABEL':
    case 'MPLS_TC':
    case 'MPLS_BOS':
      if (L.mpls !== undefined) {
        const o = L.mpls;
        let e = ((b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!) >>> 0;
        if (field === 'MPLS_LABEL') e = ((e & 0xfff) | ((n & 0xfffff) << 12)) >>> 0;
        else if (field === 'MPLS_TC') e = ((e & ~(7 << 9)) | ((n & 7) << 9)) >>> 0;
        else e = ((e & ~(1 << 8)) | ((n & 1) << 8)) >>> 0;
        b.set(bytesOf(BigInt(e), 4), o);
      }
      break;
    case 'PBB_ISID':
      if (L.itag !== undefined) b.set(bytesOf(v, 3), L.itag + 1);
      break;
    case 'TUNNEL_ID':
    case 'NXM_NX_TUN_ID':
      pk.pf.tunnel_id = v;
      break;
    default:
      if (field.startsWith('NXM_NX_REG')) {
        const regs = (pk.pf.regs ?? []).slice();
        regs[Number(field.slice(10))] = v;
        pk.pf.regs = regs;
      }
  }
  pk.reparse();
}

// ---- push / pop ------------------------------------------------------------------

function splice(pk: Pkt, at: number, remove: number, insert: Uint8Array = new Uint8Array(0)): void {
  const b = pk.data;
  const out = new Uint8Array(b.length - remove + insert.length);
  out.set(b.subarray(0, at), 0);
  out.set(insert, at);
  out.set(b.subarray(at + remove), at + insert.length);
  pk.data = out;
}

/** push_vlan: a new outermost tag, VID and PCP copied from the old outer tag or zero (§7.2.5). */
export function pushVlan(pk: Pkt, ethertype: number): void {
  if (pk.data.length < 14) return;
  const L = pk.layout;
  const tci = L.vlans.length ? u16(pk.data, L.vlans[0]! + 2) : 0;
  const tag = new Uint8Array(4);
  put16(tag, 0, ethertype);
  put16(tag, 2, tci);
  splice(pk, 12, 0, tag);
  // A pushed tag is known, whatever the ingress parse limit (OVS tracks it in the flow).
  pk.vlansPushed++;
  pk.reparse();
}

export function popVlan(pk: Pkt): void {
  if (!pk.layout.vlans.length) return;
  splice(pk, 12, 4);
  if (pk.vlansPushed > 0) pk.vlansPushed--;
  pk.reparse();
}

function ipTtl(pk: Pkt): number | undefined {
  const L = pk.layout;
  if (L.l3Kind === 'ipv4') return pk.data[L.l3! + 8];
  if (L.l3Kind === 'ipv6') return pk.data[L.l3! + 7];
  return undefined;
}

/** push_mpls: a new outermost label after the VLAN tags; label, TC and TTL copied from the old outer label, else TTL from IP. */
export function pushMpls(pk: Pkt, ethertype: number): void {
  if (pk.data.length < 14) return;
  const L = pk.layout;
  const b = pk.data;
  let e: number;
  if (L.mpls !== undefined) e = ((b[L.mpls]! << 24) | (b[L.mpls + 1]! << 16) | (b[L.mpls + 2]! << 8) | b[L.mpls + 3]!) & ~0x100;
  else e = 0x100 | (ipTtl(pk) ?? 0);
  const at = L.ethTypeAt + 2;
  put16(b, L.ethTypeAt, ethertype);
  splice(pk, at, 0, bytesOf(BigInt(e >>> 0), 4));
  pk.reparse();
}

/** pop_mpls: removes the outer label; `ethertype` names what follows. */
export function popMpls(pk: Pkt, ethertype: number): void {
  const L = pk.layout;
  if (L.mpls === undefined) return;
  put16(pk.data, L.ethTypeAt, ethertype);
  splice(pk, L.mpls, 4);
  pk.reparse();
}

/** push_pbb: B-DA/B-SA copied from the customer addresses, an I-TAG with I-SID 0, then the whole customer frame. */
export function pushPbb(pk: Pkt, ethertype: number): void {
  if (pk.data.length < 14) return;
  const hdr = new Uint8Array(18);
  hdr.set(pk.data.subarray(0, 12), 0);
  put16(hdr, 12, ethertype);
  splice(pk, 0, 0, hdr);
  pk.reparse();
}

/** pop_pbb: removes the backbone header up to and including the I-TAG. */
export function popPbb(pk: Pkt): void {
  const L = pk.layout;
  if (L.itag === undefined) return;
  splice(pk, 0, L.itag + 4);
  pk.reparse();
}

// ---- TTL ---------------------------------------------------------------------------

function setIpTtl(pk: Pkt, ttl: number): void {
  const L = pk.layout;
  if (L.l3Kind === 'ipv4') write(pk, L.l3! + 8, Uint8Array.of(ttl), { ipHdr: true });
  else if (L.l3Kind === 'ipv6') pk.data[L.l3! + 7] = ttl;
}

/** The IP header under an MPLS stack: parsed by the ethertype-free heuristic of the first nibble. */
function innerIp(pk: Pkt): { at: number; v6: boolean } | undefined {
  const L = pk.layout;
  if (L.mpls === undefined) return undefined;
  let o = L.mpls;
  while (o + 4 <= pk.data.length && !(pk.data[o + 2]! & 1)) o += 4;
  o += 4;
  const ver = (pk.data[o] ?? 0) >> 4;
  if (ver === 4 && o + 20 <= pk.data.length) return { at: o, v6: false };
  if (ver === 6 && o + 40 <= pk.data.length) return { at: o, v6: true };
  return undefined;
}

export type TtlResult = 'ok' | 'invalid';

export function decNwTtl(pk: Pkt): TtlResult {
  const t = ipTtl(pk);
  if (t === undefined) return 'ok';
  if (t <= 1) return 'invalid';
  setIpTtl(pk, t - 1);
  pk.reparse();
  return 'ok';
}

export function setNwTtl(pk: Pkt, ttl: number): void {
  setIpTtl(pk, ttl);
  pk.reparse();
}

export function decMplsTtl(pk: Pkt): TtlResult {
  const o = pk.layout.mpls;
  if (o === undefined) return 'ok';
  const t = pk.data[o + 3]!;
  if (t <= 1) return 'invalid';
  pk.data[o + 3] = t - 1;
  return 'ok';
}

export function setMplsTtl(pk: Pkt, ttl: number): void {
  const o = pk.layout.mpls;
  if (o !== undefined) pk.data[o + 3] = ttl;
}

/** copy_ttl_out: outermost TTL from the next-to-outermost (MPLS-MPLS or MPLS-IP). */
export function copyTtlOut(pk: Pkt): void {
  const o = pk.layout.mpls;
  if (o === undefined) return;
  if (!(pk.data[o + 2]! & 1)) pk.data[o + 3] = pk.data[o + 7]!;
  else {
    const ip = innerIp(pk);
    if (ip) pk.data[o + 3] = pk.data[ip.at + (ip.v6 ? 7 : 8)]!;
  }
}

/** copy_ttl_in: next-to-outermost TTL from the outermost. */
export function copyTtlIn(pk: Pkt): void {
  const o = pk.layout.mpls;
  if (o === undefined) return;
  const ttl = pk.data[o + 3]!;
  if (!(pk.data[o + 2]! & 1)) {
    pk.data[o + 7] = ttl;
    return;
  }
  const ip = innerIp(pk);
  if (!ip) return;
  if (ip.v6) pk.data[ip.at + 7] = ttl;
  else {
    const b = pk.data;
    const old = b.slice(ip.at + 8, ip.at + 9);
    b[ip.at + 8] = ttl;
    csumUpdate(b, ip.at + 10, ip.at, ip.at + 8, old);
  }
}

export { ETH };
