// Typed netlink for the rest of xdpswitch: links (list, veth/tap create and delete, up/down,
// MTU, MAC, statistics), link events with up/down transitions, and ethtool features.
// The addon (rtnl.cc, ethtool.cc, tap.cc) only speaks to the kernel; meaning lives here.
import { constants as osConstants, endianness } from 'node:os';
import { native } from './addon.js';
import { NativeError } from './errors.js';
import type { RawFeature, RawLink, RawLinkEventKind, RawLinkMonitor } from './raw-netlink.js';

/** A link by name or by ifindex. */
export type LinkRef = string | number;

// IF_OPER_* (RFC 2863), indexed by value.
const operStates = ['unknown', 'notpresent', 'down', 'lowerlayerdown', 'testing', 'dormant', 'up'] as const;
export type OperState = (typeof operStates)[number];

// XDP_ATTACHED_*, indexed by value.
const xdpModes = [undefined, 'native', 'generic', 'offload', 'multi'] as const;
export type XdpMode = NonNullable<(typeof xdpModes)[number]>;

// struct rtnl_link_stats64 (include/uapi/linux/if_link.h): __u64 each, host byte order,
// in this order. Older kernels send a prefix; fields they lack read as 0.
const stats64Fields = [
  'rxPackets', 'txPackets', 'rxBytes', 'txBytes', 'rxErrors', 'txErrors', 'rxDropped', 'txDropped',
  'multicast', 'collisions', 'rxLengthErrors', 'rxOverErrors', 'rxCrcErrors', 'rxFrameErrors',
  'rxFifoErrors', 'rxMissedErrors', 'txAbortedErrors', 'txCarrierErrors', 'txFifoErrors',
  'txHeartbeatErrors', 'txWindowErrors', 'rxCompressed', 'txCompressed', 'rxNohandler',
  'rxOtherhostDropped',
] as const;
export type LinkStats = Record<(typeof stats64Fields)[number], bigint>;

// IFF_* bits of ifi_flags (include/uapi/linux/if.h).
const IFF_UP = 0x1;
const IFF_RUNNING = 0x40;
const IFF_LOWER_UP = 0x10000;

export interface Link {
  ifindex: number;
  name: string;
  /** rtnl_link_ops kind: "veth", "tun", "bridge", ...; undefined for plain devices (lo, NICs). */
  kind?: string;
  /** Kind of the master it is enslaved to ("bridge", "bond", ...). */
  slaveKind?: string;
  /** ARPHRD_* (1 = Ethernet). */
  arphrd: number;
  /** "aa:bb:cc:dd:ee:ff" (any length the link type uses); undefined when it has none. */
  mac?: string;
  mtu: number;
  /** Administratively up (IFF_UP). */
  up: boolean;
  /** Operationally up (IFF_RUNNING): what link up/down events follow. */
  running: boolean;
  /** Carrier (IFF_LOWER_UP). */
  lowerUp: boolean;
  operstate: OperState;
  /** Raw ifi_flags. */
  flags: number;
  /** ifindex of the master (bridge, bond). */
  master?: number;
  /** A veth's peer ifindex, in the namespace `peerNetnsid` when that is set. */
  peerIfindex?: number;
  /** Namespace id (as this namespace numbers it) holding the other end (IFLA_LINK_NETNSID). */
  peerNetnsid?: number;
  /** XDP attachment as the kernel reports it; progId is absent in "multi" mode. */
  xdp?: { mode: XdpMode; progId?: number };
  stats?: LinkStats;
}

export function formatMac(b: Uint8Array): string {
  return [...b].map((x) => x.toString(16).padStart(2, '0')).join(':');
}

/** Parses "aa:bb:cc:dd:ee:ff" (or "-" separated); throws TypeError otherwise. */
export function parseMac(mac: string): Buffer {
  if (!/^[0-9a-f]{2}([:-][0-9a-f]{2}){5}$/i.test(mac)) throw new TypeError(`not a MAC address: "${mac}"`);
  return Buffer.from(mac.split(/[:-]/).map((x) => parseInt(x, 16)));
}

function decodeStats(b: Buffer): LinkStats {
  const le = endianness() === 'LE';
  const out = {} as LinkStats;
  stats64Fields.forEach((f, i) => {
    const off = i * 8;
    out[f] = off + 8 <= b.length ? (le ? b.readBigUInt64LE(off) : b.readBigUInt64BE(off)) : 0n;
  });
  return out;
}

function toLink(r: RawLink): Link {
  const link: Link = {
    ifindex: r.ifindex,
    name: r.name,
    arphrd: r.type,
    mtu: r.mtu,
    up: (r.flags & IFF_UP) !== 0,
    running: (r.flags & IFF_RUNNING) !== 0,
    lowerUp: (r.flags & IFF_LOWER_UP) !== 0,
    operstate: operStates[r.operstate] ?? 'unknown',
    flags: r.flags >>> 0,
  };
  if (r.kind) link.kind = r.kind;
  if (r.slaveKind) link.slaveKind = r.slaveKind;
  if (r.mac.length) link.mac = formatMac(r.mac);
  if (r.master) link.master = r.master;
  if (r.kind === 'veth' && r.link) link.peerIfindex = r.link;
  if (r.linkNetnsid >= 0) link.peerNetnsid = r.linkNetnsid;
  const mode = xdpModes[r.xdpAttached];
  if (mode) link.xdp = r.xdpProgId ? { mode, progId: r.xdpProgId } : { mode };
  if (r.stats64.length) link.stats = decodeStats(r.stats64);
  return link;
}

/** A NativeError made on this side, shaped like the addon's. */
function nativeError(op: string, errno: number, detail: string): NativeError {
  const code = Object.entries(osConstants.errno).find(([, v]) => v === errno)?.[0] ?? `E${errno}`;
  const e = new NativeError(`${op} (${detail}): [${code}]`);
  e.op = op;
  e.code = code;
  e.errno = errno;
  e.detail = detail;
  return e;
}

function refArgs(ref: LinkRef): [number, string] {
  if (typeof ref === 'number') {
    if (!Number.isInteger(ref) || ref <= 0 || ref > 0x7fffffff) throw new TypeError(`not an ifindex: ${ref}`);
    return [ref, ''];
  }
  if (ref === '') throw new TypeError('empty interface name');
  return [0, ref];
}

export async function listLinks(): Promise<Link[]> {
  return (await native().rtnlListLinks()).map(toLink);
}

/** The link, or a NativeError with code ENODEV when there is none. */
export async function getLink(ref: LinkRef): Promise<Link> {
  return toLink(await native().rtnlGetLink(...refArgs(ref)));
}

/** The link, or undefined when there is none. */
export async function findLink(ref: LinkRef): Promise<Link | undefined> {
  try {
    return await getLink(ref);
  } catch (e) {
    if (e instanceof NativeError && e.code === 'ENODEV') return undefined;
    throw e;
  }
}

/**
 * Creates a veth pair `name` ↔ `peer`, the peer optionally moved at creation into the
 * named network namespace (as `ip netns add` names them). Both ends start down.
 */
export async function createVeth(name: string, peer: string, opts: { peerNetns?: string } = {}): Promise<Link> {
  await native().rtnlCreateVeth(name, peer, opts.peerNetns ?? '');
  return getLink(name);
}

/** Deletes a link (a veth's peer goes with it). */
export async function deleteLink(ref: LinkRef): Promise<void> {
  await native().rtnlDeleteLink(...refArgs(ref));
}

export interface LinkSettings {
  up?: boolean;
  mtu?: number;
  /** "aa:bb:cc:dd:ee:ff". */
  mac?: string;
}

/** Applies the given settings in one RTM_NEWLINK (all or nothing). */
export async function configureLink(ref: LinkRef, s: LinkSettings): Promise<void> {
  const opts: { up?: boolean; mtu?: number; mac?: Buffer } = {};
  if (s.up !== undefined) opts.up = s.up;
  if (s.mtu !== undefined) opts.mtu = s.mtu;
  if (s.mac !== undefined) opts.mac = parseMac(s.mac);
  await native().rtnlSetLink(...refArgs(ref), opts);
}

export const setLinkUp = (ref: LinkRef, up: boolean): Promise<void> => configureLink(ref, { up });
export const setLinkMtu = (ref: LinkRef, mtu: number): Promise<void> => configureLink(ref, { mtu });
export const setLinkMac = (ref: LinkRef, mac: string): Promise<void> => configureLink(ref, { mac });

export async function linkStats(ref: LinkRef): Promise<LinkStats> {
  const link = await getLink(ref);
  if (!link.stats) throw nativeError('rtnl_getlink IFLA_STATS64', osConstants.errno.EOPNOTSUPP, link.name);
  return link.stats;
}

/** Creates a persistent tap (no packet-info header); answers its name. EEXIST if taken. */
export function createTap(name: string): Promise<string> {
  return native().tapCreate(name);
}

export function deleteTap(name: string): Promise<void> {
  return native().tapDelete(name);
}

// ---- ethtool features ----

export interface Feature {
  name: string;
  active: boolean;
  requested: boolean;
  /** The driver lets it be changed ("[fixed]" in `ethtool -k` when false). */
  changeable: boolean;
}

export interface FeatureChange {
  /** Features whose state changed as asked. */
  changed: string[];
  /** Features asked for whose state is not what was asked (fixed, or the driver refused). */
  refused: string[];
  /** Every feature of the device after the change. */
  features: Map<string, Feature>;
}

function toFeatures(raw: RawFeature[]): Map<string, Feature> {
  const m = new Map<string, Feature>();
  for (const f of raw) {
    if (!f.name) continue;
    m.set(f.name, { name: f.name, active: f.active, requested: f.requested, changeable: f.available && !f.neverChanged });
  }
  return m;
}

/** Every ethtool feature of the device by name ("tx-checksum-ip-generic", ...). */
export async function getFeatures(ifname: string): Promise<Map<string, Feature>> {
  return toFeatures(await native().ethtoolGetFeatures(ifname));
}

/** Turns named features on/off; unknown names are a NativeError ENOENT. */
export async function setFeatures(ifname: string, wanted: Record<string, boolean>): Promise<FeatureChange> {
  const before = await getFeatures(ifname);
  const after = toFeatures(await native().ethtoolSetFeatures(ifname, wanted));
  const changed: string[] = [];
  const refused: string[] = [];
  for (const [name, on] of Object.entries(wanted)) {
    const now = after.get(name);
    if (now?.active !== on) refused.push(name);
    else if (before.get(name)?.active !== on) changed.push(name);
  }
  return { changed, refused, features: after };
}

/**
 * TX checksum offload, all `tx-checksum-*` features together (`ethtool -K tx`). Off: every
 * one must end inactive; on: every changeable one is turned on.
 */
export async function setTxChecksum(ifname: string, on: boolean): Promise<FeatureChange> {
  const all = [...(await getFeatures(ifname)).values()].filter((f) => f.name.startsWith('tx-checksum-'));
  const wanted: Record<string, boolean> = {};
  for (const f of all) if (!on || f.changeable) wanted[f.name] = on;
  return setFeatures(ifname, wanted);
}

/** RX VLAN offload (`ethtool -K rxvlan`, rx-vlan-hw-parse): off so XDP sees 802.1Q tags. */
export function setRxVlanOffload(ifname: string, on: boolean): Promise<FeatureChange> {
  return setFeatures(ifname, { 'rx-vlan-hw-parse': on });
}

// ---- link events ----

export type LinkEvent =
  | { type: 'add' | 'change'; link: Link; transition?: 'up' | 'down' }
  | { type: 'delete'; link: Link; transition?: 'down' };

// What a re-listing compares (statistics always move).
function sameState(a: Link | undefined, b: Link): boolean {
  return (
    a !== undefined &&
    a.name === b.name && a.flags === b.flags && a.mtu === b.mtu && a.mac === b.mac &&
    a.operstate === b.operstate && a.master === b.master && a.xdp?.progId === b.xdp?.progId
  );
}

export interface LinkWatchHandlers {
  /** One call per link added, changed or deleted; `transition` when `running` flipped. */
  onEvent(e: LinkEvent): void;
  /** The event socket failed, or re-listing after an overrun did. */
  onError(err: Error): void;
}

export interface LinkWatch {
  /** The links as last reported, by ifindex. */
  readonly links: ReadonlyMap<number, Link>;
  /** How many times events were lost (socket overrun) and the links re-listed. */
  readonly overruns: number;
  close(): void;
  /** Lets the process exit while watching (and `ref` undoes it). */
  unref(): void;
  ref(): void;
}

/**
 * Watches this namespace's links. Subscribes first, then lists, so nothing is missed;
 * events are judged against the listing: an ifindex not seen before is an 'add'. After
 * an overrun (events lost) it lists again and reports the difference as events.
 * `rcvbuf` sizes the event socket's buffer (default 4 MiB).
 */
export async function watchLinks(handlers: LinkWatchHandlers, opts: { rcvbuf?: number } = {}): Promise<LinkWatch> {
  const known = new Map<number, Link>();
  let queue: Array<{ del: boolean; link: Link }> | undefined = [];
  let closed = false;
  let overruns = 0;

  const apply = (del: boolean, link: Link): void => {
    const prev = known.get(link.ifindex);
    if (del) {
      known.delete(link.ifindex);
      const e: LinkEvent = { type: 'delete', link };
      if (prev?.running ?? link.running) e.transition = 'down';
      handlers.onEvent(e);
      return;
    }
    known.set(link.ifindex, link);
    const e: LinkEvent = { type: prev ? 'change' : 'add', link };
    if (prev ? prev.running !== link.running : link.running) e.transition = link.running ? 'up' : 'down';
    handlers.onEvent(e);
  };

  const resync = async (): Promise<void> => {
    const links = await listLinks();
    if (closed) return;
    const seen = new Set<number>();
    for (const l of links) {
      seen.add(l.ifindex);
      if (queue) known.set(l.ifindex, l); // the baseline
      else if (!sameState(known.get(l.ifindex), l)) apply(false, l);
    }
    if (queue) {
      const q = queue;
      queue = undefined;
      for (const ev of q) apply(ev.del, ev.link);
    } else {
      for (const [ifindex, l] of [...known]) if (!seen.has(ifindex)) apply(true, l);
    }
  };

  const onRaw = (kind: RawLinkEventKind, arg: RawLink | number | null): void => {
    if (closed) return;
    if ((kind === 0 || kind === 1) && arg !== null && typeof arg === 'object') {
      const link = toLink(arg);
      if (queue) queue.push({ del: kind === 1, link });
      else apply(kind === 1, link);
    } else if (kind === 2) {
      overruns++;
      resync().catch((e: unknown) => handlers.onError(e instanceof Error ? e : new Error(String(e))));
    } else if (kind === 3) {
      handlers.onError(nativeError('rtnl_monitor recv', typeof arg === 'number' ? arg : 0, 'RTNLGRP_LINK'));
    }
  };

  const mon: RawLinkMonitor = native().rtnlMonitor(onRaw, opts.rcvbuf);
  try {
    await resync();
  } catch (e) {
    mon.close();
    throw e;
  }
  return {
    links: known,
    get overruns() {
      return overruns;
    },
    close: () => {
      closed = true;
      mon.close();
    },
    unref: () => mon.unref(),
    ref: () => mon.ref(),
  };
}
