// src/ofproto/normal.ts — OFPP_NORMAL as OVS's learning switch (ofproto-dpif-xlate's
// xlate_normal): per-port VLAN modes from the Port row (tag, trunks, vlan_mode), source
// MACs learned per VLAN, known unicast to its port, the rest flooded within the VLAN, the
// tag pushed, popped or rewritten on the way out. The table lives in the pipeline and ages
// on the caller's clock; the datapath's FDB must agree with it. Bonds are not modelled.
import type { FlowKey } from './match.js';
import type { Pipeline } from './pipeline.js';

/** OVS's default MAC aging time (other_config:mac-aging-time), seconds. */
export const MAC_AGING_SEC = 300;

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
  if (!isMulticast(src)) p.fdb.set(fdbKey(vlan, src), { port: in_port, seen: now });
  const hit = isMulticast(dst) ? undefined : p.fdb.get(fdbKey(vlan, dst));
  if (hit && now - hit.seen <= MAC_AGING_SEC * 1000 && p.ports.has(hit.port)) {
    if (hit.port === in_port) return { drop: 'destination is on the ingress port' };
    return portCarries(p.ports.get(hit.port)!.vlan, vlan) ? { vlan, to: [hit.port] } : { drop: `port ${hit.port} does not carry VLAN ${vlan}` };
  }
  const to = [...p.ports.keys()].filter((n) => n !== in_port && portCarries(p.ports.get(n)!.vlan, vlan)).sort((a, b) => a - b);
  return { vlan, to };
}

/** Forgets entries older than the aging time, and those on a port that went away. */
export function ageFdb(p: Pipeline, now: number): void {
  for (const [k, e] of p.fdb) if (now - e.seen > MAC_AGING_SEC * 1000 || !p.ports.has(e.port)) p.fdb.delete(k);
}

/**
 * Sets (or forgets, with undefined) what the table knows of `mac` in `vlan`: for a
 * datapath that learns in its fast path and tells the slow path where a MAC is.
 */
export function setMacEntry(p: Pipeline, vlan: number, mac: bigint, e: MacEntry | undefined): void {
  if (e) p.fdb.set(fdbKey(vlan, mac), e);
  else p.fdb.delete(fdbKey(vlan, mac));
}

/** What the table knows of `mac` in `vlan`, aged or not. */
export function getMacEntry(p: Pipeline, vlan: number, mac: bigint): MacEntry | undefined {
  return p.fdb.get(fdbKey(vlan, mac));
}
