// src/ct/kernel.ts — the kernel's conntrack table as xdpswitch's tracker: each ct action
// on a TCP or UDP packet becomes one run of bpf/ct.bpf.c (BPF_PROG_RUN) which looks the
// connection up, or creates it with its NAT and mark, through the XDP conntrack kfuncs.
// The entries are the kernel's own: `conntrack -L` lists them, and the kernel datapath
// or an XDP lookup sees what this tier committed. What the kfuncs cannot take (ICMP,
// other protocols) goes to an in-memory tracker, counted by reason.
import { readFileSync } from 'node:fs';
import { BpfObject, progRunSync, type BpfMap, type BpfProgram } from '../native/bpf.js';
import { bpfObjectPath } from '../native/paths.js';
import { canOpen, CS, MemoryConntrack, reverse, TIMEOUT, type Conntrack, type CtEntry, type CtFields, type CtRequest, type CtResult, type CtTuple, type NatRewrite } from '../ofproto/ct.js';

/** The kfuncs bpf/ct.bpf.c calls, each needed. */
export const CT_KFUNCS = ['bpf_xdp_ct_lookup', 'bpf_xdp_ct_alloc', 'bpf_ct_insert_entry', 'bpf_ct_release', 'bpf_ct_set_timeout', 'bpf_ct_change_timeout', 'bpf_ct_change_status', 'bpf_ct_set_nat_info'] as const;

/** Which conntrack kfuncs the running kernel has (its BTF names them), and whether zones are in bpf_ct_opts. */
export function probeKfuncs(btf = '/sys/kernel/btf/vmlinux'): { have: string[]; missing: string[]; zones: boolean } {
  let text: Buffer;
  try {
    text = readFileSync(btf);
  } catch {
    return { have: [], missing: [...CT_KFUNCS], zones: false };
  }
  const has = (name: string) => text.includes(Buffer.from(`\0${name}\0`));
  const have = CT_KFUNCS.filter(has);
  return { have, missing: CT_KFUNCS.filter((k) => !has(k)), zones: has('ct_zone_id') };
}

/** struct xsw_ct_io, as bpf/ct.bpf.c lays it out (host order unless said). */
const IO = {
  size: 168,
  v6: 0,
  proto: 1,
  flags: 2,
  natKind: 3,
  zone: 4,
  sport: 6, // network order
  dport: 8,
  natPort: 10,
  src: 12, // 16 bytes, network order
  dst: 28,
  natAddr: 44,
  mark: 60,
  markMask: 64,
  timeoutMs: 68,
  estTimeoutMs: 72,
  err: 76,
  found: 80,
  dir: 84,
  status: 88,
  ctMark: 92,
  origSrc: 96,
  origDst: 112,
  origSport: 128,
  origDport: 130,
  replySrc: 132,
  replyDst: 148,
  replySport: 164,
  replyDport: 166,
} as const;
const F = { COMMIT: 1, SET_MARK: 4 } as const;
const KEY0 = Buffer.alloc(4);
const IPS = { SEEN_REPLY: 0x2, SRC_NAT: 0x10, DST_NAT: 0x20 } as const;

function putAddr(b: Buffer, at: number, v: bigint, v6: boolean): void {
  if (v6) for (let i = 0; i < 16; i++) b[at + i] = Number((v >> BigInt(8 * (15 - i))) & 0xffn);
  else b.writeUInt32BE(Number(v), at);
}
function getAddr(b: Buffer, at: number, v6: boolean): bigint {
  if (!v6) return BigInt(b.readUInt32BE(at));
  let v = 0n;
  for (let i = 0; i < 16; i++) v = (v << 8n) | BigInt(b[at + i]!);
  return v;
}

export interface KernelConntrackCounters {
  /** ct actions the kernel table answered. */
  kernel: number;
  /** ct actions the in-memory tracker answered, by reason. */
  fallback: Map<string, number>;
  /** Creations the kernel refused (a clash, a full table), by errno. */
  errors: Map<number, number>;
}

/**
 * Synchronous, as the interpreter wants: one BPF_PROG_RUN is a syscall of a few
 * microseconds on the JS thread (progRunSync), cheaper than any worker round trip.
 */
export class KernelConntrack implements Conntrack {
  readonly counters: KernelConntrackCounters = { kernel: 0, fallback: new Map(), errors: new Map() };
  private readonly memory = new MemoryConntrack();
  /** ct_label is not in the kernel's reach from BPF: kept here, by zone and original tuple. */
  private readonly labels = new Map<string, bigint>();
  private readonly io = Buffer.alloc(IO.size);
  private readonly frame = Buffer.alloc(64);

  private constructor(
    private readonly obj: BpfObject,
    private readonly prog: BpfProgram,
    private readonly map: BpfMap,
  ) {}

  /** Loads bpf/ct.bpf.o; throws (with the verifier's or libbpf's reason) where the kernel lacks the kfuncs. */
  static open(): KernelConntrack {
    // Only the slow path's program: the tier 1 test programs carry the whole parser (2.5x the load time).
    const obj = BpfObject.load(bpfObjectPath('ct'), { autoload: { xsw_ct_t1_xdp: false, xsw_ct_t1_tc: false } });
    return new KernelConntrack(obj, obj.program('xsw_ct'), obj.map('xsw_ct_io'));
  }

  execute(req: CtRequest, now: number): CtResult {
    const t = req.tuple;
    if (!t) return { fields: { state: CS.TRACKED | CS.INVALID, zone: req.zone, mark: 0, label: 0n } };
    if (req.related && (req.related.proto === 6 || req.related.proto === 17)) return this.related(req, req.related);
    if (t.proto !== 6 && t.proto !== 17) return this.fallback(req, now, t.proto === 1 || t.proto === 58 ? 'icmp' : `ip proto ${t.proto}`);
    return this.run(req);
  }

  /** The connections only this process keeps (ICMP and other protocols); `conntrack -L` lists the kernel's. */
  entries(now: number): CtEntry[] {
    return this.memory.entries(now);
  }

  /** Forgets the in-memory connections; the kernel's are `conntrack -D`'s to delete. */
  flush(zone?: number): void {
    this.memory.flush(zone);
  }

  close(): void {
    this.prog.close();
    this.map.close();
    this.obj.close();
  }

  private fallback(req: CtRequest, now: number, why: string): CtResult {
    this.counters.fallback.set(why, (this.counters.fallback.get(why) ?? 0) + 1);
    return this.memory.execute(req, now);
  }

  /** An ICMP error about a TCP or UDP connection the kernel tracks: +rel. */
  private related(req: CtRequest, inner: CtTuple): CtResult {
    const r = this.run({ zone: req.zone, commit: false, force: false, tuple: inner, tcpFlags: 0 }, true);
    if (!(r.fields.state & (CS.NEW | CS.ESTABLISHED)) || !r.fields.orig) return { fields: { state: CS.TRACKED | CS.INVALID, zone: req.zone, mark: 0, label: 0n } };
    const rpl = r.fields.state & CS.REPLY_DIR;
    return { fields: { ...r.fields, state: CS.TRACKED | CS.RELATED | (rpl ? 0 : CS.REPLY_DIR) } };
  }

  private run(req: CtRequest, lookupOnly = false): CtResult {
    const t = req.tuple!;
    const io = this.io.fill(0);
    const commit = req.commit && !lookupOnly && canOpen(t, req.tcpFlags);
    io[IO.v6] = t.v6 ? 1 : 0;
    io[IO.proto] = t.proto;
    io[IO.flags] = (commit ? F.COMMIT : 0) | (req.commit && req.mark ? F.SET_MARK : 0);
    io.writeUInt16LE(req.zone, IO.zone);
    io.writeUInt16BE(t.sport, IO.sport);
    io.writeUInt16BE(t.dport, IO.dport);
    putAddr(io, IO.src, t.src, t.v6);
    putAddr(io, IO.dst, t.dst, t.v6);
    if (req.mark) {
      io.writeUInt32LE(req.mark.value >>> 0, IO.mark);
      io.writeUInt32LE(req.mark.mask >>> 0, IO.markMask);
    }
    const nat = commit && req.nat?.kind && req.nat.range ? this.natTarget(t, req.nat.kind, req.nat.range) : undefined;
    if (nat) {
      io[IO.natKind] = nat.kind === 'src' ? 1 : 2;
      putAddr(io, IO.natAddr, nat.addr, t.v6);
      io.writeUInt16LE(nat.port ?? 0, IO.natPort);
    }
    io.writeUInt32LE(t.proto === 6 ? TIMEOUT.tcpNew : TIMEOUT.udp, IO.timeoutMs);
    io.writeUInt32LE(t.proto === 6 ? TIMEOUT.tcpEst : TIMEOUT.udpStream, IO.estTimeoutMs);
    this.map.update(KEY0, io);
    progRunSync(this.prog, this.frame);
    const out = this.map.lookup(KEY0);
    if (!out) throw new Error('xsw_ct_io: no answer');
    this.counters.kernel++;
    const found = out.readUInt32LE(IO.found);
    const err = out.readInt32LE(IO.err);
    if (found === 0) {
      if (req.commit && commit && err) this.counters.errors.set(-err, (this.counters.errors.get(-err) ?? 0) + 1);
      const state = canOpen(t, req.tcpFlags) ? CS.NEW : CS.INVALID;
      return { fields: { state: CS.TRACKED | state, zone: req.zone, mark: 0, label: 0n, ...(state === CS.NEW ? { orig: t } : {}) } };
    }
    const orig: CtTuple = { v6: t.v6, proto: t.proto, src: getAddr(out, IO.origSrc, t.v6), dst: getAddr(out, IO.origDst, t.v6), sport: out.readUInt16BE(IO.origSport), dport: out.readUInt16BE(IO.origDport) };
    const reply: CtTuple = { v6: t.v6, proto: t.proto, src: getAddr(out, IO.replySrc, t.v6), dst: getAddr(out, IO.replyDst, t.v6), sport: out.readUInt16BE(IO.replySport), dport: out.readUInt16BE(IO.replyDport) };
    const status = out.readUInt32LE(IO.status);
    const isReply = out.readUInt32LE(IO.dir) === 1;
    const labelKey = `${req.zone}|${orig.src}|${orig.dst}|${orig.proto}|${orig.sport}|${orig.dport}`;
    if (req.commit && req.label) {
      const l = this.labels.get(labelKey) ?? 0n;
      this.labels.set(labelKey, (l & ~req.label.mask) | (req.label.value & req.label.mask));
    }
    let state = CS.TRACKED | (found === 2 || !(status & IPS.SEEN_REPLY) ? CS.NEW : CS.ESTABLISHED) | (isReply ? CS.REPLY_DIR : 0);
    let rewrite: NatRewrite | undefined;
    if (req.nat && status & (IPS.SRC_NAT | IPS.DST_NAT)) {
      // What this packet becomes: the other direction's tuple, reversed.
      const to = reverse(isReply ? orig : reply);
      rewrite = {};
      if (to.src !== t.src) rewrite.src = to.src;
      if (to.dst !== t.dst) rewrite.dst = to.dst;
      if (to.sport !== t.sport) rewrite.sport = to.sport;
      if (to.dport !== t.dport) rewrite.dport = to.dport;
      if (rewrite.src !== undefined || rewrite.sport !== undefined) state |= CS.SRC_NAT;
      if (rewrite.dst !== undefined || rewrite.dport !== undefined) state |= CS.DST_NAT;
    }
    const fields: CtFields = { state, zone: req.zone, mark: out.readUInt32LE(IO.ctMark), label: this.labels.get(labelKey) ?? 0n, orig };
    return rewrite ? { fields, nat: rewrite } : { fields };
  }

  /** The first address of the range; the packet's port when in range (or none given), else the range's first. */
  private natTarget(t: CtTuple, kind: 'src' | 'dst', r: NonNullable<NonNullable<CtRequest['nat']>['range']>): { kind: 'src' | 'dst'; addr: bigint; port?: number } | undefined {
    const addr = t.v6 ? r.ipv6_min : r.ipv4_min !== undefined ? BigInt(r.ipv4_min) : undefined;
    const port = kind === 'src' ? t.sport : t.dport;
    const max = r.proto_max ?? r.proto_min;
    const newPort = r.proto_min !== undefined && (port < r.proto_min || port > max!) ? r.proto_min : undefined;
    if (addr === undefined && newPort === undefined) return undefined;
    return { kind, addr: addr ?? (kind === 'src' ? t.src : t.dst), ...(newPort !== undefined ? { port: newPort } : {}) };
  }
}
