// src/vswitchd/vswitchd.ts — the reconciler from the Open_vSwitch database to the running
// switch, and back: bridges, ports and interfaces, controllers; status columns and
// cur_cfg written once a change is live. Each pass deletes what is gone, reconfigures
// what changed, then adds what is new; a pass over an unchanged database makes no calls.
import { createHash } from 'node:crypto';
import { existsSync, lstatSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { OFPP } from '../../proto/openflow/constants.js';
import type { BridgeDatapath } from '../datapath/bridge.js';
import { configureLink, createTap, createVeth, deleteLink, deleteTap, findLink, getLink, listLinks, setLinkMac, watchLinks, type Link, type LinkWatch } from '../native/netlink.js';
import { OvsdbClient, TransactionError, type Monitor, type Operation, type OvsdbRow, type OvsdbValue } from '../ovsdb/client.js';
import type { LogSink } from '../ovsdb/vlog.js';
import { controllerKey, linkFeatures, LOCAL_OFPORT, pickBridgeMac, pickDatapathId, RunningBridge, type IfaceState } from './bridge.js';
import { CONFIG_COLUMNS, readConfig, type BridgeConfig, type InterfaceConfig, type PortConfig, type SwitchConfig } from './config.js';
import { setPortVlan } from '../ofproto/port.js';
import { MAC_AGING_SEC, MAC_TABLE_SIZE, normalConfig, setNormalConfig, type NormalConfig } from '../ofproto/normal.js';
import { removeEntry } from '../ofproto/pipeline.js';
import { moduleLog, openflowLog, type Log } from './log.js';
import { PendingDatapath, SharedDatapath } from './pending-datapath.js';
import { pinDirFor, pinnedInstances, removePinned, type Hook } from '../datapath/datapath.js';
import { XdpBridgeDatapath } from '../datapath/xdp-bridge.js';
import { withKernelTier } from './kernel-tier.js';
import { BpfMap } from '../native/bpf.js';
import { FlowStore, restoreInto } from './flow-store.js';
import { adoptInternal, createInternal, deleteInternal, internalPeer } from './internal-dev.js';
import { versionsFromProtocols } from '../openflow/versions.js';

export interface VswitchdOptions {
  rundir: string;
  /** Where the database is served, e.g. `unix:/var/run/openvswitch/db.sock`. */
  dbRemote: string;
  sink: LogSink;
  /** Written to Open_vSwitch ovs_version. */
  swVersion: string;
  /** OpenFlow ofp_desc sw_desc. */
  ofVersion: string;
  /** Interface statistics refresh, ms (OVS: 5000). */
  statsIntervalMs?: number;
  /**
   * The datapath of a new bridge. Default: the compiled XDP pipeline (XdpBridgeDatapath);
   * PendingDatapath (attaches, forwards nothing) only where that cannot load.
   */
  datapath?: (bridge: string, log: Log) => BridgeDatapath;
}

const set = (atoms: OvsdbValue[]): OvsdbValue => ['set', atoms as never];
const map = (m: Record<string, string | number>): OvsdbValue => ['map', Object.entries(m) as never];
const byUuid = (u: string) => [['_uuid', '==', ['uuid', u]]] as never;

function osRelease(): { id: string; version: string } {
  try {
    const t = readFileSync('/etc/os-release', 'utf8');
    const get = (k: string) => new RegExp(`^${k}="?([^"\\n]*)"?$`, 'm').exec(t)?.[1] ?? '';
    return { id: get('ID'), version: get('VERSION_ID') };
  } catch {
    return { id: '', version: '' };
  }
}

/** The veth pair of two patch ports (`bridge/iface` each): named by both, so a restart finds it. */
function patchDevices(a: string, b: string): [string, string] {
  const [x, y] = [a, b].sort() as [string, string];
  const h = createHash('sha1').update(`${x}\0${y}`).digest('hex').slice(0, 8);
  return a === x ? [`xsp${h}a`, `xsp${h}b`] : [`xsp${h}b`, `xsp${h}a`];
}

/** The devices an instance's pinned port table names (those that still exist). */
async function pinnedDevices(dir: string): Promise<Link[]> {
  if (!existsSync(join(dir, 'xsw_ports'))) return [];
  const ports = BpfMap.fromPinned(join(dir, 'xsw_ports'));
  try {
    const out: Link[] = [];
    for (const key of ports.keys()) {
      const link = await findLink(key.readUInt32LE(0));
      if (link) out.push(link);
    }
    return out;
  } finally {
    ports.close();
  }
}

async function findLinkByName(name: string): Promise<Link | undefined> {
  return (await listLinks()).find((l) => l.name === name);
}

/** other_config:datapath-hook: xdp, tc, or auto (default: decided per device at attach). */
const hookOf = (i: InterfaceConfig): Hook | 'auto' => {
  const h = i.otherConfig.get('datapath-hook');
  return h === 'tc' || h === 'xdp' ? h : 'auto';
};
const ifaceKey = (i: InterfaceConfig, portName: string) => JSON.stringify([i.uuid, i.type, i.ofportRequest ?? null, hookOf(i), portName, i.type === 'patch' ? (i.options.get('peer') ?? null) : null]);

export class Vswitchd {
  readonly bridges = new Map<string, RunningBridge>();
  /** Side effects (devices, datapath, listeners, controllers) made by the last pass. */
  lastPassCalls = 0;
  passes = 0;
  private readonly log: Log;
  private calls = 0;
  private dirty = false;
  private draining = false;
  private running?: Promise<void>;
  private closed = false;
  private statusCache = new Map<string, string>();
  private versionWritten = false;
  private statusTimer?: NodeJS.Timeout;
  private statusSoonTimer?: NodeJS.Timeout;
  private statsTimer?: NodeJS.Timeout;
  private dbVersion = '';
  private ifaceKeys = new Map<string, string>();
  private watch?: LinkWatch;
  private failOpenBusy = false;
  private readonly datapath: SharedDatapath;

  private constructor(
    private readonly o: VswitchdOptions,
    private readonly client: OvsdbClient,
    private readonly monitor: Monitor,
  ) {
    this.log = moduleLog(o.sink, 'bridge');
    // Pinned maps are per run dir, so two daemons on one host never share them.
    this.datapath = new SharedDatapath(`vswitchd-${createHash('sha1').update(o.rundir).digest('hex').slice(0, 8)}`, moduleLog(o.sink, 'datapath'));
  }

  /** Connects to the database, applies what it holds, and keeps following it. */
  static async start(o: VswitchdOptions): Promise<Vswitchd> {
    const client = await OvsdbClient.connect(o.dbRemote);
    const monitor = await client.monitor('Open_vSwitch', Object.fromEntries(Object.entries(CONFIG_COLUMNS).map(([t, c]) => [t, [...c]])));
    const v = new Vswitchd(o, client, monitor);
    v.dbVersion = String((await client.getSchema('Open_vSwitch')).version ?? '');
    v.watch = await watchLinks({ onEvent: (e) => v.onLink(e.type, e.link), onError: (err) => v.log.warn(`link events: ${err.message}; link state may lag`) });
    v.watch.unref();
    monitor.on('change', () => v.schedule());
    client.on('close', () => {
      if (!v.closed) v.log.err(`lost the database connection ${o.dbRemote}`);
    });
    v.removeStaleSockets();
    await v.reconcileNow();
    await v.removeStale();
    v.statusTimer = setInterval(() => {
      v.statusSoon();
      for (const br of v.bridges.values()) {
        const slow = br.datapath.slowCounters?.();
        if (slow) br.store?.recordSlow(slow);
        br.ofproto.syncGroupCounters(); // the fast path's group counts, saved with the rest
        br.store?.recordGroups(br.ofproto.pipeline);
        if (br.datapath instanceof XdpBridgeDatapath) void br.datapath.trimMacs().catch((e: unknown) => v.log.warn(`${br.name}: trimming the MAC table failed: ${errText(e)}`));
      }
      void v.failOpenTick().catch((e: unknown) => v.log.err(`fail-open: ${errText(e)}`));
    }, 1000);
    v.statusTimer.unref();
    v.statsTimer = setInterval(() => void v.writeStatus(undefined, true).catch((e: unknown) => v.log.warn(`statistics update failed: ${String(e)}`)), o.statsIntervalMs ?? 5000);
    v.statsTimer.unref();
    return v;
  }

  /** Runs one pass now (after any pass under way); resolves to the calls it made. */
  async reconcileNow(): Promise<number> {
    while (this.running) await this.running;
    this.running = this.pass().finally(() => (this.running = undefined));
    await this.running;
    return this.lastPassCalls;
  }

  private schedule(): void {
    if (this.closed) return;
    this.dirty = true;
    if (this.draining) return;
    this.draining = true;
    setImmediate(() => void this.drain());
  }

  private async drain(): Promise<void> {
    while (this.dirty && !this.closed) {
      this.dirty = false;
      try {
        await this.reconcileNow();
      } catch (e) {
        this.log.err(`reconfiguration failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
      }
    }
    this.draining = false;
  }

  /** Counts a side effect of the pass. */
  private effect(what: string): void {
    this.calls++;
    this.log.dbg(what);
  }

  private async pass(): Promise<void> {
    const cfg = readConfig(this.monitor);
    this.calls = 0;
    this.passes++;
    const links = new Map((await listLinks()).map((l) => [l.name, l]));
    const want = new Map(cfg.bridges.map((b) => [b.name, b]));

    // Deletions first: a new port may reuse a removed port's name, a new bridge a removed one's.
    for (const [name, br] of this.bridges) {
      const b = want.get(name);
      await this.guard(name, () => (!b || b.uuid !== br.cfg.uuid ? this.destroyBridge(br) : this.removeGone(br, b, links)));
    }
    // Reconfigure what stays.
    for (const br of this.bridges.values()) {
      br.cfg = want.get(br.name)!;
      // Bridge protocols: sessions negotiate within them; those outside are closed (OVS reconnects them).
      br.endpoint.setAllowedVersions(versionsFromProtocols(br.cfg.protocols));
      await this.guard(br.name, () => this.configureIdentity(br, links));
    }
    // Additions.
    for (const b of cfg.bridges) await this.guard(b.name, () => this.addNew(b, links));
    await this.guard('patch ports', () => this.joinPatches());

    this.lastPassCalls = this.calls;
    await this.writeStatus(cfg, false);
    // What one pass changed can unblock more (an ofport freed for a request): passes
    // repeat until one makes no calls.
    if (this.calls) this.schedule();
  }

  /** Interfaces and controllers of a bridge that the configuration no longer has (or has changed). */
  private async removeGone(br: RunningBridge, b: BridgeConfig, links: Map<string, Link>): Promise<void> {
    const wantIfaces = new Map(b.ports.flatMap((p) => p.interfaces.map((i) => [i.name, { i, port: p.name }] as const)));
    for (const st of [...br.ifaces.values()]) {
      const w = wantIfaces.get(st.cfg.name);
      const link = links.get(st.cfg.name);
      const gone = !w || ifaceKey(w.i, w.port) !== this.ifaceKeys.get(`${br.name}/${st.cfg.name}`);
      const hasDevice = st.cfg.type !== 'patch';
      const deviceMoved = hasDevice && (st.ofport !== -1 ? link?.ifindex !== st.ifindex : link !== undefined && st.cfg.type !== 'internal' && st.cfg.type !== 'tap');
      // An ofport_request that was taken when the interface was added, and is free now.
      const req = w?.i.ofportRequest;
      const renumber = req !== undefined && req >= 1 && req <= 0xfeff && req !== st.ofport && st.portNo !== OFPP.LOCAL && st.ofport !== -1 && ![...br.ifaces.values()].some((o) => o !== st && o.ofport === req);
      if (gone || deviceMoved || renumber) await this.removeIface(br, st);
    }
    const wantCtl = new Set(b.controllers.map(controllerKey));
    for (const key of [...br.controllers.keys()]) {
      if (wantCtl.has(key)) continue;
      this.effect(`${br.name}: remove controller`);
      await br.removeController(key);
    }
  }

  /** A new bridge, and the interfaces and controllers a bridge does not have yet. */
  private async addNew(b: BridgeConfig, links: Map<string, Link>): Promise<void> {
    const known = this.bridges.get(b.name);
    const br = known ?? (await this.createBridge(b, links));
    if (!br) return;
    // A new bridge made its LOCAL device: list again (each dump costs ~1 ms per 100 devices).
    const fresh = known ? links : new Map((await listLinks()).map((l) => [l.name, l]));
    try {
      for (const p of b.ports) {
        for (const i of p.interfaces) if (!br.ifaces.has(i.name)) await this.addIface(br, i, p.name, fresh);
        this.configurePortVlan(br, p);
      }
      await this.flushIfNeeded(br, b);
      for (const c of b.controllers) {
        if (br.controllers.has(controllerKey(c))) continue;
        this.effect(`${b.name}: add controller ${c.target}`);
        await br.addController(c);
      }
      await this.configureIdentity(br, fresh);
    } finally {
      // ovs-ofctl's socket appears once the bridge has its ports, LOCAL among them, and its
      // datapath ID: a session opened as soon as <bridge>.mgmt exists (after a restart too)
      // sees the bridge as configured, never a half-built one.
      if (!br.mgmt) await this.listenOpenFlow(br);
    }
  }

  private async listenOpenFlow(br: RunningBridge): Promise<void> {
    try {
      await br.listen();
    } catch (e) {
      this.log.err(`${br.name}: could not listen for OpenFlow on ${br.mgmtPath} (${errText(e)}); retried on the next reconfiguration`);
    }
  }

  /**
   * Joins each patch port whose peer names it back to that peer through a veth pair (both
   * ends run their bridge's pipeline at TC, so a frame output to one is input on the other,
   * in the fast path); parts those whose peer went away.
   */
  private async joinPatches(): Promise<void> {
    const all = [...this.bridges.values()].flatMap((br) => [...br.ifaces.values()].filter((st) => st.patchPeer && st.ofport !== -1).map((st) => ({ br, st })));
    for (const { br, st } of all) {
      const peer = all.find((o) => o.br !== br && o.st.cfg.name === st.patchPeer && o.st.patchPeer === st.cfg.name);
      if (!peer) {
        if (st.ifindex === undefined) continue;
        this.effect(`${br.name}: part patch port ${st.cfg.name}`);
        const dev = st.patchDevice;
        await br.unjoinPatch(st);
        if (dev) await deleteLink(dev).catch(() => undefined);
        continue;
      }
      if (st.ifindex !== undefined) {
        if ((await findLink(st.ifindex))?.name === st.patchDevice) continue;
        await br.unjoinPatch(st); // someone deleted the pair: make it again
      }
      this.effect(`${br.name}: join patch port ${st.cfg.name}`);
      const [mine, theirs] = patchDevices(`${br.name}/${st.cfg.name}`, `${peer.br.name}/${peer.st.cfg.name}`);
      let link = await findLink(mine);
      if (!link) {
        await createVeth(mine, theirs);
        for (const [dev, mac] of [[mine, st.mac], [theirs, peer.st.mac]] as const) {
          // No addresses of the host's own (IPv6 autoconfiguration) leak into the bridges.
          try {
            writeFileSync(`/proc/sys/net/ipv6/conf/${dev}/disable_ipv6`, '1');
          } catch {
            // No IPv6 on this host.
          }
          await configureLink(dev, { up: true, ...(mac ? { mac } : {}) });
        }
        link = await getLink(mine);
      }
      await br.joinPatch(st, link);
    }
  }

  /**
   * OVS fail-open, once a second: a standalone bridge whose controllers have all been
   * disconnected for three of their longest probe intervals flushes its flows and forwards
   * by a hidden NORMAL flow; it leaves that mode once a controller is admitted (connected,
   * handshake done) or the bridge turns secure, and the controller owns the table again.
   */
  private async failOpenTick(): Promise<void> {
    if (this.failOpenBusy || this.closed) return;
    this.failOpenBusy = true;
    try {
      const now = Date.now();
      for (const br of this.bridges.values()) {
        const active = [...br.controllers.values()].flatMap((c) => (c.active ? [{ cfg: c.cfg, conn: c.active }] : []));
        const standalone = br.cfg.failMode === 'standalone' && active.length > 0;
        if (!standalone || active.some((c) => c.conn.connected)) {
          br.disconnectedSince = undefined;
          if (br.ofproto.failOpen && (!standalone || active.some((c) => c.conn.role !== undefined))) {
            this.log.warn(`${br.name}: No longer in fail-open mode`);
            await br.ofproto.setFailOpen(false);
          }
          continue;
        }
        br.disconnectedSince ??= now;
        // rconn: a probe interval is at least 5 s; 0 (no probes) fails open at once.
        const probeS = Math.max(...active.map((c) => (c.cfg.inactivityProbe === 0 ? 0 : Math.max(5, Math.round((c.cfg.inactivityProbe ?? 5000) / 1000)))));
        const secs = Math.floor((now - br.disconnectedSince) / 1000);
        if (secs >= 3 * probeS && !br.ofproto.failOpen) {
          this.log.warn(`${br.name}: Could not connect to controller (or switch failed controller's post-connection admission control policy) for ${secs} seconds, failing open`);
          await br.ofproto.setFailOpen(true);
        }
      }
    } finally {
      this.failOpenBusy = false;
    }
  }

  /** Port tag/trunks/vlan_mode into the model's NORMAL for each of the port's interfaces. */
  private configurePortVlan(br: RunningBridge, p: PortConfig): void {
    const want = JSON.stringify(p.vlan ?? null);
    for (const st of br.ifaces.values()) {
      if (st.portName !== p.name) continue;
      const have = br.ofproto.pipeline.ports.get(st.portNo);
      if (!have || JSON.stringify(have.vlan ?? null) === want) continue;
      this.effect(`${br.name}: ${p.name} VLAN ${want}`);
      setPortVlan(br.ofproto.pipeline, st.portNo, p.vlan);
      // The datapath learns of it as a port change (NORMAL's fast path applies the config).
      void br.ofproto.commit([{ kind: 'port-modify', port: have }]);
    }
  }

  /** One bridge's failure is logged and the pass goes on, so cur_cfg still advances (as in OVS). */
  private async guard(bridge: string, fn: () => Promise<void>): Promise<void> {
    try {
      await fn();
    } catch (e) {
      this.log.err(`${bridge}: reconfiguration failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
    }
  }

  /** The compiled pipeline for a bridge; its maps are pinned per run dir and bridge. */
  private openDatapath(bridge: string, log: Log): BridgeDatapath {
    const instance = `${this.datapath.instance}-${bridge}`;
    try {
      const t0 = performance.now();
      const dp = XdpBridgeDatapath.open(instance);
      const ms = Math.round(performance.now() - t0);
      dp.onWarning = (text) => log.warn(text);
      dp.onInfo = (text) => log.info(`${bridge}: ${text}`);
      if (dp.resetPins) log.warn(`${bridge}: the pinned maps of an earlier run do not fit this datapath (${dp.resetPins}); its flows are not kept`);
      log.info(`${bridge}: compiled OpenFlow pipeline loaded (maps ${dp.adopted ? 'adopted' : 'created'} in ${ms} ms, pinned under ${pinDirFor(instance)}; each hook's program is verified when its first port comes)`);
      return dp;
    } catch (e) {
      log.err(`${bridge}: cannot load the XDP datapath (${e instanceof Error ? e.message : String(e)}); the bridge forwards nothing`);
      return new PendingDatapath(this.datapath, log);
    }
  }

  /**
   * Bridges' OpenFlow sockets a killed daemon left, removed before the first pass: each
   * `<bridge>.mgmt` then exists only while its bridge listens, configured (see addNew).
   */
  private removeStaleSockets(): void {
    for (const f of readdirSync(this.o.rundir)) {
      if (!f.endsWith('.mgmt') && !f.endsWith('.snoop')) continue;
      const path = join(this.o.rundir, f);
      try {
        if (!lstatSync(path).isSocket()) continue;
        rmSync(path, { force: true });
        this.log.info(`removed ${path}, left by an earlier run; opened again once its bridge is configured`);
      } catch (e) {
        this.log.warn(`could not remove the stale socket ${path}: ${errText(e)}`);
      }
    }
  }

  /** `<rundir>/<bridge>.ofstate`: the bridge's flows as applied, read back by a restart. */
  private storePath(bridge: string): string {
    return join(this.o.rundir, `${bridge}.ofstate`);
  }

  /**
   * What a daemon killed earlier left for bridges that are no longer in the database: pinned
   * maps, tcx links and XDP programs, saved flows. Run once, after the first pass adopted the rest.
   */
  private async removeStale(): Promise<void> {
    for (const f of readdirSync(this.o.rundir)) {
      if (f.endsWith('.ofstate') && !this.bridges.has(f.slice(0, -'.ofstate'.length))) rmSync(join(this.o.rundir, f), { force: true });
    }
    const prefix = `${this.datapath.instance}-`;
    // A running bridge's pins under another layout version are stale too (an upgrade).
    const running = new Set([...this.bridges.keys()].map((b) => pinDirFor(`${prefix}${b}`)));
    const inUse = new Set([...this.bridges.values()].flatMap((b) => [...b.ifaces.values()].flatMap((st) => (st.ofport !== -1 && st.ifindex !== undefined ? [st.ifindex] : []))));
    for (const dir of pinnedInstances((i) => i.startsWith(prefix)).filter((d) => !running.has(d))) {
      const bridge = dir.slice(dir.lastIndexOf('/') + 1 + prefix.length);
      try {
        // The devices its ports were, read before the pins go: internal pairs and patch pairs are ours.
        const devices = await pinnedDevices(dir);
        removePinned(dir, inUse);
        for (const d of devices) if (!inUse.has(d.ifindex) && /^xs[ip][0-9a-f]{8}[ab]?$/.test(d.name)) await deleteLink(d.ifindex).catch(() => undefined);
        // Its LOCAL device, the tap the earlier run made, unless a bridge of that name runs.
        const local = this.bridges.has(bridge) ? undefined : await findLinkByName(bridge);
        const ours = local && (local.kind === 'tun' || (await internalPeer(local)) !== undefined);
        if (ours) await (local.kind === 'tun' ? deleteTap(bridge) : deleteInternal(bridge));
        this.log.info(`removed ${dir}${ours ? ` and the device ${bridge}` : ''}, pinned by an earlier run for a bridge no longer in the database`);
      } catch (e) {
        this.log.warn(`could not remove the stale pins ${dir}: ${errText(e)}`);
      }
    }
  }

  /**
   * A bridge whose datapath an earlier run pinned: its saved flows go back into the model and
   * the maps are brought to them with no gap, their counters carried over; controllers and
   * ovs-ofctl then see the same flows. Without saved flows the maps are emptied instead.
   */
  private async adopt(br: RunningBridge): Promise<void> {
    const dp = br.datapath;
    if (!dp.adopted || !dp.adopt) return;
    const saved = FlowStore.load(this.storePath(br.name));
    const p = br.ofproto.pipeline;
    const flows = saved ? restoreInto(p, saved) : [];
    let r;
    try {
      r = await dp.adopt(p, flows);
    } catch (e) {
      // E.g. more flows than one bank holds: start from no flows (the controller re-sends).
      for (const f of flows) removeEntry(p, f.entry);
      p.groups.clear();
      p.meters.clear();
      await dp.adopt(p, []);
      this.log.err(`${br.name}: could not adopt the ${flows.length} saved flows (${errText(e)}); starting with none`);
      return;
    }
    br.flushedFor = saved?.flushed;
    if (saved) br.savedPortConfig = new Map(saved.portConfig);
    br.ofproto.findHidden();
    for (const f of flows) if (f.slow) dp.seedSlowCounters?.(f.entry.id, f.slow);
    const torn = saved?.skipped ? `; ${saved.skipped} torn line(s) of ${this.storePath(br.name)} skipped` : '';
    this.log.info(
      saved
        ? `${br.name}: adopted the pinned datapath: kept ${r.flows} flows (${r.packets} packets counted so far), ${saved.groups.length} groups, ${saved.meters.length} meters, ports keep their programs until replaced in place; rules recompiled into bank ${r.bank} and switched per table with no gap, the earlier run's ${r.staleRules} rules retired${torn}`
        : `${br.name}: pinned datapath found but no saved flows; its ${r.staleRules} rules removed`,
    );
  }

  private async createBridge(b: BridgeConfig, links: Map<string, Link>): Promise<RunningBridge | undefined> {
    this.effect(`${b.name}: create`);
    const log = moduleLog(this.o.sink, 'datapath');
    const datapath = withKernelTier(this.o.datapath ? this.o.datapath(b.name, log) : this.openDatapath(b.name, log), b.name, log);
    const br = new RunningBridge(b, datapath, {
      rundir: this.o.rundir,
      log: this.log,
      ofLog: openflowLog(this.o.sink),
      swVersion: this.o.ofVersion,
      linkOf: (ifindex) => findLink(ifindex),
    });
    let local = links.get(b.name);
    try {
      await this.adopt(br);
      const store = new FlowStore(this.storePath(b.name), (id) => datapath.ruleSlot?.(id), () => datapath.slowCounters?.());
      store.keepPortConfig(br.savedPortConfig);
      store.snapshot(br.ofproto.pipeline, br.flushedFor, datapath.slowCounters?.());
      br.store = store;
      br.ofproto.onApplied = (deltas) => store.record(br.ofproto.pipeline, deltas, br.flushedFor);
      // The LOCAL device: ours from an earlier run (kept, so its traffic never stopped), or new.
      const ours = local ? await adoptInternal(local) : undefined;
      if (ours === 'replaced') local = undefined;
      if (!local) {
        local = (await createInternal(b.name)).dev;
        br.localCreated = true;
      } else {
        br.localCreated = ours !== undefined;
      }
      br.start();
    } catch (e) {
      this.log.err(`${b.name}: could not create bridge: ${e instanceof Error ? e.message : String(e)}`);
      await br.stop();
      if (br.localCreated) await deleteInternal(b.name).catch(() => undefined);
      return undefined;
    }
    br.mac = local.mac ?? '00:00:00:00:00:00';
    br.dpid = pickDatapathId(b.otherConfig, br.mac);
    this.bridges.set(b.name, br);
    this.log.info(`${b.name}: added bridge (datapath_type "${b.datapathType || 'system'}", fail_mode ${b.failMode})`);
    return br;
  }

  /** connmgr: flows are flushed when the bridge gains its first controller or loses its last, or fail_mode changes without one. */
  private async flushIfNeeded(br: RunningBridge, b: BridgeConfig): Promise<void> {
    const now = { failMode: b.failMode, controllers: b.controllers.some((c) => c.type === 'primary') };
    const was = br.flushedFor;
    if (was && was.controllers === now.controllers && (now.controllers || was.failMode === now.failMode)) return;
    br.flushedFor = now;
    this.effect(`${b.name}: flush flows`);
    if (was) this.log.info(`${b.name}: flows flushed (${was.controllers !== now.controllers ? (now.controllers ? 'first controller added' : 'last controller removed') : `fail_mode now ${now.failMode}`})`);
    await br.ofproto.flush(now.failMode === 'standalone' && !now.controllers);
    // After the flush is saved: a crash in between flushes again on restart, which is harmless.
    br.store?.setFlushed(now);
  }

  private async destroyBridge(br: RunningBridge, opts: { keepPinned?: boolean } = {}): Promise<void> {
    this.effect(`${br.name}: destroy`);
    if (opts.keepPinned) {
      // Ports, devices, maps and flows stay as they are for the next daemon to adopt.
      await br.stop(opts);
      this.bridges.delete(br.name);
      this.log.info(`${br.name}: left running in the datapath for the next start`);
      return;
    }
    for (const st of [...br.ifaces.values()]) await this.removeIface(br, st);
    await br.stop(opts);
    if (br.localCreated) await deleteInternal(br.name).catch((e: unknown) => this.log.warn(`${br.name}: could not delete its device: ${String(e)}`));
    this.bridges.delete(br.name);
    this.log.info(`${br.name}: deleted bridge`);
  }

  /** Bridge MAC and datapath id follow other_config and the ports (OVS: bridge_pick_local_hw_addr). */
  /**
   * Bridge flood_vlans and other_config mac-aging-time / mac-table-size into NORMAL, read and
   * bounded as OVS's bridge.c and mac-learning.c do (15-3600 s, 10-1,000,000 entries).
   */
  private configureNormal(br: RunningBridge): void {
    const int = (k: string, dflt: number): number => {
      const v = br.cfg.otherConfig.get(k);
      return v !== undefined && /^-?\d+$/.test(v.trim()) ? Number(v) : dflt;
    };
    const aging = int('mac-aging-time', MAC_AGING_SEC);
    const size = int('mac-table-size', MAC_TABLE_SIZE);
    const want: NormalConfig = {
      // OVS reads the aging time as unsigned: a negative one is the longest.
      agingSec: aging < 0 ? 3600 : Math.min(3600, Math.max(15, aging)),
      tableSize: Math.min(1_000_000, Math.max(10, size)),
      floodVlans: new Set(br.cfg.floodVlans),
    };
    const have = normalConfig(br.ofproto.pipeline);
    const key = (c: NormalConfig) => JSON.stringify([c.agingSec, c.tableSize, [...c.floodVlans].sort((a, b) => a - b)]);
    if (key(have) === key(want)) return;
    this.effect(`${br.name}: NORMAL mac-aging-time ${want.agingSec} s, mac-table-size ${want.tableSize}, flood_vlans [${[...want.floodVlans].join(',')}]`);
    if (setNormalConfig(br.ofproto.pipeline, want)) this.log.info(`${br.name}: flood_vlans now [${[...want.floodVlans].join(',')}]: MAC learning table flushed`);
    if (br.datapath instanceof XdpBridgeDatapath) {
      const cap = br.datapath.macCapacity();
      if (want.tableSize > cap) this.log.warn(`${br.name}: mac-table-size ${want.tableSize} is more than the fast path's MAC table holds (${cap}): at most ${cap} MACs are known`);
      br.datapath.syncNormal();
    }
  }

  private async configureIdentity(br: RunningBridge, links: Map<string, Link>): Promise<void> {
    this.configureNormal(br);
    const portMacs = [...br.ifaces.values()].filter((s) => s.ofport > 0 && s.cfg.type !== 'internal').map((s) => links.get(s.cfg.name)?.mac ?? '');
    const local = links.get(br.name);
    const mac = pickBridgeMac(br.cfg.otherConfig, portMacs, br.mac);
    if (local && br.localCreated && local.mac !== mac) {
      this.effect(`${br.name}: set MAC ${mac}`);
      await setLinkMac(br.name, mac).catch((e: unknown) => this.log.warn(`${br.name}: could not set MAC ${mac}: ${String(e)}`));
    }
    br.mac = mac;
    const dpid = pickDatapathId(br.cfg.otherConfig, mac);
    if (dpid !== br.dpid) {
      this.log.info(`${br.name}: using datapath ID ${dpid.toString(16).padStart(16, '0')}`);
      br.dpid = dpid;
    }
  }

  private async addIface(br: RunningBridge, i: InterfaceConfig, portName: string, links: Map<string, Link>): Promise<void> {
    this.effect(`${br.name}: add interface ${i.name}`);
    this.ifaceKeys.set(`${br.name}/${i.name}`, ifaceKey(i, portName));
    const local = i.name === br.name;
    const st: IfaceState = { cfg: i, portName, ofport: -1, portNo: 0, hook: hookOf(i), created: false, linkResets: 0 };
    let link = links.get(i.name);
    const fail = (error: string): void => {
      st.error = error;
      br.ifaces.set(i.name, st);
      this.log.warn(`${br.name}: ${error}`);
    };
    if (i.type === 'patch') {
      const peer = i.options.get('peer');
      if (!peer || peer === i.name) return fail(`${i.name}: patch type requires valid 'peer' argument`);
      st.patchPeer = peer;
      st.ofport = br.allocOfport(i.ofportRequest ?? i.ofportHint);
      st.portNo = st.ofport;
      br.attachPatch(st);
      this.log.info(`${br.name}: added patch port ${i.name} (peer ${peer}) on port ${st.ofport}`);
      return;
    }
    // internal: a device pair we create; tap: a tap device we create (the bridge's own
    // internal device is made with the bridge).
    const ownDevice = i.type === 'internal' || i.type === 'tap';
    let dpLink: Link | undefined;
    if (i.type === 'internal' && !local && link) {
      // Left by a daemon that was killed: ours to reuse and to delete.
      const ours = await adoptInternal(link);
      if (ours === 'replaced') link = undefined;
      else if (ours) {
        dpLink = ours.peer;
        st.created = true;
      }
    }
    if (ownDevice && !local && !link) {
      try {
        if (i.type === 'internal') {
          const pair = await createInternal(i.name);
          link = pair.dev;
          dpLink = pair.peer;
        } else {
          await createTap(i.name);
          link = await getLink(i.name);
        }
        st.created = true;
      } catch (e) {
        return fail(`could not open network device ${i.name} (${errText(e)})`);
      }
    } else if (i.type === 'tap' && !local) {
      // A tap left by a daemon that was killed: ours to reuse and to delete.
      st.created = link?.kind === 'tun';
    } else if (local && link && br.localCreated) {
      dpLink = await internalPeer(link);
    } else if (i.type !== '' && i.type !== 'system' && !ownDevice) {
      return fail(`could not open network device ${i.name} (Address family not supported by protocol)`);
    }
    if (!link) return fail(`could not open network device ${i.name} (No such device)`);
    if (local) {
      st.portNo = OFPP.LOCAL;
      st.ofport = LOCAL_OFPORT;
    } else {
      st.ofport = br.allocOfport(i.ofportRequest ?? i.ofportHint);
      st.portNo = st.ofport;
    }
    try {
      await br.attach(st, link, dpLink);
      this.log.info(`${br.name}: added interface ${i.name} on port ${st.ofport} (${st.hook})`);
    } catch (e) {
      await br.datapath.removePort(st.portNo).catch(() => undefined);
      st.ofport = -1;
      st.portNo = 0;
      if (st.created) await (i.type === 'internal' ? deleteInternal(i.name) : deleteTap(i.name)).catch(() => undefined);
      st.created = false;
      fail(`could not add network device ${i.name} to ofproto (${errText(e)})`);
    }
  }

  private async removeIface(br: RunningBridge, st: IfaceState): Promise<void> {
    this.effect(`${br.name}: remove interface ${st.cfg.name}`);
    this.ifaceKeys.delete(`${br.name}/${st.cfg.name}`);
    await br.detach(st);
    // A joined patch port: the pair goes (its peer is parted on the next pass).
    if (st.patchDevice) await deleteLink(st.patchDevice).catch(() => undefined);
    if (st.created) await (st.cfg.type === 'internal' ? deleteInternal(st.cfg.name) : deleteTap(st.cfg.name)).catch((e: unknown) => this.log.warn(`${br.name}: could not delete ${st.cfg.name}: ${String(e)}`));
    if (st.ofport !== -1) this.log.info(`${br.name}: deleted interface ${st.cfg.name} on port ${st.ofport}`);
  }

  private onLink(type: 'add' | 'change' | 'delete', link: Link): void {
    let changed = false;
    let reconfigure = false;
    for (const br of this.bridges.values()) {
      for (const st of br.ifaces.values()) {
        if (st.patchPeer) {
          // A patch port's veth is ours alone: only its disappearance matters.
          if (st.ifindex === link.ifindex && type === 'delete') reconfigure = true;
        } else if (st.ifindex === link.ifindex && st.ofport !== -1) {
          // A device gone or renamed is a reconfiguration; anything else (flags, MTU, MAC) is status.
          if (type === 'delete' || link.name !== st.cfg.name) reconfigure = true;
          else {
            br.linkChanged(st, link);
            changed = true;
          }
        } else if (st.cfg.name === link.name && (st.ofport === -1 || st.ifindex !== link.ifindex) && type !== 'change') {
          reconfigure = true;
        }
      }
    }
    if (reconfigure) this.schedule();
    if (changed) this.statusSoon();
  }

  /** Writes status within ~100 ms (link changes must reach the Interface rows within a second). */
  private statusSoon(): void {
    if (this.statusSoonTimer || this.closed) return;
    this.statusSoonTimer = setTimeout(() => {
      this.statusSoonTimer = undefined;
      void this.writeStatus(undefined, false).catch((e: unknown) => this.log.warn(`status update failed: ${String(e)}`));
    }, 100);
  }

  /**
   * Writes the status columns that changed since the last write, and `cur_cfg` when a pass
   * passes its configuration. With `stats`, interface statistics too.
   */
  private async writeStatus(cfg: SwitchConfig | undefined, stats: boolean): Promise<void> {
    if (this.closed) return;
    const ops: Operation[] = [];
    const cache = new Map<string, string>();
    const push = (table: string, uuid: string, row: OvsdbRow): void => {
      const key = `${table}:${uuid}`;
      const json = JSON.stringify(row);
      cache.set(key, json);
      if (this.statusCache.get(key) !== json) ops.push({ op: 'update', table, where: byUuid(uuid), row });
    };
    const links = new Map((await listLinks()).map((l) => [l.ifindex, l]));
    for (const br of this.bridges.values()) {
      push('Bridge', br.cfg.uuid, { datapath_id: br.dpid.toString(16).padStart(16, '0'), datapath_version: '<built-in>' });
      for (const st of br.ifaces.values()) {
        if (st.patchPeer && st.ofport !== -1) {
          push('Interface', st.cfg.uuid, this.patchStatus(br, st));
          continue;
        }
        const link = st.ifindex !== undefined ? links.get(st.ifindex) : undefined;
        if (st.ofport === -1 || !link) {
          push('Interface', st.cfg.uuid, { ofport: -1, error: st.error ?? `could not open network device ${st.cfg.name} (No such device)`, ifindex: set([]), mac_in_use: set([]), mtu: set([]), admin_state: set([]), link_state: set([]) });
          continue;
        }
        const row: OvsdbRow = {
          ofport: st.ofport,
          ifindex: link.ifindex,
          mac_in_use: link.mac ?? '00:00:00:00:00:00',
          mtu: link.mtu,
          admin_state: link.up ? 'up' : 'down',
          link_state: link.running ? 'up' : 'down',
          link_resets: st.linkResets,
          error: set([]),
        };
        if (st.hookInUse) row.status = map({ datapath_hook: st.hookInUse });
        const speed = linkFeatures(link);
        row.link_speed = speed.curr_speed ? speed.curr_speed * 1000 : set([]);
        row.duplex = speed.curr_speed ? (speed.full ? 'full' : 'half') : set([]);
        const key = `Interface:${st.cfg.uuid}`;
        if (stats || !this.statusCache.has(key)) {
          const s = link.stats;
          if (s)
            row.statistics = map({
              collisions: Number(s.collisions), rx_bytes: Number(s.rxBytes), rx_crc_err: Number(s.rxCrcErrors), rx_dropped: Number(s.rxDropped),
              rx_errors: Number(s.rxErrors), rx_frame_err: Number(s.rxFrameErrors), rx_missed_errors: Number(s.rxMissedErrors), rx_over_err: Number(s.rxOverErrors),
              rx_packets: Number(s.rxPackets), tx_bytes: Number(s.txBytes), tx_dropped: Number(s.txDropped), tx_errors: Number(s.txErrors), tx_packets: Number(s.txPackets),
            });
        } else {
          // Statistics are refreshed on their own timer; compare the rest.
          const prev = JSON.parse(this.statusCache.get(key) as string) as OvsdbRow;
          if (prev.statistics !== undefined) row.statistics = prev.statistics;
        }
        push('Interface', st.cfg.uuid, row);
      }
      for (const c of br.controllers.values()) {
        // As OVS writes them: state, last_error; role only while connected.
        const a = c.active;
        const status: Record<string, string> = c.error ? { last_error: c.error } : { state: a ? a.state : 'LISTENING' };
        if (a?.lastError && !a.connected) status.last_error = a.lastError;
        if (c.sslError && !a?.connected) status.last_error = c.sslError;
        const role = a?.connected && a.role ? ({ EQUAL: 'other', MASTER: 'master', SLAVE: 'slave' } as const)[a.role] : undefined;
        push('Controller', c.cfg.uuid, { is_connected: a?.connected ?? false, role: role ?? set([]), status: map(status) });
      }
    }
    const root = cfg?.root ?? (() => {
      const r = [...this.monitor.rows('Open_vSwitch').values()][0];
      return r ? { uuid: r._uuid } : undefined;
    })();
    if (root) {
      const row: OvsdbRow = {};
      if (!this.versionWritten) {
        const os = osRelease();
        Object.assign(row, {
          ovs_version: this.o.swVersion,
          db_version: this.dbVersion,
          system_type: os.id,
          system_version: os.version,
          datapath_types: set(['netdev', 'system']),
          dpdk_initialized: false,
          dpdk_version: 'none',
          iface_types: set(['internal', 'patch', 'system', 'tap']),
        });
      }
      if (cfg?.root && cfg.root.curCfg !== cfg.root.nextCfg) row.cur_cfg = cfg.root.nextCfg;
      if (Object.keys(row).length) ops.push({ op: 'update', table: 'Open_vSwitch', where: byUuid(root.uuid), row });
    }
    if (!ops.length) {
      this.statusCache = cache;
      return;
    }
    try {
      await this.client.transact('Open_vSwitch', ...ops);
    } catch (e) {
      // A status value the database refuses must not keep ovs-vsctl waiting: cur_cfg alone.
      if (!(e instanceof TransactionError) || !root || !cfg?.root || cfg.root.curCfg === cfg.root.nextCfg) throw e;
      this.log.err(`status update refused (${e.message}); writing cur_cfg alone`);
      await this.client.transact('Open_vSwitch', { op: 'update', table: 'Open_vSwitch', where: byUuid(root.uuid), row: { cur_cfg: cfg.root.nextCfg } });
      this.statusCache = new Map();
      return;
    }
    if (root) this.versionWritten = true;
    // Rows deleted meanwhile update nothing; keeping only current rows keeps the cache small.
    this.statusCache = cache;
  }

  /** A patch port's columns, as OVS writes them; the error names a missing or mismatched peer. */
  private patchStatus(br: RunningBridge, st: IfaceState): OvsdbRow {
    const peerOk = [...this.bridges.values()].some((b) => b !== br && b.ifaces.get(st.patchPeer!)?.patchPeer === st.cfg.name);
    const dpType = br.cfg.datapathType || 'system';
    return {
      ofport: st.ofport,
      ifindex: 0,
      mac_in_use: st.mac ?? '00:00:00:00:00:00',
      mtu: set([]),
      admin_state: 'up',
      link_state: 'up',
      link_resets: 0,
      statistics: map({ rx_bytes: 0, rx_packets: 0, tx_bytes: 0, tx_packets: 0 }),
      error: peerOk ? set([]) : `No usable peer '${st.patchPeer}' exists in '${dpType}' datapath.`,
    };
  }

  /** Removes every bridge (their devices, programs and maps) and leaves the database. */
  async close(opts: { keepPinned?: boolean } = {}): Promise<void> {
    if (this.closed) return;
    while (this.running) await this.running;
    this.closed = true;
    for (const t of [this.statusTimer, this.statsTimer]) if (t) clearInterval(t);
    if (this.statusSoonTimer) clearTimeout(this.statusSoonTimer);
    this.watch?.close();
    for (const br of [...this.bridges.values()]) await this.destroyBridge(br, opts);
    this.client.close();
  }
}

function errText(e: unknown): string {
  if (e && typeof e === 'object' && 'code' in e && typeof (e as { code: unknown }).code === 'string') {
    const code = (e as { code: string }).code;
    const texts: Record<string, string> = { ENODEV: 'No such device', EEXIST: 'File exists', EBUSY: 'Device or resource busy', EPERM: 'Operation not permitted', EINVAL: 'Invalid argument', EOPNOTSUPP: 'Operation not supported' };
    return texts[code] ?? code;
  }
  return e instanceof Error ? e.message : String(e);
}
