// src/ofproto/normal.ts — OFPP_NORMAL as a plain learning switch: the source MAC (per
// VLAN) is learned on the ingress port; known unicast goes to its port, the rest floods.
// The table lives in the pipeline, ages on the caller's clock, and is what the datapath's
// FDB must agree with. OVS's per-port VLAN modes and bonds are not modelled yet.
import type { FlowKey } from './match.js';
import type { Pipeline } from './pipeline.js';

/** OVS's default MAC aging time (other_config:mac-aging-time), seconds. */
export const MAC_AGING_SEC = 300;

export interface MacEntry {
  port: number;
  seen: number;
}

const fdbKey = (vid: bigint, mac: bigint) => `${vid}/${mac}`;
const isMulticast = (mac: bigint) => ((mac >> 40n) & 1n) === 1n;

/**
 * Learns `key`'s source and returns where NORMAL sends it: one port, or 'flood'.
 * Undefined: the destination is known on the ingress port, so the frame is dropped.
 */
export function normalDecision(p: Pipeline, key: FlowKey, in_port: number, now: number): number | 'flood' | undefined {
  const vid = (key.VLAN_VID ?? 0n) & 0xfffn;
  const src = key.ETH_SRC;
  const dst = key.ETH_DST;
  if (src === undefined || dst === undefined) return undefined;
  if (!isMulticast(src)) p.fdb.set(fdbKey(vid, src), { port: in_port, seen: now });
  if (isMulticast(dst)) return 'flood';
  const hit = p.fdb.get(fdbKey(vid, dst));
  if (!hit || now - hit.seen > MAC_AGING_SEC * 1000 || !p.ports.has(hit.port)) return 'flood';
  return hit.port === in_port ? undefined : hit.port;
}

/** Forgets entries older than the aging time, and those on a port that went away. */
export function ageFdb(p: Pipeline, now: number): void {
  for (const [k, e] of p.fdb) if (now - e.seen > MAC_AGING_SEC * 1000 || !p.ports.has(e.port)) p.fdb.delete(k);
}
