// src/ofproto/normal.ts — OFPP_NORMAL as OVS's learning switch (ofproto-dpif-xlate's
// xlate_normal): per-port VLAN modes from the Port row (tag, trunks, vlan_mode), source
// MACs learned per VLAN, known unicast to its port, the rest flooded within the VLAN, the
// tag pushed, popped or rewritten on the way out. The table lives in the pipeline and ages
// on the caller's clock; the datapath's FDB must agree with it. Bonds are not modelled.
// Per bridge (setNormalConfig): the aging time, the table size (when it is full, the least
// recently seen entry of the port with the most goes, as OVS evicts) and flood_vlans.
import type { FlowKey } from './match.js';
import type { Pipeline } from './pipeline.js';

/** OVS's default MAC aging time (other_config:mac-aging-time), seconds. */
export const MAC_AGING_SEC = 300;
/** OVS's default MAC table size (other_config:mac-table-size): MAC_DEFAULT_MAX. */
export const MAC_TABLE_SIZE = 2048;

/** A bridge's NORMAL settings: Bridge flood_vlans, other_config:mac-aging-time and mac-table-size. */
export interface NormalConfig {
  agingSec: number;
  tableSize: number;
  /** VLANs where nothing is learned and every frame floods. */
  floodVlans: ReadonlySet<number>;
}

export const DEFAULT_NORMAL_CONFIG: NormalConfig = { agingSec: MAC_AGING_SEC, tableSize: MAC_TABLE_SIZE, floodVlans: new Set() };

const configs = new WeakMap<Pipeline, NormalConfig>();

/** The NORMAL settings of a pipeline (the defaults until set). */
export function normalConfig(p: Pipeline): NormalConfig {
  return configs.get(p) ?? DEFAULT_NORMAL_CONFIG;
}

/**
 * Sets a pipeline's NORMAL settings. As OVS: a change of flood_vlans flushes the table; a
 * smaller table size evicts the oldest entries. Returns whether flood_vlans changed.
 */
export function setNormalConfig(p: Pipeline, c: NormalConfig): boolean {
  const old = normalConfig(p);
  configs.set(p, c);
  const floodChanged = old.floodVlans.size !== c.floodVlans.size || [...c.floodVlans].some((v) => !old.floodVlans.has(v));
  if (floodChanged) p.fdb.clear();
  evictOver(p, c.tableSize);
  return floodChanged;
}

/**
 * Evicts entries beyond `max` as OVS's evict_mac_entry_fairly does: the least recently seen
 * entry of the port that has the most (the table is kept in order of last sighting).
 */
function evictOver(p: Pipeline, max: number): void {
  while (p.fdb.size > max) {
    const perPort = new Map<number, number>();
    for (const e of p.fdb.values()) perPort.set(e.port, (perPort.get(e.port) ?? 0) + 1);
    const busiest = [...perPort].reduce((a, b) => (b[1] > a[1] ? b : a))[0];
    for (const [k, e] of p.fdb)
      if (e.port === busiest) {
        p.fdb.delete(k);
        break;
      }
  }
}

export interface MacEntry {
  port: number;
  seen: number;
}

/** A port's VLAN configuration (Port tag, trunks, vlan_mode); none means trunk of every VLAN. */
export interface PortVlan {
  mode: 'access' | 'trunk' | 'native-tagged' | 'native-untagged';
  tag?: number;
  /** Empty or absent: every VLAN. */
  trunks?: readonly number[];
}

const fdbKey = (vlan: number, mac: bigint) => `${vlan}/${mac}`;
const isMulticast = (mac: bigint) => ((mac >> 40n) & 1n) === 1n;
/** 01:80:c2:00:00:00-0f: link-local protocols a bridge must not forward (OVS: unless forward-bpdu). */
const isReserved = (mac: bigint) => mac >> 4n === 0x0180c200000n;

const trunkHas = (v: PortVlan, vlan: number) => !v.trunks?.length || v.trunks.includes(vlan);

/** Does the port carry `vlan` (OVS bundle_includes_vlan)? */
export function portCarries(v: PortVlan | undefined, vlan: number): boolean {
  if (!v) return true;
  switch (v.mode) {
    case 'access':
      return vlan === (v.tag ?? 0);
    case 'trunk':
      return trunkHas(v, vlan);
    default:
      return vlan === (v.tag ?? 0) || trunkHas(v, vlan);
  }
}

/** The VLAN a frame with tag `vid` (0: none) belongs to on ingress, or undefined to drop it. */
export function ingressVlan(v: PortVlan | undefined, vid: number): number | undefined {
  if (!v) return vid;
  switch (v.mode) {
    case 'access':
      return vid === 0 ? (v.tag ?? 0) : undefined;
    case 'trunk':
      return trunkHas(v, vid) ? vid : undefined;
    default:
      if (vid === 0) return v.tag ?? 0;
      return trunkHas(v, vid) ? vid : undefined;
  }
}

/** The tag a frame of `vlan` leaves the port with (0: untagged). */
export function egressVid(v: PortVlan | undefined, vlan: number): number {
  if (!v) return vlan;
  if (v.mode === 'access') return 0;
  if (v.mode === 'native-untagged' && vlan === (v.tag ?? 0)) return 0;
  return vlan;
}

export type NormalDecision = { vlan: number; to: number[] } | { drop: string };

/** Learns the source and says which ports NORMAL sends to, and in which VLAN. */
export function normalDecision(p: Pipeline, key: FlowKey, in_port: number, now: number): NormalDecision {
  const src = key.ETH_SRC;
  const dst = key.ETH_DST;
  if (src === undefined || dst === undefined) return { drop: 'no Ethernet header' };
  if (isReserved(dst)) return { drop: 'reserved destination MAC' };
  const vid = Number((key.VLAN_VID ?? 0n) & 0xfffn);
  const inVlan = p.ports.get(in_port)?.vlan;
  const vlan = ingressVlan(inVlan, vid);
  if (vlan === undefined) return { drop: `VLAN ${vid} not allowed on port ${in_port}` };
  const cfg = normalConfig(p);
  // flood_vlans: no learning and no lookup, every frame floods (OVS is_learning_vlan).
  const learning = !cfg.floodVlans.has(vlan);
  if (learning && !isMulticast(src)) {
    const k = fdbKey(vlan, src);
    p.fdb.delete(k); // re-inserted last: the table stays in order of last sighting
    p.fdb.set(k, { port: in_port, seen: now });
    evictOver(p, cfg.tableSize);
  }
  const hit = isMulticast(dst) || !learning ? undefined : p.fdb.get(fdbKey(vlan, dst));
  if (hit && now - hit.seen <= cfg.agingSec * 1000 && p.ports.has(hit.port)) {
    if (hit.port === in_port) return { drop: 'destination is on the ingress port' };
    return portCarries(p.ports.get(hit.port)!.vlan, vlan) ? { vlan, to: [hit.port] } : { drop: `port ${hit.port} does not carry VLAN ${vlan}` };
  }
  const to = [...p.ports.keys()].filter((n) => n !== in_port && portCarries(p.ports.get(n)!.vlan, vlan)).sort((a, b) => a - b);
  return { vlan, to };
}

/** Forgets entries older than the aging time, and those on a port that went away. */
export function ageFdb(p: Pipeline, now: number): void {
  const agingMs = normalConfig(p).agingSec * 1000;
  for (const [k, e] of p.fdb) if (now - e.seen > agingMs || !p.ports.has(e.port)) p.fdb.delete(k);
}

/**
 * Sets (or forgets, with undefined) what the table knows of `mac` in `vlan`: for a
 * datapath that learns in its fast path and tells the slow path where a MAC is.
 */
export function setMacEntry(p: Pipeline, vlan: number, mac: bigint, e: MacEntry | undefined): void {
  const k = fdbKey(vlan, mac);
  p.fdb.delete(k);
  if (!e) return;
  p.fdb.set(k, e);
  evictOver(p, normalConfig(p).tableSize);
}

/** What the table knows of `mac` in `vlan`, aged or not. */
export function getMacEntry(p: Pipeline, vlan: number, mac: bigint): MacEntry | undefined {
  return p.fdb.get(fdbKey(vlan, mac));
}
