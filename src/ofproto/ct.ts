// src/ofproto/ct.ts — connection tracking as the interpreter sees it: the Conntrack
// interface the ct action calls (one call per ct action on one packet), the ct fields a
// packet carries through the pipeline, and MemoryConntrack, a pure model of OVS's
// conntrack (zones, 5-tuples, new/est/rel/rpl/inv, mark and label, commit, SNAT/DNAT
// with ranges). Kernel-backed implementations live in src/ct.
import type { NatRange } from '../../proto/openflow/actions.js';

/** ct_state bits (OVS CS_*). */
export const CS = { NEW: 0x01, ESTABLISHED: 0x02, RELATED: 0x04, REPLY_DIR: 0x08, INVALID: 0x10, TRACKED: 0x20, SRC_NAT: 0x40, DST_NAT: 0x80 } as const;

/** A connection's tuple in one direction; for ICMP the ports are the echo id and the type (query) or 0. */
export interface CtTuple {
  v6: boolean;
  src: bigint;
  dst: bigint;
  proto: number;
  sport: number;
  dport: number;
}

/** The ct match fields of a packet after a ct action (all zero when untracked). */
export interface CtFields {
  state: number;
  zone: number;
  mark: number;
  label: bigint;
  /** The connection's original-direction tuple, when there is a connection. */
  orig?: CtTuple;
}

export const NO_CT: CtFields = { state: 0, zone: 0, mark: 0, label: 0n };

/** What nat(…) asked for: the kind and the range, or nothing (apply the connection's NAT, if any). */
export interface NatSpec {
  kind?: 'src' | 'dst';
  range?: NatRange;
  flags: number;
}

/** One ct action on one packet, with the packet's tuple read by the interpreter. */
export interface CtRequest {
  zone: number;
  commit: boolean;
  force: boolean;
  /** Mark and label to set on commit, as value/mask. */
  mark?: { value: number; mask: number };
  label?: { value: bigint; mask: bigint };
  nat?: NatSpec;
  /** The packet's tuple, or undefined when it has none to track (not IP, a later fragment, a cut header). */
  tuple?: CtTuple;
  /** TCP flags of the packet (0 otherwise), for TCP's state machine. */
  tcpFlags: number;
  /** An ICMP error's inner tuple (as the original packet went), for +rel. */
  related?: CtTuple;
}

/** Rewrites NAT makes on this packet (new addresses and ports, same protocol). */
export interface NatRewrite {
  src?: bigint;
  dst?: bigint;
  sport?: number;
  dport?: number;
}

export interface CtResult {
  fields: CtFields;
  nat?: NatRewrite;
}

/** A connection as `conntrack -L` would list it. */
export interface CtEntry {
  zone: number;
  orig: CtTuple;
  reply: CtTuple;
  mark: number;
  label: bigint;
  /** A reply has been seen (ASSURED / ESTABLISHED). */
  replied: boolean;
  nat?: 'src' | 'dst';
  /** ms on the caller's clock when it expires. */
  expires: number;
}

/** A connection tracker: synchronous, called by the interpreter for each ct action. */
export interface Conntrack {
  execute(req: CtRequest, now: number): CtResult;
  /** Every connection, for introspection and tests. */
  entries(now: number): CtEntry[];
  /** Forgets every connection (or those of one zone). */
  flush(zone?: number): void;
}

const TCP = { FIN: 0x01, SYN: 0x02, RST: 0x04, ACK: 0x10 } as const;

/** TCP: anything but a SYN-ACK, a RST or impossible flags may start a connection (OVS's tcp_valid_new); ICMP: requests only. */
export function canOpen(t: CtTuple, tcpFlags: number): boolean {
  if (t.proto === 6) {
    if ((tcpFlags & (TCP.SYN | TCP.ACK)) === (TCP.SYN | TCP.ACK)) return false;
    if (tcpFlags & TCP.SYN && tcpFlags & (TCP.RST | TCP.FIN)) return false;
    return !(tcpFlags & TCP.RST);
  }
  if (t.proto === 1 || t.proto === 58) return icmpIsRequest(t.proto, t.dport);
  return true;
}

/** Idle timeouts (ms), as Linux's defaults: unreplied and established. */
export const TIMEOUT = {
  tcpNew: 120_000,
  tcpEst: 432_000_000,
  tcpClose: 10_000,
  udp: 30_000,
  udpStream: 120_000,
  icmp: 30_000,
  other: 600_000,
} as const;

const key = (zone: number, t: CtTuple) => `${zone}|${t.v6 ? 6 : 4}|${t.src.toString(16)}|${t.dst.toString(16)}|${t.proto}|${t.sport}|${t.dport}`;

/** The tuple a reply to `t` carries: ends swapped; an echo request's reply is an echo reply with the same id. */
export function reverse(t: CtTuple): CtTuple {
  if (t.proto === 1 || t.proto === 58) return { ...t, src: t.dst, dst: t.src, dport: icmpReplyType(t.proto, t.dport) };
  return { ...t, src: t.dst, dst: t.src, sport: t.dport, dport: t.sport };
}

/** ICMP query types and their replies: echo, timestamp, info, address mask; ICMPv6 echo. */
const ICMP_PAIRS: Record<number, Record<number, number>> = {
  1: { 8: 0, 0: 8, 13: 14, 14: 13, 15: 16, 16: 15, 17: 18, 18: 17 },
  58: { 128: 129, 129: 128 },
};
function icmpReplyType(proto: number, type: number): number {
  return ICMP_PAIRS[proto]?.[type] ?? type;
}
/** An ICMP type that opens or continues a query (what conntrack tracks as a connection). */
export function icmpIsQuery(proto: number, type: number): boolean {
  return ICMP_PAIRS[proto]?.[type] !== undefined;
}
/** An ICMP request type (can open a connection). */
function icmpIsRequest(proto: number, type: number): boolean {
  return proto === 1 ? [8, 13, 15, 17].includes(type) : type === 128;
}

interface Conn extends CtEntry {
  /** NAT applied to the original direction (reply direction is its inverse). */
  natTo?: NatRewrite;
  closing: boolean;
}

/**
 * The pure model: a table of connections keyed by zone and tuple (both directions).
 * An uncommitted connection is not remembered (each of its packets is +new), as in OVS.
 */
export class MemoryConntrack implements Conntrack {
  private readonly byKey = new Map<string, { conn: Conn; reply: boolean }>();
  private readonly conns = new Set<Conn>();
  private lastExpire = -Infinity;

  execute(req: CtRequest, now: number): CtResult {
    const t = req.tuple;
    if (!t) return { fields: { ...NO_CT, zone: req.zone, state: CS.TRACKED | CS.INVALID } };
    this.expire(now);
    let hit = this.byKey.get(key(req.zone, t));
    if (hit && hit.conn.expires <= now) {
      this.remove(hit.conn);
      hit = undefined;
    }
    if (hit && req.force && req.commit && hit.reply) {
      // force: a connection seen in the reply direction is ended and recreated in this one.
      this.remove(hit.conn);
      hit = undefined;
    }
    const base = { zone: req.zone, mark: 0, label: 0n };
    if (!hit) {
      if (req.related) {
        const rel = this.byKey.get(key(req.zone, req.related));
        if (rel) return { fields: { ...base, mark: rel.conn.mark, label: rel.conn.label, orig: rel.conn.orig, state: CS.TRACKED | CS.RELATED | (rel.reply ? 0 : CS.REPLY_DIR) } };
      }
      if (!canOpen(t, req.tcpFlags)) return { fields: { ...base, state: CS.TRACKED | CS.INVALID } };
      if (!req.commit) return { fields: { ...base, orig: t, state: CS.TRACKED | CS.NEW } };
      const conn = this.open(req, t, now);
      return { fields: this.fieldsOf(conn, CS.NEW, req), nat: req.nat ? conn.natTo : undefined };
    }
    const { conn, reply } = hit;
    if (reply && !conn.replied) conn.replied = true;
    if (t.proto === 6 && req.tcpFlags & (TCP.RST | TCP.FIN)) conn.closing = true;
    conn.expires = now + this.timeout(conn);
    if (req.commit) this.setMarkLabel(conn, req);
    const state = conn.replied ? CS.ESTABLISHED : CS.NEW;
    const fields = this.fieldsOf(conn, state | (reply ? CS.REPLY_DIR : 0), req);
    if (!req.nat || !conn.natTo) return { fields };
    return { fields, nat: reply ? this.inverse(conn) : conn.natTo };
  }

  entries(now: number): CtEntry[] {
    this.expire(now);
    return [...this.conns].filter((c) => c.expires > now).map(({ zone, orig, reply, mark, label, replied, nat, expires }) => ({ zone, orig, reply, mark, label, replied, ...(nat ? { nat } : {}), expires }));
  }

  flush(zone?: number): void {
    for (const c of [...this.conns]) if (zone === undefined || c.zone === zone) this.remove(c);
  }

  private fieldsOf(conn: Conn, state: number, req: CtRequest): CtFields {
    let s = CS.TRACKED | state;
    // The NAT bits say which address this ct action rewrote: a reply to SNAT has its
    // destination rewritten (+dnat), a reply to DNAT its source (+snat), as OVS reports.
    if (req.nat && conn.nat) {
      const src = (conn.nat === 'src') !== ((state & CS.REPLY_DIR) !== 0);
      s |= src ? CS.SRC_NAT : CS.DST_NAT;
    }
    return { state: s, zone: conn.zone, mark: conn.mark, label: conn.label, orig: conn.orig };
  }

  private open(req: CtRequest, t: CtTuple, now: number): Conn {
    const natTo = req.nat?.kind && req.nat.range ? this.pickNat(req.zone, t, req.nat.kind, req.nat.range) : undefined;
    const after = natTo ? { ...t, src: natTo.src ?? t.src, dst: natTo.dst ?? t.dst, sport: natTo.sport ?? t.sport, dport: natTo.dport ?? t.dport } : t;
    const conn: Conn = { zone: req.zone, orig: t, reply: reverse(after), mark: 0, label: 0n, replied: false, expires: 0, closing: false, ...(natTo ? { natTo, nat: req.nat!.kind } : {}) };
    this.setMarkLabel(conn, req);
    conn.expires = now + this.timeout(conn);
    this.conns.add(conn);
    this.byKey.set(key(conn.zone, conn.orig), { conn, reply: false });
    this.byKey.set(key(conn.zone, conn.reply), { conn, reply: true });
    return conn;
  }

  private setMarkLabel(conn: Conn, req: CtRequest): void {
    if (req.mark) conn.mark = ((conn.mark & ~req.mark.mask) | (req.mark.value & req.mark.mask)) >>> 0;
    if (req.label) conn.label = (conn.label & ~req.label.mask) | (req.label.value & req.label.mask);
  }

  /**
   * The first address of the range whose reply tuple is free, keeping the port when it is
   * in range (or no port range is given), else the first free port of the range.
   */
  private pickNat(zone: number, t: CtTuple, kind: 'src' | 'dst', r: NatRange): NatRewrite {
    const lo = t.v6 ? r.ipv6_min : r.ipv4_min !== undefined ? BigInt(r.ipv4_min) : undefined;
    const hi = t.v6 ? (r.ipv6_max ?? r.ipv6_min) : r.ipv4_max !== undefined ? BigInt(r.ipv4_max) : lo;
    const port = kind === 'src' ? t.sport : t.dport;
    const hasPorts = t.proto === 6 || t.proto === 17 || t.proto === 132;
    const pLo = r.proto_min;
    const pHi = r.proto_max ?? r.proto_min;
    const ports = !hasPorts || pLo === undefined ? [port] : port >= pLo && port <= pHi! ? [port] : [];
    if (hasPorts && pLo !== undefined) for (let p = pLo; p <= pHi! && ports.length < 1024; p++) if (p !== port) ports.push(p);
    const addrs: bigint[] = [];
    if (lo === undefined) addrs.push(kind === 'src' ? t.src : t.dst);
    else for (let a = lo; a <= hi! && addrs.length < 256; a++) addrs.push(a);
    for (const a of addrs)
      for (const p of ports) {
        const rw: NatRewrite = kind === 'src' ? { src: a, sport: p } : { dst: a, dport: p };
        const after = { ...t, src: rw.src ?? t.src, dst: rw.dst ?? t.dst, sport: rw.sport ?? t.sport, dport: rw.dport ?? t.dport };
        if (!this.byKey.has(key(zone, reverse(after)))) return this.minimal(t, rw);
      }
    return this.minimal(t, kind === 'src' ? { src: addrs[0], sport: ports[0] } : { dst: addrs[0], dport: ports[0] });
  }

  /** Only what changes: ports of ICMP and protocols without ports are never rewritten. */
  private minimal(t: CtTuple, rw: NatRewrite): NatRewrite {
    const hasPorts = t.proto === 6 || t.proto === 17 || t.proto === 132;
    const out: NatRewrite = {};
    if (rw.src !== undefined && rw.src !== t.src) out.src = rw.src;
    if (rw.dst !== undefined && rw.dst !== t.dst) out.dst = rw.dst;
    if (hasPorts && rw.sport !== undefined && rw.sport !== t.sport) out.sport = rw.sport;
    if (hasPorts && rw.dport !== undefined && rw.dport !== t.dport) out.dport = rw.dport;
    return out;
  }

  /** The reply direction's rewrite: SNAT's address comes back as the destination, and so on. */
  private inverse(conn: Conn): NatRewrite {
    const n = conn.natTo!;
    const out: NatRewrite = {};
    if (n.src !== undefined) out.dst = conn.orig.src;
    if (n.sport !== undefined) out.dport = conn.orig.sport;
    if (n.dst !== undefined) out.src = conn.orig.dst;
    if (n.dport !== undefined) out.sport = conn.orig.dport;
    return out;
  }

  private timeout(c: Conn): number {
    switch (c.orig.proto) {
      case 6:
        return c.closing ? TIMEOUT.tcpClose : c.replied ? TIMEOUT.tcpEst : TIMEOUT.tcpNew;
      case 17:
        return c.replied ? TIMEOUT.udpStream : TIMEOUT.udp;
      case 1:
      case 58:
        return TIMEOUT.icmp;
      default:
        return TIMEOUT.other;
    }
  }

  private expire(now: number): void {
    // At most once a second: the scan is over every connection.
    if (now - this.lastExpire < 1000 && now >= this.lastExpire) return;
    this.lastExpire = now;
    for (const c of this.conns) if (c.expires <= now) this.remove(c);
  }

  private remove(c: Conn): void {
    this.conns.delete(c);
    this.byKey.delete(key(c.zone, c.orig));
    this.byKey.delete(key(c.zone, c.reply));
  }
}
