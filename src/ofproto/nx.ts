// src/ofproto/nx.ts — the Nicira register actions OVS users write (load, move, resubmit,
// output:reg, controller(...)): fields named by OXM/NXM header, bit ranges within them.
// NXM_OF_* headers (class 0) name the same fields as their OpenFlow-basic twins.
import { OFPXMC_NXM_0, oxmByHeader, oxmFields, type OxmName } from '../../proto/openflow/oxm.js';
import { fullMask } from './match.js';

/** NXM_OF_* field numbers with an OXM twin of the same meaning and width. */
const NXM_OF: Record<number, OxmName> = {
  1: 'ETH_DST',
  2: 'ETH_SRC',
  3: 'ETH_TYPE',
  6: 'IP_PROTO',
  7: 'IPV4_SRC',
  8: 'IPV4_DST',
  9: 'TCP_SRC',
  10: 'TCP_DST',
  11: 'UDP_SRC',
  12: 'UDP_DST',
  13: 'ICMPV4_TYPE',
  14: 'ICMPV4_CODE',
  15: 'ARP_OP',
  16: 'ARP_SPA',
  17: 'ARP_TPA',
};

/** The field an OXM or NXM header names, if the model knows it. */
export function fieldOfHeader(header: number): OxmName | undefined {
  if (header >>> 16 === OFPXMC_NXM_0) return NXM_OF[(header >> 9) & 0x7f];
  return oxmByHeader(header);
}

/** Bits a field holds (VLAN_VID counts its present bit). */
export function fieldBits(f: OxmName): number {
  const row = oxmFields[f] as { bits?: number; width: number };
  return row.bits ?? row.width * 8;
}

/** `ofs_nbits` of nx_action_reg_load / output_reg: offset in the high 10 bits, bits - 1 in the low 6. */
export function ofsNbits(v: number): { ofs: number; nbits: number } {
  return { ofs: v >> 6, nbits: (v & 0x3f) + 1 };
}

/** `old` with bits [ofs, ofs + nbits) replaced by `v`. */
export function withBits(old: bigint, ofs: number, nbits: number, v: bigint): bigint {
  const mask = ((1n << BigInt(nbits)) - 1n) << BigInt(ofs);
  return (old & ~mask) | ((v << BigInt(ofs)) & mask);
}

export function bitsOf(v: bigint, ofs: number, nbits: number): bigint {
  return (v >> BigInt(ofs)) & ((1n << BigInt(nbits)) - 1n);
}

export { fullMask };
