// src/vswitchd/bridge.ts — one running bridge: its pipeline and OpenFlow endpoint (the
// `<rundir>/<bridge>.mgmt` listener and the Controller connections), its datapath, its
// LOCAL port (a tap named like the bridge) and its interfaces with their ofports.
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { OFPPC, OFPPF, OFPPS } from '../../proto/openflow/constants.js';
import type { Port } from '../../proto/openflow/port.js';
import type { BridgeDatapath } from '../datapath/bridge.js';
import type { Hook } from '../datapath/datapath.js';
import { addPort, removePort } from '../ofproto/port.js';
import { OFPPR } from '../ofproto/types.js';
import { OpenFlowEndpoint, type ActiveConnection, type Listener } from '../openflow/endpoint.js';
import { versionsFromProtocols } from '../openflow/versions.js';
import type { Logger as OfLogger } from '../openflow/log.js';
import { parseTarget } from '../openflow/target.js';
import type { Link } from '../native/netlink.js';
import type { BridgeConfig, ControllerConfig, InterfaceConfig } from './config.js';
import type { FlowStore } from './flow-store.js';
import { startSsl, type SslSplice } from './ssl.js';
import type { Log } from './log.js';
import { BridgeOfproto } from './ofproto-handler.js';

/** OFPP_LOCAL as the Interface ofport column shows it. */
export const LOCAL_OFPORT = 65534;
const MAX_OFPORT = 0xfeff; // OFPP_MAX as OpenFlow 1.0 port numbers, what OVS allocates below

export interface IfaceState {
  cfg: InterfaceConfig;
  portName: string;
  /** -1 when the interface could not be added (see `error`). */
  ofport: number;
  /** The OpenFlow port number (OFPP_LOCAL for the bridge's own interface). */
  portNo: number;
  ifindex?: number;
  /** The device the datapath attaches to when it is not the interface's own (an internal port's hidden end). */
  dpIfindex?: number;
  error?: string;
  /** other_config:datapath-hook; `auto` is decided per device when it is attached. */
  hook: Hook | 'auto';
  /** The hook the port runs at, for the log and the Interface status column. */
  hookInUse?: Hook;
  /** We created the device (internal type), so removing the interface deletes it. */
  created: boolean;
  /** Times the link went down, as OVS counts link_resets. */
  linkResets: number;
  running?: boolean;
  /** type=patch: the peer interface's name (options:peer); the port has no device. */
  patchPeer?: string;
  /** type=patch: a random MAC, as OVS gives patch ports. */
  mac?: string;
  /** type=patch, joined to its peer: our end of the veth pair between the two bridges. */
  patchDevice?: string;
}

export interface ControllerState {
  cfg: ControllerConfig;
  active?: ActiveConnection;
  listener?: Listener;
  /** ssl:/pssl: targets: the TLS leg in front of the endpoint, and its last failure. */
  ssl?: SslSplice;
  sslError?: string;
  error?: string;
}

export const controllerKey = (c: ControllerConfig): string => JSON.stringify([c.target, c.type, c.inactivityProbe ?? null, c.maxBackoff ?? null, c.connectionMode ?? null, c.ssl ?? null]);

/** ovs-vswitchd: the datapath id is the bridge MAC as a 48-bit number unless other_config:datapath-id says. */
export function pickDatapathId(otherConfig: ReadonlyMap<string, string>, mac: string): bigint {
  const dpid = otherConfig.get('datapath-id');
  if (dpid && /^(0x)?[0-9a-fA-F]{16}$/.test(dpid)) return BigInt(`0x${dpid.replace(/^0x/, '')}`);
  return BigInt(`0x${mac.replace(/:/g, '') || '0'}`);
}

/** The bridge MAC OVS picks: other_config:hwaddr, else the lowest MAC of its non-internal ports, else the LOCAL device's own. */
export function pickBridgeMac(otherConfig: ReadonlyMap<string, string>, portMacs: readonly string[], localMac: string): string {
  const hw = otherConfig.get('hwaddr');
  if (hw && /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/i.test(hw) && !(parseInt(hw.slice(0, 2), 16) & 1)) return hw.toLowerCase();
  const candidates = portMacs.filter((m) => m && !(parseInt(m.slice(0, 2), 16) & 1)).sort();
  return candidates[0] ?? localMac;
}

const speedBits: Record<number, [number, number]> = {
  10: [OFPPF['10MB_HD'], OFPPF['10MB_FD']],
  100: [OFPPF['100MB_HD'], OFPPF['100MB_FD']],
  1000: [OFPPF['1GB_HD'], OFPPF['1GB_FD']],
  10000: [0, OFPPF['10GB_FD']],
  40000: [0, OFPPF['40GB_FD']],
  100000: [0, OFPPF['100GB_FD']],
  1000000: [0, OFPPF['1TB_FD']],
};

function sysfs(dev: string, attr: string): string | undefined {
  try {
    return readFileSync(`/sys/class/net/${dev}/${attr}`, 'utf8').trim();
  } catch {
    return undefined;
  }
}

/**
 * ofp_port curr and curr_speed from the device's link speed. sysfs refuses to answer for a
 * device that is down; veth and tun devices then report what their ethtool says, 10 Gb/s
 * full duplex (OVS shows the same for them).
 */
export function linkFeatures(link: Link | undefined): { curr: number; curr_speed: number; full?: boolean } {
  if (!link) return { curr: 0, curr_speed: 0 };
  // Two sysfs reads per port on every status write added up (~9 ms a port with 100 ports):
  // the answer is kept until the device's identity or state changes (a speed change comes
  // with a carrier change).
  const key = `${link.name}/${link.kind}/${link.up}/${link.running}`;
  const known = featuresCache.get(link.ifindex);
  if (known?.key === key) return known.features;
  const features = readLinkFeatures(link);
  featuresCache.set(link.ifindex, { key, features });
  if (featuresCache.size > 4096) featuresCache.delete(featuresCache.keys().next().value!);
  return features;
}

const featuresCache = new Map<number, { key: string; features: ReturnType<typeof linkFeatures> }>();

function readLinkFeatures(link: Link): ReturnType<typeof linkFeatures> {
  let mbps = Number(sysfs(link.name, 'speed') ?? -1);
  let full = sysfs(link.name, 'duplex') !== 'half';
  if (!(mbps > 0) && (link.kind === 'veth' || link.kind === 'tun')) [mbps, full] = [10000, true];
  if (!(mbps > 0)) return { curr: 0, curr_speed: 0 };
  const bits = speedBits[mbps];
  const speed = bits ? (full ? bits[1] : bits[0]) || bits[1] : OFPPF.OTHER;
  return { curr: (speed | OFPPF.COPPER) >>> 0, curr_speed: mbps * 1000, full };
}

/** ofp_port for a device. */
export function portDescFor(portNo: number, name: string, link: Link | undefined): Port {
  const down = !link || !link.running;
  const { curr, curr_speed } = linkFeatures(link);
  return {
    port_no: portNo,
    hw_addr: link?.mac ?? '00:00:00:00:00:00',
    name: name.slice(0, 15),
    config: link && !link.up ? OFPPC.PORT_DOWN : 0,
    state: down ? OFPPS.LINK_DOWN : OFPPS.LIVE,
    curr,
    advertised: 0,
    supported: 0,
    peer: 0,
    curr_speed,
    max_speed: 0,
  };
}

export interface BridgeDeps {
  rundir: string;
  log: Log;
  ofLog: OfLogger;
  swVersion: string;
  /** Kernel counters of a device, for port stats. */
  linkOf(ifindex: number): Promise<Link | undefined>;
}

export class RunningBridge {
  readonly ifaces = new Map<string, IfaceState>();
  readonly controllers = new Map<string, ControllerState>();
  readonly ofproto: BridgeOfproto;
  readonly endpoint: OpenFlowEndpoint;
  mgmt?: Listener;
  snoop?: Listener;
  mac = '00:00:00:00:00:00';
  dpid = 0n;
  cfg: BridgeConfig;
  /** The LOCAL device is ours (an internal device named like the bridge). */
  localCreated = false;
  /** What the flows were last flushed for (OVS flushes when either changes). */
  flushedFor?: { failMode: string; controllers: boolean };
  /** Since when no controller of this standalone bridge has been connected (fail-open's clock). */
  disconnectedSince?: number;
  /** The OpenFlow state on disk, for a restart that adopts the pinned datapath. */
  store?: FlowStore;
  /** PORT_MOD config bits an earlier run saved, by port name, until the port is back. */
  savedPortConfig = new Map<string, number>();
  private expiry?: NodeJS.Timeout;

  constructor(
    cfg: BridgeConfig,
    readonly datapath: BridgeDatapath,
    private readonly deps: BridgeDeps,
  ) {
    this.cfg = cfg;
    this.ofproto = new BridgeOfproto({
      datapath,
      datapathId: () => this.dpid,
      desc: () => ({ mfr_desc: 'xdpswitch', hw_desc: 'XDP datapath', sw_desc: deps.swVersion, serial_num: 'None', dp_desc: this.cfg.otherConfig.get('dp-desc') ?? 'None' }),
      publish: (m) => this.endpoint.publish(m),
      refreshPortCounters: () => this.refreshPortCounters(),
      log: deps.log,
    });
    this.endpoint = new OpenFlowEndpoint({ handler: this.ofproto, name: cfg.name, log: deps.ofLog, probeIntervalMs: 5000, backoffMinMs: 1000, backoffMaxMs: 8000, versions: versionsFromProtocols(cfg.protocols) });
    datapath.onPacketIn((p) => this.ofproto.packetIn(p));
  }

  get name(): string {
    return this.cfg.name;
  }

  get mgmtPath(): string {
    return `${this.deps.rundir}/${this.name}.mgmt`;
  }

  start(): void {
    this.expiry = setInterval(() => void this.ofproto.expire().catch((e: unknown) => this.deps.log.err(`${this.name}: flow expiry failed: ${String(e)}`)), 1000);
    this.expiry.unref();
  }

  /**
   * As OVS: ovs-ofctl's socket (its sessions probed every 60 s) and the snoop socket. Opened
   * once the bridge's ports are in (OVS's bridge_reconfigure configures remotes after adding
   * ports, in one loop iteration), so the first session already sees LOCAL and every port.
   */
  async listen(): Promise<void> {
    this.mgmt ??= await this.endpoint.listen(`punix:${this.mgmtPath}`, { probeIntervalMs: 60_000 });
    this.snoop ??= await this.endpoint.listen(`punix:${this.deps.rundir}/${this.name}.snoop`, { snoop: true });
  }

  async stop(opts: { keepPinned?: boolean } = {}): Promise<void> {
    if (this.expiry) clearInterval(this.expiry);
    await this.endpoint.close();
    for (const c of this.controllers.values()) await c.ssl?.close();
    await this.ofproto.barrier();
    await this.datapath.close(opts);
    if (opts.keepPinned) this.store?.close();
    else this.store?.remove();
  }

  /** ofports in use, LOCAL excluded. */
  private usedOfports(): Set<number> {
    return new Set([...this.ifaces.values()].filter((i) => i.ofport > 0).map((i) => i.ofport));
  }

  /** ofport_request when it is valid and free, else the lowest free number from 1. */
  allocOfport(req: number | undefined): number {
    const used = this.usedOfports();
    if (req !== undefined && req >= 1 && req <= MAX_OFPORT && !used.has(req)) return req;
    for (let n = 1; n <= MAX_OFPORT; n++) if (!used.has(n)) return n;
    return -1;
  }

  /** Adds a working interface to the pipeline and the datapath; tells controllers. */
  async attach(st: IfaceState, link: Link, dpLink: Link = link): Promise<void> {
    st.ifindex = link.ifindex;
    if (dpLink !== link) st.dpIfindex = dpLink.ifindex;
    st.running = link.running;
    // auto: frames from a local stack (veth, tap) carry partial checksums and GSO that
    // XDP would lose, so those ports run the pipeline at TC; devices with a driver at XDP.
    st.hookInUse = st.hook !== 'auto' ? st.hook : dpLink.kind === 'veth' || dpLink.kind === 'tun' ? 'tc' : 'xdp';
    const how = await this.datapath.addPort({ ofport: st.portNo, ifindex: dpLink.ifindex, name: st.cfg.name, hook: st.hookInUse });
    const kept = how === 'replaced' ? `; the earlier run's ${st.hookInUse === 'tc' ? 'pinned tcx link kept, its program' : 'program'} replaced in place` : '';
    this.deps.log.info(`${this.name}: ${st.cfg.name} (ofport ${st.portNo}) runs the pipeline at ${st.hookInUse === 'tc' ? 'TC ingress' : 'XDP'}${st.hook === 'auto' ? ` (auto for a ${link.kind ?? 'physical'} device)` : ''}${kept}`);
    const desc = this.restorePortConfig(addPort(this.ofproto.pipeline, portDescFor(st.portNo, st.cfg.name, link), Date.now()));
    this.ifaces.set(st.cfg.name, st);
    this.endpoint.publish({ type: 'PORT_STATUS', xid: 0, reason: OFPPR.ADD, desc });
  }

  /** A port back after a restart gets the PORT_MOD bits it had (NO_RECV, NO_FWD, ...). */
  private restorePortConfig(desc: Port): Port {
    const bits = this.savedPortConfig.get(desc.name);
    const s = this.ofproto.pipeline.ports.get(desc.port_no);
    if (!bits || !s) return desc;
    this.savedPortConfig.delete(desc.name);
    s.desc = { ...s.desc, config: (s.desc.config | bits) >>> 0 };
    this.deps.log.info(`${this.name}: ${desc.name} keeps the config bits 0x${bits.toString(16)} PORT_MOD set before the restart`);
    void this.ofproto.commit([{ kind: 'port-modify', port: s }]);
    return s.desc;
  }

  /** Adds a patch port: a pipeline port with no device (the datapath joins the two bridges). */
  attachPatch(st: IfaceState): void {
    const mac = randomBytes(6);
    mac[0] = (mac[0]! & 0xfe) | 0x02; // unicast, locally administered (OVS eth_addr_random)
    st.mac = [...mac].map((b) => b.toString(16).padStart(2, '0')).join(':');
    const desc = this.restorePortConfig(addPort(this.ofproto.pipeline, { port_no: st.portNo, name: st.cfg.name.slice(0, 15), hw_addr: st.mac, state: OFPPS.LIVE }, Date.now()));
    this.ifaces.set(st.cfg.name, st);
    this.endpoint.publish({ type: 'PORT_STATUS', xid: 0, reason: OFPPR.ADD, desc });
  }

  /**
   * Gives a patch port its end of the veth pair that joins it to its peer: the datapath
   * outputs to it like any port, and what the peer's bridge sends arrives on it.
   */
  async joinPatch(st: IfaceState, link: Link): Promise<void> {
    st.ifindex = link.ifindex;
    st.hookInUse = 'tc';
    st.patchDevice = link.name;
    const how = await this.datapath.addPort({ ofport: st.portNo, ifindex: link.ifindex, name: st.cfg.name, hook: 'tc' });
    this.deps.log.info(`${this.name}: patch port ${st.cfg.name} (ofport ${st.portNo}) joined to ${st.patchPeer} through ${link.name}${how === 'replaced' ? ' (pinned tcx link kept, program replaced in place)' : ''}`);
  }

  /** Parts a patch port from its peer: it stays in the pipeline, with nowhere to send. */
  async unjoinPatch(st: IfaceState): Promise<void> {
    if (st.ifindex === undefined) return;
    await this.datapath.removePort(st.portNo);
    st.ifindex = undefined;
    st.hookInUse = undefined;
  }

  /** Removes an interface from the pipeline and the datapath; tells controllers. */
  async detach(st: IfaceState): Promise<void> {
    this.ifaces.delete(st.cfg.name);
    if (st.ofport === -1) return;
    await this.datapath.removePort(st.portNo);
    const desc = removePort(this.ofproto.pipeline, st.portNo);
    if (desc) this.endpoint.publish({ type: 'PORT_STATUS', xid: 0, reason: OFPPR.DELETE, desc });
  }

  /** A link event on one of our devices: new port config/state, PORT_STATUS when they changed. */
  linkChanged(st: IfaceState, link: Link): boolean {
    const p = this.ofproto.pipeline.ports.get(st.portNo);
    // link_resets counts carrier changes, both ways (OVS netdev-linux).
    if (st.running !== undefined && st.running !== link.running) st.linkResets++;
    st.running = link.running;
    if (!p) return false;
    const fresh = portDescFor(st.portNo, st.cfg.name, link);
    // PORT_MOD may have set config bits; only PORT_DOWN follows the device.
    const config = (p.desc.config & ~OFPPC.PORT_DOWN) | fresh.config;
    const state = config & OFPPC.PORT_DOWN ? fresh.state & ~OFPPS.LIVE : fresh.state;
    if (config === p.desc.config && state === p.desc.state && fresh.hw_addr === p.desc.hw_addr) return false;
    p.desc = { ...p.desc, config, state, hw_addr: fresh.hw_addr };
    this.endpoint.publish({ type: 'PORT_STATUS', xid: 0, reason: OFPPR.MODIFY, desc: p.desc });
    return true;
  }

  /** Opens a Controller row's connection: active (tcp:, unix:, ssl:) or a listener (ptcp:, punix:, pssl:). */
  async addController(cfg: ControllerConfig): Promise<ControllerState> {
    const st: ControllerState = { cfg };
    this.controllers.set(controllerKey(cfg), st);
    // OVS: inactivity_probe default 5 s, 0 disables; max_backoff default 8 s, at least 1 s.
    const probeIntervalMs = cfg.inactivityProbe ?? 5000;
    // connection_mode: out-of-band is what runs. In-band (OVS's default, hidden flows that let
    // the controller's traffic through the bridge itself) is not implemented.
    if (cfg.connectionMode === 'in-band') this.deps.log.warn(`${this.name}: controller "${cfg.target}": in-band control is not supported; connecting out-of-band`);
    try {
      let target = cfg.target;
      if (/^p?ssl:/.test(target)) {
        const sock = `${this.deps.rundir}/${this.name}.${createHash('sha1').update(controllerKey(cfg)).digest('hex').slice(0, 8)}.ssl`;
        st.ssl = await startSsl(target, cfg.ssl, sock, (why) => {
          st.sslError = why;
          this.deps.log.warn(`${this.name}: ${why}`);
        });
        target = st.ssl.target;
      }
      const t = parseTarget(target);
      if (t.kind === 'tcp' || t.kind === 'unix') st.active = this.endpoint.connect(target, { probeIntervalMs, backoffMaxMs: Math.max(1000, cfg.maxBackoff ?? 8000) });
      else st.listener = await this.endpoint.listen(target, { type: cfg.type, probeIntervalMs });
      this.deps.log.info(`${this.name}: added controller "${cfg.target}"`);
    } catch (e) {
      st.error = e instanceof Error ? e.message : String(e);
      this.deps.log.err(`${this.name}: controller "${cfg.target}" not usable: ${st.error}`);
    }
    return st;
  }

  async removeController(key: string): Promise<void> {
    const st = this.controllers.get(key);
    if (!st) return;
    this.controllers.delete(key);
    st.active?.close();
    await st.listener?.close();
    await st.ssl?.close();
    this.deps.log.info(`${this.name}: removed controller "${st.cfg.target}"`);
  }

  private async refreshPortCounters(): Promise<void> {
    for (const st of this.ifaces.values()) {
      const p = this.ofproto.pipeline.ports.get(st.portNo);
      if (!p || st.ifindex === undefined) continue;
      // An internal port's hidden end counts from the bridge's side (OVS swaps rx and tx for them).
      const s = (await this.deps.linkOf(st.dpIfindex ?? st.ifindex))?.stats;
      if (!s) continue;
      p.counters = { rx_packets: s.rxPackets, tx_packets: s.txPackets, rx_bytes: s.rxBytes, tx_bytes: s.txBytes, rx_dropped: s.rxDropped, tx_dropped: s.txDropped };
    }
  }
}
