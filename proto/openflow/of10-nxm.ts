// proto/openflow/of10-nxm.ts — the Nicira extended match (NXM) that `ovs-ofctl` uses in
// OpenFlow 1.0 once NXT_SET_FLOW_FORMAT says nxm, and the messages that carry it
// (NXST_FLOW, NXST_AGGREGATE, NXT_FLOW_MOD). NXM entries are OXM-shaped TLVs; the
// NXM_OF_* / NXM_NX_* headers below name fields the model knows as OXM, so a match is
// read into the model's OxmEntry[] (OVS accepts OXM headers in an NXM match too, so
// replies are written with the OXM ones, in_port as NXM_OF_IN_PORT).
import { OfpError } from './errors.js';
import { actions10, type Action10 } from './of10-actions.js';
import { checkPrereqs, oxmFields, oxmHeader, readOxm, writeOxm, type OxmEntry, type OxmName } from './oxm.js';
import { Reader, Writer, type Codec } from './struct.js';

const OF = 0x0000;
const NX = 0x0001;

/** NXM headers (class, field, width) of fields the model holds as OXM with the same value bytes. */
const sameBytes: readonly [cls: number, field: number, width: number, oxm: OxmName][] = [
  [OF, 1, 6, 'ETH_DST'],
  [OF, 2, 6, 'ETH_SRC'],
  [OF, 3, 2, 'ETH_TYPE'],
  [OF, 6, 1, 'IP_PROTO'],
  [OF, 7, 4, 'IPV4_SRC'],
  [OF, 8, 4, 'IPV4_DST'],
  [OF, 9, 2, 'TCP_SRC'],
  [OF, 10, 2, 'TCP_DST'],
  [OF, 11, 2, 'UDP_SRC'],
  [OF, 12, 2, 'UDP_DST'],
  [OF, 13, 1, 'ICMPV4_TYPE'],
  [OF, 14, 1, 'ICMPV4_CODE'],
  [OF, 15, 2, 'ARP_OP'],
  [OF, 16, 4, 'ARP_SPA'],
  [OF, 17, 4, 'ARP_TPA'],
  [NX, 17, 6, 'ARP_SHA'],
  [NX, 18, 6, 'ARP_THA'],
  [NX, 19, 16, 'IPV6_SRC'],
  [NX, 20, 16, 'IPV6_DST'],
  [NX, 21, 1, 'ICMPV6_TYPE'],
  [NX, 22, 1, 'ICMPV6_CODE'],
  [NX, 23, 16, 'IPV6_ND_TARGET'],
  [NX, 24, 6, 'IPV6_ND_SLL'],
  [NX, 25, 6, 'IPV6_ND_TLL'],
  [NX, 27, 4, 'IPV6_FLABEL'],
  [NX, 28, 1, 'IP_ECN'],
];
const aliases = new Map(sameBytes.map(([cls, field, width, oxm]) => [(cls << 7) | field, { width, oxm }]));
const NXM_OF_IN_PORT = 0; // 16-bit port
const NXM_OF_VLAN_TCI = 4; // PCP(3) CFI(1) VID(12): CFI set means "tagged"
const NXM_OF_IP_TOS = 5; // DSCP << 2

const errors = { badField: 'OFPBMC_BAD_FIELD', badLen: 'OFPBMC_BAD_LEN', badMask: 'OFPBMC_BAD_MASK', badValue: 'OFPBMC_BAD_VALUE', badWildcards: 'OFPBMC_BAD_WILDCARDS' } as const;

/**
 * Reads an nx_match of `len` bytes at the reader into OXM entries: NXM aliases are
 * rewritten to the model's OXM headers (in_port widened, vlan_tci split into vlan_vid
 * and vlan_pcp, ip_tos to ip_dscp), other headers are read as OXM.
 */
export function readNxMatch(r: Reader, len: number): OxmEntry[] {
  r.need(len, 'nx_match');
  const end = r.pos + len;
  const w = new Writer();
  const extra: OxmEntry[] = [];
  while (r.pos < end) {
    if (r.pos + 4 > end) throw new OfpError('OFPBMC_BAD_LEN', { field: 'nx_match', why: 'header truncated' });
    const header = r.view.getUint32(r.pos);
    const cls = header >>> 16;
    const field = (header >>> 9) & 0x7f;
    const hm = (header >>> 8) & 1;
    const n = header & 0xff;
    const at = r.pos + 4;
    if (at + n > end) throw new OfpError('OFPBMC_BAD_LEN', { field: 'nx_match', why: `entry of ${n} bytes past the end` });
    const alias = cls <= NX ? aliases.get((cls << 7) | field) : undefined;
    const special = cls === OF && (field === NXM_OF_IN_PORT || field === NXM_OF_VLAN_TCI || field === NXM_OF_IP_TOS);
    if (!alias && !special) {
      // Any other header is one the model knows as OXM (NXM_NX_REG*, OXM_OF_*, …) or refused.
      const sub = new Reader(r.view, r.pos, at + n, 'OFPBMC_BAD_LEN');
      const e = readOxm(sub, errors, true);
      writeOxm(w, e);
      r.pos = at + n;
      continue;
    }
    const width = alias ? alias.width : field === NXM_OF_IP_TOS ? 1 : 2;
    if (n !== width * (hm + 1)) throw new OfpError('OFPBMC_BAD_LEN', { field: 'nx_match', why: `class ${cls} field ${field} length ${n}` });
    if (alias) {
      w.u32(oxmHeader(alias.oxm, hm === 1));
      w.bytes(new Uint8Array(r.view.buffer, r.view.byteOffset + at, n));
      r.pos = at + n;
      continue;
    }
    r.pos = at;
    const v = width === 1 ? r.u8() : r.u16();
    const m = hm ? (width === 1 ? r.u8() : r.u16()) : width === 1 ? 0xff : 0xffff;
    if (field === NXM_OF_IN_PORT) {
      if (hm) throw new OfpError('OFPBMC_BAD_MASK', { field: 'NXM_OF_IN_PORT' });
      extra.push({ field: 'IN_PORT', value: v >= 0xff00 ? (v + 0xffff0000) >>> 0 : v });
    } else if (field === NXM_OF_IP_TOS) {
      if (m !== 0xff || v & 3) throw new OfpError('OFPBMC_BAD_VALUE', { field: 'NXM_OF_IP_TOS', why: `${v}/${m}` });
      extra.push({ field: 'IP_DSCP', value: v >> 2 });
    } else extra.push(...vlanTci(v, m));
  }
  // The aliases were rewritten as OXM bytes: read them back with the model's checks.
  const bytes = w.done();
  const rr = Reader.of(bytes, 'OFPBMC_BAD_LEN');
  const out: OxmEntry[] = [...extra];
  while (rr.pos < rr.end) out.push(readOxm(rr, errors, true));
  const seen = new Set<string>();
  for (const e of out) {
    if (seen.has(e.field)) throw new OfpError('OFPBMC_DUP_FIELD', { field: e.field });
    seen.add(e.field);
  }
  const bad = checkPrereqs(out);
  if (bad) throw bad;
  return out;
}

/** NXM_OF_VLAN_TCI value/mask as OXM vlan_vid (with OFPVID_PRESENT as the CFI bit) and vlan_pcp. */
function vlanTci(v: number, m: number): OxmEntry[] {
  if (v & ~m) throw new OfpError('OFPBMC_BAD_WILDCARDS', { field: 'NXM_OF_VLAN_TCI' });
  const vidMask = m & 0x1fff;
  const pcpMask = m >>> 13;
  const out: OxmEntry[] = [];
  if (vidMask === 0x1fff) out.push({ field: 'VLAN_VID', value: v & 0x1fff });
  else if (vidMask === 0x1000) out.push({ field: 'VLAN_VID', value: v & 0x1000, mask: 0x1000 });
  else if (vidMask !== 0) out.push({ field: 'VLAN_VID', value: v & vidMask, mask: vidMask });
  if (pcpMask === 7) {
    if (!(v & 0x1000) && vidMask) throw new OfpError('OFPBMC_BAD_PREREQ', { field: 'NXM_OF_VLAN_TCI', why: 'a priority without a tag' });
    if (!vidMask) out.push({ field: 'VLAN_VID', value: 0x1000, mask: 0x1000 });
    out.push({ field: 'VLAN_PCP', value: v >>> 13 });
  } else if (pcpMask !== 0) throw new OfpError('OFPBMC_BAD_MASK', { field: 'NXM_OF_VLAN_TCI', why: `mask 0x${m.toString(16)}` });
  return out;
}

/** Writes an nx_match (unpadded) for model entries; returns its length. */
export function writeNxMatch(w: Writer, match: readonly OxmEntry[]): number {
  const start = w.pos;
  for (const e of match) {
    if (e.field === 'IN_PORT') {
      const p = e.value as number;
      const p16 = p >= 0xffffff00 ? p - 0xffff0000 : p < 0xff00 ? p : undefined;
      if (p16 === undefined) continue; // a port 1.0 cannot name: OVS leaves it out too
      w.u32((OF << 16) | (NXM_OF_IN_PORT << 9) | 2);
      w.u16(p16);
    } else if (e.field in oxmFields) writeOxm(w, e);
  }
  return w.pos - start;
}

function pad8(w: Writer, from: number): void {
  w.zeros(((w.pos - from + 7) & ~7) - (w.pos - from));
}
function skip8(r: Reader, from: number): void {
  const to = from + ((r.pos - from + 7) & ~7);
  if (to > r.end) throw new OfpError('OFPBRC_BAD_LEN', { field: 'nx_match padding', why: 'missing' });
  r.pos = to;
}

export interface NxFlowStatsRequest {
  out_port: number; // 16-bit, 0xffff: any
  table_id: number; // 0xff: all
  match: OxmEntry[];
}

/** nx_flow_stats_request / nx_aggregate_stats_request after the NXST header: out_port, match_len, table_id, pad(3), match padded to 8. */
export const nxFlowStatsRequest: Codec<NxFlowStatsRequest> = {
  size: undefined,
  meta: { kind: 'custom', name: 'nxFlowStatsRequest' },
  read(r) {
    r.need(8, 'nx_flow_stats_request');
    const start = r.pos;
    const out_port = r.u16();
    const len = r.u16();
    const table_id = r.u8();
    r.pos += 3;
    const match = readNxMatch(r, len);
    skip8(r, start);
    if (r.pos !== r.end) throw new OfpError('OFPBRC_BAD_LEN', { field: 'nx_flow_stats_request', why: `${r.end - r.pos} bytes left over` });
    return { out_port, table_id, match };
  },
  write(w, v) {
    const start = w.pos;
    w.u16(v.out_port);
    w.u16(0);
    w.u8(v.table_id);
    w.zeros(3);
    w.patch16(start + 2, writeNxMatch(w, v.match));
    pad8(w, start);
  },
};

export interface NxFlowStats {
  table_id: number;
  duration_sec: number;
  duration_nsec: number;
  priority: number;
  idle_timeout: number;
  hard_timeout: number;
  /** Seconds since last hit + 1; 0: unknown (ovs-ofctl then prints no idle_age). */
  idle_age: number;
  /** Seconds since last modified + 1; 0: unknown. */
  hard_age: number;
  cookie: bigint;
  packet_count: bigint;
  byte_count: bigint;
  match: OxmEntry[];
  actions: Action10[];
}

/** nx_flow_stats: 48 bytes, the match padded to 8, then 1.0 actions; repeated to the end. */
export const nxFlowStatsList: Codec<NxFlowStats[]> = {
  size: undefined,
  meta: { kind: 'custom', name: 'nxFlowStatsList' },
  read(r) {
    const out: NxFlowStats[] = [];
    while (r.pos < r.end) {
      r.need(48, 'nx_flow_stats');
      const start = r.pos;
      const length = r.u16();
      if (length < 48 || start + length > r.end || length % 8) throw new OfpError('OFPBRC_BAD_LEN', { field: 'nx_flow_stats.length', why: `${length}` });
      const table_id = r.u8();
      r.pos += 1;
      const duration_sec = r.u32();
      const duration_nsec = r.u32();
      const priority = r.u16();
      const idle_timeout = r.u16();
      const hard_timeout = r.u16();
      const matchLen = r.u16();
      const idle_age = r.u16();
      const hard_age = r.u16();
      const cookie = r.u64();
      const packet_count = r.u64();
      const byte_count = r.u64();
      const end = r.end;
      r.end = start + length;
      const match = readNxMatch(r, matchLen);
      skip8(r, start);
      const actions = actions10.read(r, 'nx_flow_stats.actions');
      r.end = end;
      out.push({ table_id, duration_sec, duration_nsec, priority, idle_timeout, hard_timeout, idle_age, hard_age, cookie, packet_count, byte_count, match, actions });
    }
    return out;
  },
  write(w, v) {
    for (const f of v) {
      const start = w.pos;
      w.u16(0);
      w.u8(f.table_id);
      w.zeros(1);
      w.u32(f.duration_sec);
      w.u32(f.duration_nsec);
      w.u16(f.priority);
      w.u16(f.idle_timeout);
      w.u16(f.hard_timeout);
      const lenAt = w.pos;
      w.u16(0);
      w.u16(f.idle_age);
      w.u16(f.hard_age);
      w.u64(f.cookie);
      w.u64(f.packet_count);
      w.u64(f.byte_count);
      w.patch16(lenAt, writeNxMatch(w, f.match));
      pad8(w, start);
      actions10.write(w, f.actions);
      w.patch16(start, w.pos - start);
    }
  },
};

export interface NxFlowModBody {
  cookie: bigint;
  command: number; // OFPFC10; high byte: table with NXT_FLOW_MOD_TABLE_ID on
  idle_timeout: number;
  hard_timeout: number;
  priority: number;
  buffer_id: number;
  out_port: number; // 16-bit
  flags: number; // OFPFF10 bits
  match: OxmEntry[];
  actions: Action10[];
}

/** nx_flow_mod after the Nicira header: 32 bytes, the match padded to 8, then 1.0 actions. */
export const nxFlowModBody: Codec<NxFlowModBody> = {
  size: undefined,
  meta: { kind: 'custom', name: 'nxFlowModBody' },
  read(r) {
    r.need(32, 'nx_flow_mod');
    const start = r.pos - 16; // the match is padded from the message start (nx_flow_mod is 48 bytes with its header)
    const cookie = r.u64();
    const command = r.u16();
    const idle_timeout = r.u16();
    const hard_timeout = r.u16();
    const priority = r.u16();
    const buffer_id = r.u32();
    const out_port = r.u16();
    const flags = r.u16();
    const matchLen = r.u16();
    r.pos += 6;
    const match = readNxMatch(r, matchLen);
    skip8(r, start);
    const actions = actions10.read(r, 'nx_flow_mod.actions');
    return { cookie, command, idle_timeout, hard_timeout, priority, buffer_id, out_port, flags, match, actions };
  },
  write(w, v) {
    const start = w.pos - 16;
    w.u64(v.cookie);
    w.u16(v.command);
    w.u16(v.idle_timeout);
    w.u16(v.hard_timeout);
    w.u16(v.priority);
    w.u32(v.buffer_id);
    w.u16(v.out_port);
    w.u16(v.flags);
    const lenAt = w.pos;
    w.u16(0);
    w.zeros(6);
    w.patch16(lenAt, writeNxMatch(w, v.match));
    pad8(w, start);
    actions10.write(w, v.actions);
  },
};
