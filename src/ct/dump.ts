// src/ct/dump.ts — `ovs-appctl dpctl/dump-conntrack [zone=N]` in OVS's format: the
// kernel's table of this network namespace (/proc/net/nf_conntrack) and the connections
// only userspace keeps (ICMP and other protocols the kfuncs do not take).
import { readFileSync } from 'node:fs';
import { formatIpv6 } from '../../proto/openflow/oxm.js';
import type { CtEntry, CtTuple } from '../ofproto/ct.js';
import { currentConntrack } from './shared.js';

const PROTO: Record<number, string> = { 1: 'icmp', 6: 'tcp', 17: 'udp', 58: 'icmpv6', 132: 'sctp' };

interface Side {
  src: string;
  dst: string;
  /** `sport=…,dport=…` or `id=…,type=…,code=…`, as OVS writes them. */
  ports: string;
}

interface Row {
  proto: number;
  orig: Side;
  reply: Side;
  zone: number;
  mark: number;
  label: bigint;
  tcpState?: string;
}

function addr(v: bigint, v6: boolean): string {
  if (!v6) return [24n, 16n, 8n, 0n].map((s) => Number((v >> s) & 0xffn)).join('.');
  const b = new Uint8Array(16);
  for (let i = 0; i < 16; i++) b[i] = Number((v >> BigInt(8 * (15 - i))) & 0xffn);
  return formatIpv6(b);
}

function side(t: CtTuple): Side {
  const icmp = t.proto === 1 || t.proto === 58;
  return { src: addr(t.src, t.v6), dst: addr(t.dst, t.v6), ports: icmp ? `id=${t.sport},type=${t.dport},code=0` : `sport=${t.sport},dport=${t.dport}` };
}

/** /proc/net/nf_conntrack's IPv6 addresses are written out in full: back to the short form. */
function procAddr(s: string): string {
  if (!s.includes(':')) return s;
  const groups = s.split(':').map((g) => parseInt(g, 16));
  const b = new Uint8Array(16);
  groups.forEach((g, i) => {
    b[2 * i] = g >> 8;
    b[2 * i + 1] = g & 0xff;
  });
  return formatIpv6(b);
}

/** One line of /proc/net/nf_conntrack: `ipv4 2 udp 17 29 src=… dst=… sport=… dport=… [UNREPLIED] src=… … mark=0 zone=5 use=2`. */
export function parseProcLine(line: string): Row | undefined {
  const w = line.trim().split(/\s+/);
  if (w.length < 6) return undefined;
  const proto = Number(w[3]);
  const tcpState = proto === 6 && !w[5]!.includes('=') ? w[5] : undefined;
  const sides: Record<string, string>[] = [];
  const rest: Record<string, string> = {};
  for (const tok of w.slice(5)) {
    const eq = tok.indexOf('=');
    if (eq < 0) continue;
    const [k, v] = [tok.slice(0, eq), tok.slice(eq + 1)];
    if (k === 'src') sides.push({});
    if (sides.length && ['src', 'dst', 'sport', 'dport', 'type', 'code', 'id'].includes(k) && sides.at(-1)![k] === undefined) sides.at(-1)![k] = v;
    else rest[k] = v;
  }
  if (sides.length < 2) return undefined;
  const mk = (s: Record<string, string>): Side => ({
    src: procAddr(s.src!),
    dst: procAddr(s.dst!),
    ports: s.id !== undefined ? `id=${s.id},type=${s.type},code=${s.code}` : s.sport !== undefined ? `sport=${s.sport},dport=${s.dport}` : '',
  });
  const label = rest.labels !== undefined ? BigInt(`0x${rest.labels}`) : 0n;
  return { proto, orig: mk(sides[0]!), reply: mk(sides[1]!), zone: Number(rest.zone ?? 0), mark: Number(rest.mark ?? 0), label, ...(tcpState ? { tcpState } : {}) };
}

function fromEntry(e: CtEntry): Row {
  return { proto: e.orig.proto, orig: side(e.orig), reply: side(e.reply), zone: e.zone, mark: e.mark, label: e.label };
}

/** An entry as OVS's ct_dpif_format_entry writes it (not verbose, no stats). */
export function formatRow(r: Row): string {
  const tuple = (s: Side) => `src=${s.src},dst=${s.dst}${s.ports ? `,${s.ports}` : ''}`;
  let out = `${PROTO[r.proto] ?? r.proto},orig=(${tuple(r.orig)}),reply=(${tuple(r.reply)})`;
  if (r.zone) out += `,zone=${r.zone}`;
  if (r.mark) out += `,mark=${r.mark}`;
  if (r.label) out += `,labels=0x${r.label.toString(16)}`;
  if (r.tcpState) out += `,protoinfo=(state=${r.tcpState})`;
  return out;
}

/** dpctl/dump-conntrack's arguments: an optional datapath name, then `zone=N`. */
export function dumpConntrack(args: readonly string[], now: number, procFile = '/proc/net/nf_conntrack'): string {
  const zoneArg = args.find((a) => a.startsWith('zone='));
  const zone = zoneArg === undefined ? undefined : Number(zoneArg.slice(5));
  let text = '';
  try {
    text = readFileSync(procFile, 'utf8');
  } catch {
    // No procfs view of the table: only what userspace keeps.
  }
  const rows = [...text.split('\n').flatMap((l) => parseProcLine(l) ?? []), ...(currentConntrack()?.entries(now) ?? []).map(fromEntry)];
  return rows
    .filter((r) => zone === undefined || r.zone === zone)
    .map((r) => `${formatRow(r)}\n`)
    .join('');
}
