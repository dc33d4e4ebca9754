// test/ct/helpers.ts — builders for the conntrack actions in the spec's field names, and
// the classic stateful firewall every conntrack test starts from.
import { encodeNatRange, NX_CT_RECIRC_NONE, NX_NAT_F, type Action, type CtAction, type NatRange } from '../../proto/openflow/actions.js';
import type { FlowModInput } from '../../src/ofproto/types.js';
import { apply, flowMod, m, output } from '../ofproto/helpers.js';

export interface CtOpts {
  commit?: boolean;
  force?: boolean;
  zone?: number;
  /** zone=NXM…[ofs..]: header and ofs_nbits */
  zoneSrc?: { header: number; ofsNbits: number };
  table?: number;
  alg?: number;
  exec?: CtAction[];
}

export function ct(o: CtOpts = {}): Action {
  return {
    type: 'NX_CT',
    flags: (o.commit ? 1 : 0) | (o.force ? 2 : 0),
    zone_src: o.zoneSrc?.header ?? 0,
    zone: o.zoneSrc?.ofsNbits ?? o.zone ?? 0,
    recirc_table: o.table ?? NX_CT_RECIRC_NONE,
    alg: o.alg ?? 0,
    actions: o.exec ?? [],
  };
}

export function nat(kind?: 'src' | 'dst', range: NatRange = {}, flags = 0): CtAction {
  return { type: 'NX_NAT', flags: flags | (kind === 'src' ? NX_NAT_F.SRC : kind === 'dst' ? NX_NAT_F.DST : 0), ...encodeNatRange(range) };
}

export const setMark = (value: number): CtAction => ({ type: 'SET_FIELD', field: { field: 'NXM_NX_CT_MARK', value } });
export const setLabel = (value: bigint): CtAction => ({ type: 'SET_FIELD', field: { field: 'NXM_NX_CT_LABEL', value } });
export const ctClear: Action = { type: 'NX_CT_CLEAR' };

export const IP = m('ETH_TYPE', 0x0800);
/** ct_state=+flags-flags: [value, mask]. */
export function ctState(spec: string) {
  const bits: Record<string, number> = { new: 1, est: 2, rel: 4, rpl: 8, inv: 16, trk: 32, snat: 64, dnat: 128 };
  let value = 0;
  let mask = 0;
  for (const [, sign, name] of spec.matchAll(/([+-])([a-z]+)/g)) {
    const b = bits[name!];
    if (b === undefined) throw new Error(`ct_state flag ${name}`);
    mask |= b;
    if (sign === '+') value |= b;
  }
  return m('NXM_NX_CT_STATE', value, mask);
}

/**
 * The classic firewall between an inside port and an outside one: everything IP goes
 * through ct once; new connections from inside are committed; established traffic
 * passes both ways; new from outside is dropped; ARP is flooded.
 */
export function firewall(inside: number, outside: number, zone = 0, ethType = 0x0800): Partial<FlowModInput>[] {
  const IP = m('ETH_TYPE', ethType);
  return [
    { priority: 10, match: [m('ETH_TYPE', 0x0806)], instructions: [apply(output(0xfffffffb))] },
    { priority: 100, match: [IP, ctState('-trk')], instructions: [apply(ct({ table: 1, zone }))] },
    { table_id: 1, priority: 100, match: [m('IN_PORT', inside), IP, ctState('+trk+new')], instructions: [apply(ct({ commit: true, zone }), output(outside))] },
    { table_id: 1, priority: 100, match: [m('IN_PORT', inside), IP, ctState('+trk+est')], instructions: [apply(output(outside))] },
    { table_id: 1, priority: 100, match: [m('IN_PORT', outside), IP, ctState('+trk+est')], instructions: [apply(output(inside))] },
    { table_id: 1, priority: 90, match: [m('IN_PORT', outside), IP, ctState('+trk+new')], instructions: [] },
  ];
}

export const mods = (flows: Partial<FlowModInput>[]): FlowModInput[] => flows.map((f) => flowMod(f));
