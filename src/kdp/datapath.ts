// src/kdp/datapath.ts — one kernel openvswitch datapath driven over generic netlink:
// create/destroy it, add/remove netdev vports, receive its upcalls, put/delete/dump
// megaflows and execute packets. The same operations `ovs-dpctl` performs, and what
// ovs-vswitchd's dpif-netlink does; no policy here (translate.ts, tier.ts decide).
import { cpus } from 'node:os';
import { NativeError } from '../native/errors.js';
import { decodeAttrs, decodeStruct, encodeAttrs, encodeStruct, type Attrs } from './attr.js';
import { GenlSocket, NLM_F, genlRequest, resolveFamily, type GenlFamily, type GenlMessage } from './genl.js';
import {
  families,
  ovs_datapath_attr,
  ovs_flow_attr,
  ovs_header,
  ovs_packet_attr,
  ovs_meter_attr,
  ovs_vport_attr,
  OVS_DP_CMD,
  OVS_METER_CMD,
  OVS_DP_F,
  OVS_FLOW_CMD,
  OVS_PACKET_CMD,
  OVS_VPORT_CMD,
  OVS_VPORT_TYPE,
  vportTypeName,
  type FamilyName,
  type OvsAction,
  type OvsKey,
} from './ovs.js';

type DpAttrs = Attrs<(typeof ovs_datapath_attr)['fields']>;
type VportAttrs = Attrs<(typeof ovs_vport_attr)['fields']>;
type FlowAttrs = Attrs<(typeof ovs_flow_attr)['fields']>;
type PacketAttrs = Attrs<(typeof ovs_packet_attr)['fields']>;
type MeterAttrs = Attrs<(typeof ovs_meter_attr)['fields']>;

/** A datapath meter: drop bands only (OVS_METER_BAND_TYPE_DROP), rates in kb/s or packets/s. */
export interface DpMeter {
  id: number;
  kbps: boolean;
  bands: Array<{ rate: number; burst: number }>;
}

export interface DpMeterStats {
  packets: bigint;
  bytes: bigint;
  /** Packets and bytes each band dropped. */
  bands: Array<{ packets: bigint; bytes: bigint }>;
}

export type Families = Record<Exclude<FamilyName, 'meter'>, GenlFamily> & { meter?: GenlFamily };

let cached: Promise<Families> | undefined;

/** The OVS families, resolved once per process; rejects (ENOENT) without the module. */
export function ovsFamilies(): Promise<Families> {
  cached ??= (async () => {
    const [datapath, vport, flow, packet] = await Promise.all([
      resolveFamily(families.datapath.name),
      resolveFamily(families.vport.name),
      resolveFamily(families.flow.name),
      resolveFamily(families.packet.name),
    ]);
    const meter = await resolveFamily(families.meter.name).catch(() => undefined);
    return { datapath, vport, flow, packet, ...(meter ? { meter } : {}) };
  })();
  cached.catch(() => {
    cached = undefined;
  });
  return cached;
}

/** True when the kernel has the openvswitch module loaded (its ovs_datapath family resolves). */
export async function kernelDatapathAvailable(): Promise<boolean> {
  try {
    await ovsFamilies();
    return true;
  } catch {
    return false;
  }
}

export interface DpStats {
  hit: bigint;
  missed: bigint;
  lost: bigint;
  flows: bigint;
  maskHit?: bigint;
  masks?: number;
}

export interface Vport {
  portNo: number;
  name: string;
  /** "netdev", "internal", ... */
  type: string;
  ifindex?: number;
  stats?: { rx_packets: bigint; tx_packets: bigint; rx_bytes: bigint; tx_bytes: bigint; rx_dropped: bigint; tx_dropped: bigint };
}

/** A megaflow: `mask` absent means an exact match on every attribute `key` has. */
export interface Megaflow {
  key: OvsKey;
  mask?: OvsKey;
  actions: OvsAction[];
  /** Up to 16 bytes naming the flow (ovs-dpctl prints it as ufid:...). */
  ufid?: Buffer;
}

export interface DumpedFlow extends Megaflow {
  packets: bigint;
  bytes: bigint;
  /** ms of CLOCK_MONOTONIC when last hit; undefined when never. */
  used?: bigint;
  tcpFlags?: number;
}

/** A packet the kernel sent up: a miss (no flow) or a `userspace` action. */
export interface Upcall {
  kind: 'miss' | 'action';
  packet: Buffer;
  /** The key the kernel extracted (metadata included: in_port, recirc_id, ct_*). */
  key: OvsKey;
  /** Largest fragment size when conntrack reassembled the packet: hand it back to execute. */
  mru?: number;
  userdata?: Buffer;
  hash?: bigint;
}

export interface ExecuteRequest {
  packet: Uint8Array;
  /** Metadata for the packet (at least in_port); the rest is extracted from its bytes. */
  key: OvsKey;
  actions: OvsAction[];
  mru?: number;
}

export interface KernelDatapathOptions {
  /** Called for each upcall, in arrival order. */
  onUpcall?(u: Upcall): void;
  /** Upcalls were lost because this process did not read them in time. */
  onOverrun?(): void;
  onError?(err: Error): void;
  /** Upcall socket receive buffer (default 4 MiB). */
  rcvbuf?: number;
}

function header(dp_ifindex: number): Buffer {
  return encodeStruct(ovs_header, { dp_ifindex });
}

function body(m: GenlMessage): { dp_ifindex: number; attrs: Buffer } {
  return { dp_ifindex: decodeStruct(ovs_header, m.payload).dp_ifindex, attrs: m.payload.subarray(ovs_header.size) };
}

function toVport(a: VportAttrs): Vport {
  const v: Vport = { portNo: a.port_no ?? 0, name: a.name ?? '', type: vportTypeName(a.type ?? 0) };
  if (a.ifindex !== undefined) v.ifindex = a.ifindex;
  if (a.stats) {
    const s = a.stats;
    v.stats = { rx_packets: s.rx_packets, tx_packets: s.tx_packets, rx_bytes: s.rx_bytes, tx_bytes: s.tx_bytes, rx_dropped: s.rx_dropped, tx_dropped: s.tx_dropped };
  }
  return v;
}

function toFlow(a: FlowAttrs): DumpedFlow {
  const f: DumpedFlow = { key: a.key ?? {}, actions: a.actions ?? [], packets: a.stats?.n_packets ?? 0n, bytes: a.stats?.n_bytes ?? 0n };
  if (a.mask) f.mask = a.mask;
  if (a.ufid) f.ufid = a.ufid;
  if (a.used) f.used = a.used;
  if (a.tcp_flags !== undefined) f.tcpFlags = a.tcp_flags;
  return f;
}

export class KernelDatapath {
  private closed = false;
  upcalls = 0;

  private constructor(
    readonly name: string,
    /** ifindex of the datapath's local (internal) port: names it in every request. */
    readonly dpIfindex: number,
    readonly families: Families,
    /** Receives the upcalls; absent for a datapath opened only to look at (inspect). */
    private readonly sock: GenlSocket | undefined,
    /** Whether this object created the datapath (and so destroys it). */
    readonly owned: boolean,
    /** Upcalls dispatched per CPU (OVS_DP_F_DISPATCH_UPCALL_PER_CPU), else per vport. */
    readonly perCpuDispatch: boolean,
  ) {}

  /** Netlink port id upcalls are sent to. */
  get upcallPid(): number {
    return this.sock?.portid ?? 0;
  }

  /**
   * Opens datapath `name` to read and manage its ports, flows and meters, leaving its
   * upcalls where they go (to the daemon running it). ENODEV when there is none.
   */
  static async inspect(name: string): Promise<KernelDatapath> {
    const fams = await ovsFamilies();
    const [reply] = await genlRequest(fams.datapath.id, OVS_DP_CMD.GET, families.datapath.version, Buffer.concat([header(0), encodeAttrs(ovs_datapath_attr, { name })]), { what: `datapath ${name}` });
    if (!reply) throw new Error(`kdp: no reply for datapath ${name}`);
    const a = decodeAttrs(ovs_datapath_attr, body(reply).attrs);
    return new KernelDatapath(name, body(reply).dp_ifindex, fams, undefined, false, ((a.user_features ?? 0) & OVS_DP_F.DISPATCH_UPCALL_PER_CPU) !== 0);
  }

  /**
   * Creates datapath `name` (its local port is an internal netdev of that name) with this
   * process's socket receiving its upcalls. EEXIST when it exists: `open` takes it over.
   */
  static async create(name: string, opts: KernelDatapathOptions = {}): Promise<KernelDatapath> {
    return KernelDatapath.start(name, opts, true);
  }

  /** Takes over an existing datapath: its ports' upcalls come to this process. */
  static async open(name: string, opts: KernelDatapathOptions = {}): Promise<KernelDatapath> {
    return KernelDatapath.start(name, opts, false);
  }

  private static async start(name: string, opts: KernelDatapathOptions, create: boolean): Promise<KernelDatapath> {
    const fams = await ovsFamilies();
    let dp: KernelDatapath | undefined;
    const sock = new GenlSocket(
      {
        onMessage: (family, msg) => dp?.onMessage(family, msg, opts),
        onOverrun: () => opts.onOverrun?.(),
        onError: (e) => opts.onError?.(e),
      },
      opts.rcvbuf === undefined ? {} : { rcvbuf: opts.rcvbuf },
    );
    try {
      // Per-CPU dispatch (every CPU's upcalls to this one socket) first: it is what
      // ovs-vswitchd and ovs-dpctl switch a datapath to whenever they open it, keeping the
      // pids set here; per-vport pids are the fallback for kernels before 5.15.
      const pids = Array<number>(Math.max(1, cpus().length)).fill(sock.portid);
      const perCpu: DpAttrs = { user_features: OVS_DP_F.UNALIGNED | OVS_DP_F.VPORT_PIDS | OVS_DP_F.DISPATCH_UPCALL_PER_CPU, per_cpu_pids: pids };
      const perPort: DpAttrs = { upcall_pid: sock.portid, user_features: OVS_DP_F.UNALIGNED | OVS_DP_F.VPORT_PIDS };
      const send = (cmd: number, attrs: DpAttrs): Promise<GenlMessage[]> =>
        genlRequest(fams.datapath.id, cmd, families.datapath.version, Buffer.concat([header(0), encodeAttrs(ovs_datapath_attr, { name, ...attrs })]), {
          // NEW and SET answer only with NLM_F_ECHO (their reply is a notification).
          flags: NLM_F.ECHO,
          what: `datapath ${name}`,
        });
      const cmd = create ? OVS_DP_CMD.NEW : OVS_DP_CMD.SET;
      let perCpuDispatch = true;
      const replies = await send(cmd, create ? { upcall_pid: sock.portid, ...perCpu } : perCpu).catch(async (e: unknown) => {
        if (!(e instanceof NativeError) || (e.code !== 'EOPNOTSUPP' && e.code !== 'EINVAL')) throw e;
        perCpuDispatch = false;
        return send(cmd, perPort);
      });
      const reply = replies[0];
      if (!reply) throw new Error(`kdp: no reply for datapath ${name}`);
      dp = new KernelDatapath(name, body(reply).dp_ifindex, fams, sock, create, perCpuDispatch);
      if (!create && !perCpuDispatch) {
        // Existing ports keep the upcall pid they had: point them at this socket.
        for (const p of await dp.ports()) await dp.setPortUpcallPid(p.portNo, sock.portid);
      }
      return dp;
    } catch (e) {
      sock.close();
      throw e;
    }
  }

  private onMessage(family: number, msg: GenlMessage, opts: KernelDatapathOptions): void {
    if (family !== this.families.packet.id || this.closed) return;
    if (msg.cmd !== OVS_PACKET_CMD.MISS && msg.cmd !== OVS_PACKET_CMD.ACTION) return;
    const { dp_ifindex, attrs } = body(msg);
    if (dp_ifindex !== this.dpIfindex) return;
    let a: PacketAttrs;
    try {
      a = decodeAttrs(ovs_packet_attr, attrs);
    } catch (e) {
      opts.onError?.(e instanceof Error ? e : new Error(String(e)));
      return;
    }
    if (!a.packet || !a.key) return;
    this.upcalls++;
    const u: Upcall = { kind: msg.cmd === OVS_PACKET_CMD.MISS ? 'miss' : 'action', packet: a.packet, key: a.key };
    if (a.mru !== undefined) u.mru = a.mru;
    if (a.userdata) u.userdata = a.userdata;
    if (a.hash !== undefined) u.hash = a.hash;
    opts.onUpcall?.(u);
  }

  private req(fam: FamilyName, cmd: number, attrs: Buffer, flags: number, what: string): Promise<GenlMessage[]> {
    const f = this.families[fam];
    if (!f) throw new Error(`kdp: this kernel has no ${families[fam].name} family`);
    return genlRequest(f.id, cmd, families[fam].version, Buffer.concat([header(this.dpIfindex), attrs]), { flags, what: `${this.name}: ${what}` });
  }

  async stats(): Promise<DpStats> {
    const [r] = await this.req('datapath', OVS_DP_CMD.GET, Buffer.alloc(0), 0, 'get');
    const a = r ? decodeAttrs(ovs_datapath_attr, body(r).attrs) : {};
    const s: DpStats = { hit: a.stats?.n_hit ?? 0n, missed: a.stats?.n_missed ?? 0n, lost: a.stats?.n_lost ?? 0n, flows: a.stats?.n_flows ?? 0n };
    if (a.megaflow_stats) {
      s.maskHit = a.megaflow_stats.n_mask_hit;
      s.masks = a.megaflow_stats.n_masks;
    }
    return s;
  }

  /** Deletes the datapath with its ports and flows, and stops receiving upcalls. */
  async destroy(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    try {
      await this.req('datapath', OVS_DP_CMD.DEL, Buffer.alloc(0), 0, 'delete');
    } finally {
      this.sock?.close();
    }
  }

  /** Stops receiving upcalls, leaving the datapath in the kernel. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.sock?.close();
  }

  /** Lets the process exit while the upcall socket is open. */
  unref(): void {
    this.sock?.unref();
  }

  // ---- vports ----

  /** Adds an existing netdev as a port; `portNo` asks for that number (else the kernel picks). */
  async addPort(ifname: string, opts: { portNo?: number; type?: keyof typeof OVS_VPORT_TYPE } = {}): Promise<Vport> {
    const attrs: VportAttrs = { name: ifname, type: OVS_VPORT_TYPE[opts.type ?? 'NETDEV'], upcall_pid: [this.upcallPid] };
    if (opts.portNo !== undefined) attrs.port_no = opts.portNo;
    const [r] = await this.req('vport', OVS_VPORT_CMD.NEW, encodeAttrs(ovs_vport_attr, attrs), NLM_F.ECHO, `add port ${ifname}`);
    if (!r) throw new Error(`kdp: no reply adding port ${ifname}`);
    return toVport(decodeAttrs(ovs_vport_attr, body(r).attrs));
  }

  async removePort(port: number | string): Promise<void> {
    const attrs: VportAttrs = typeof port === 'number' ? { port_no: port } : { name: port };
    await this.req('vport', OVS_VPORT_CMD.DEL, encodeAttrs(ovs_vport_attr, attrs), 0, `remove port ${port}`);
  }

  async port(port: number | string): Promise<Vport> {
    const attrs: VportAttrs = typeof port === 'number' ? { port_no: port } : { name: port };
    const [r] = await this.req('vport', OVS_VPORT_CMD.GET, encodeAttrs(ovs_vport_attr, attrs), 0, `get port ${port}`);
    if (!r) throw new Error(`kdp: no reply for port ${port}`);
    return toVport(decodeAttrs(ovs_vport_attr, body(r).attrs));
  }

  async ports(): Promise<Vport[]> {
    const rs = await this.req('vport', OVS_VPORT_CMD.GET, Buffer.alloc(0), NLM_F.DUMP, 'dump ports');
    return rs.filter((r) => body(r).dp_ifindex === this.dpIfindex).map((r) => toVport(decodeAttrs(ovs_vport_attr, body(r).attrs)));
  }

  private async setPortUpcallPid(portNo: number, pid: number): Promise<void> {
    await this.req('vport', OVS_VPORT_CMD.SET, encodeAttrs(ovs_vport_attr, { port_no: portNo, upcall_pid: [pid] }), 0, `set port ${portNo} upcall pid`);
  }

  // ---- flows ----

  /**
   * Installs the megaflow, or replaces the actions of the flow with that key and mask
   * (`exclusive`: EEXIST instead). Two upcalls of one flow race here; both succeed.
   */
  async putFlow(f: Megaflow, opts: { exclusive?: boolean; clearStats?: boolean } = {}): Promise<void> {
    const attrs: FlowAttrs = { key: f.key, actions: f.actions };
    if (f.mask) attrs.mask = f.mask;
    if (f.ufid) attrs.ufid = f.ufid;
    if (opts.clearStats) attrs.clear = true;
    const msg = encodeAttrs(ovs_flow_attr, attrs);
    try {
      await this.req('flow', OVS_FLOW_CMD.NEW, msg, NLM_F.CREATE | (opts.exclusive ? NLM_F.EXCL : 0), 'put flow');
    } catch (e) {
      // The kernel modifies an existing flow only when asked with no flags (or REPLACE).
      if (opts.exclusive || !(e instanceof NativeError) || e.code !== 'EEXIST') throw e;
      // The kernel names a flow by the key it was put with: ENOENT here means another
      // megaflow (a different unmasked key under a mask that covers this one) is in the way.
      await this.req('flow', OVS_FLOW_CMD.NEW, msg, 0, 'modify flow (ENOENT: a flow put with another key covers this one)');
    }
  }

  /** Deletes the flow whose (unmasked) key is `key`, as dumpFlows reports it; or by ufid. */
  async deleteFlow(by: { key: OvsKey } | { ufid: Buffer }): Promise<DumpedFlow | undefined> {
    const attrs: FlowAttrs = 'key' in by ? { key: by.key } : { ufid: by.ufid };
    const [r] = await this.req('flow', OVS_FLOW_CMD.DEL, encodeAttrs(ovs_flow_attr, attrs), NLM_F.ECHO, 'delete flow');
    return r ? toFlow(decodeAttrs(ovs_flow_attr, body(r).attrs)) : undefined;
  }

  /** Deletes every flow. */
  async flushFlows(): Promise<void> {
    await this.req('flow', OVS_FLOW_CMD.DEL, Buffer.alloc(0), 0, 'flush flows');
  }

  async dumpFlows(): Promise<DumpedFlow[]> {
    const rs = await this.req('flow', OVS_FLOW_CMD.GET, Buffer.alloc(0), NLM_F.DUMP, 'dump flows');
    return rs.map((r) => toFlow(decodeAttrs(ovs_flow_attr, body(r).attrs)));
  }

  // ---- packets ----

  /** Runs `actions` on the packet in the kernel (OVS_PACKET_CMD_EXECUTE). */
  async execute(x: ExecuteRequest): Promise<void> {
    const attrs: PacketAttrs = { packet: Buffer.from(x.packet), key: x.key, actions: x.actions };
    if (x.mru !== undefined) attrs.mru = x.mru;
    await this.req('packet', OVS_PACKET_CMD.EXECUTE, encodeAttrs(ovs_packet_attr, attrs), 0, 'execute');
  }

  // ---- meters (ovs_meter family, Linux 4.15+) ----

  /** How many meters and bands per meter the datapath supports. */
  async meterFeatures(): Promise<{ maxMeters: number; maxBands: number }> {
    const [r] = await this.req('meter', OVS_METER_CMD.FEATURES, Buffer.alloc(0), 0, 'meter features');
    const a: MeterAttrs = r ? decodeAttrs(ovs_meter_attr, body(r).attrs) : {};
    return { maxMeters: a.max_meters ?? 0, maxBands: a.max_bands ?? 0 };
  }

  /** Adds or replaces meter `m.id` (referenced by the `meter` action). */
  async setMeter(m: DpMeter): Promise<void> {
    const attrs: MeterAttrs = { id: m.id, bands: m.bands.map((b) => ({ band: { type: 1, rate: b.rate, burst: b.burst } })) };
    if (m.kbps) attrs.kbps = true;
    await this.req('meter', OVS_METER_CMD.SET, encodeAttrs(ovs_meter_attr, attrs), 0, `set meter ${m.id}`);
  }

  async meterStats(id: number): Promise<DpMeterStats> {
    const [r] = await this.req('meter', OVS_METER_CMD.GET, encodeAttrs(ovs_meter_attr, { id }), 0, `get meter ${id}`);
    const a: MeterAttrs = r ? decodeAttrs(ovs_meter_attr, body(r).attrs) : {};
    return {
      packets: a.stats?.n_packets ?? 0n,
      bytes: a.stats?.n_bytes ?? 0n,
      bands: (a.bands ?? []).map((b) => ({ packets: b.band.stats?.n_packets ?? 0n, bytes: b.band.stats?.n_bytes ?? 0n })),
    };
  }

  async deleteMeter(id: number): Promise<void> {
    await this.req('meter', OVS_METER_CMD.DEL, encodeAttrs(ovs_meter_attr, { id }), 0, `delete meter ${id}`);
  }
}
