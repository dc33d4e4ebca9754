// src/ofproto/port.ts — switch ports as the pipeline sees them: ofp_port description,
// config bits (PORT_MOD), state (liveness for fast-failover), and counters.
import { OFPPC, OFPPS } from '../../proto/openflow/constants.js';
import { OfpError } from '../../proto/openflow/errors.js';
import type { PortStats } from '../../proto/openflow/multipart.js';
import type { Port } from '../../proto/openflow/port.js';
import { duration, undoable, type Delta, type Pipeline } from './pipeline.js';
import type { PortVlan } from './normal.js';
import type { PortModInput } from './types.js';

export interface PortCounters {
  rx_packets: bigint;
  tx_packets: bigint;
  rx_bytes: bigint;
  tx_bytes: bigint;
  rx_dropped: bigint;
  tx_dropped: bigint;
}

export interface PortState {
  desc: Port;
  counters: PortCounters;
  added: number;
  /** VLAN configuration NORMAL honours (the Port row's tag, trunks, vlan_mode). */
  vlan?: PortVlan;
}

const CONFIG_BITS = OFPPC.PORT_DOWN | OFPPC.NO_RECV | OFPPC.NO_FWD | OFPPC.NO_PACKET_IN;

export function zeroCounters(): PortCounters {
  return { rx_packets: 0n, tx_packets: 0n, rx_bytes: 0n, tx_bytes: 0n, rx_dropped: 0n, tx_dropped: 0n };
}

/** Adds or replaces a port (the reconciler's call); returns its description for PORT_STATUS. */
export function addPort(p: Pipeline, desc: Partial<Port> & Pick<Port, 'port_no' | 'name'>, now = 0): Port {
  const full: Port = {
    hw_addr: '00:00:00:00:00:00',
    config: 0,
    state: OFPPS.LIVE,
    curr: 0,
    advertised: 0,
    supported: 0,
    peer: 0,
    curr_speed: 0,
    max_speed: 0,
    ...desc,
  };
  p.ports.set(full.port_no, { desc: full, counters: zeroCounters(), added: now });
  return full;
}

/** Sets (or clears) a port's VLAN configuration for OFPP_NORMAL. */
export function setPortVlan(p: Pipeline, port_no: number, vlan: PortVlan | undefined): void {
  const s = p.ports.get(port_no);
  if (s) s.vlan = vlan;
}

export function removePort(p: Pipeline, port_no: number): Port | undefined {
  const s = p.ports.get(port_no);
  p.ports.delete(port_no);
  return s?.desc;
}

/** Sets the link state bits (LINK_DOWN, BLOCKED, LIVE) from the netdev. */
export function setPortState(p: Pipeline, port_no: number, state: number): Port | undefined {
  const s = p.ports.get(port_no);
  if (!s) return undefined;
  s.desc = { ...s.desc, state };
  return s.desc;
}

/** Is the port usable for forwarding: present, not administratively down, link up (fast-failover liveness). */
export function portLive(p: Pipeline, port_no: number): boolean {
  const s = p.ports.get(port_no);
  if (!s) return false;
  return (s.desc.config & OFPPC.PORT_DOWN) === 0 && (s.desc.state & OFPPS.LINK_DOWN) === 0;
}

/** OFPT_PORT_MOD (§7.3.4.3). */
export function applyPortMod(p: Pipeline, mod: PortModInput): { error?: OfpError; deltas: Delta[]; status?: Port } {
  const s = p.ports.get(mod.port_no);
  if (!s) return { error: new OfpError('OFPPMFC_BAD_PORT', { why: `port ${mod.port_no}` }), deltas: [] };
  if (mod.hw_addr.toLowerCase() !== s.desc.hw_addr.toLowerCase()) return { error: new OfpError('OFPPMFC_BAD_HW_ADDR'), deltas: [] };
  if ((mod.mask | mod.config) & ~CONFIG_BITS) return { error: new OfpError('OFPPMFC_BAD_CONFIG', { why: `config 0x${mod.config.toString(16)} mask 0x${mod.mask.toString(16)}` }), deltas: [] };
  const config = ((s.desc.config & ~mod.mask) | (mod.config & mod.mask)) >>> 0;
  if (config === s.desc.config && mod.advertise === 0) return { deltas: [] };
  let state = s.desc.state;
  // A port brought down administratively loses its link, as OVS reports it (the netdev
  // goes down); brought up, it is live until the netdev says otherwise (setPortState).
  if (config & OFPPC.PORT_DOWN) state = (state & ~OFPPS.LIVE) | OFPPS.LINK_DOWN;
  else if (s.desc.config & OFPPC.PORT_DOWN) state = (state & ~OFPPS.LINK_DOWN) | OFPPS.LIVE;
  const was = s.desc;
  undoable(p, () => (s.desc = was));
  s.desc = { ...s.desc, config, state, ...(mod.advertise ? { advertised: mod.advertise } : {}) };
  return { deltas: [{ kind: 'port-modify', port: s }], status: s.desc };
}

export function portDesc(p: Pipeline): Port[] {
  return [...p.ports.values()].map((s) => s.desc).sort((a, b) => a.port_no - b.port_no);
}

/** OFPMP_PORT_STATS for one port or OFPP_ANY. */
export function portStats(p: Pipeline, port_no: number, now: number): PortStats[] | OfpError {
  const all = port_no === 0xffffffff;
  if (!all && !p.ports.has(port_no)) return new OfpError('OFPBRC_BAD_PORT', { why: `port ${port_no}` });
  return [...p.ports.values()]
    .filter((s) => all || s.desc.port_no === port_no)
    .sort((a, b) => a.desc.port_no - b.desc.port_no)
    .map((s) => ({
      port_no: s.desc.port_no,
      ...s.counters,
      rx_errors: 0n,
      tx_errors: 0n,
      rx_frame_err: 0n,
      rx_over_err: 0n,
      rx_crc_err: 0n,
      collisions: 0n,
      ...duration(s.added, now),
    }));
}
