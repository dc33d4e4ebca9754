// proto/openflow/actions.ts — OpenFlow 1.3 actions (§7.2.5) and the Nicira actions OVS
// sends in OF1.3 (resubmit, conntrack, nat, …), a row each. Decoded actions are
// `{ type: 'OUTPUT', port, max_len }`; an unknown type is OFPBAC_BAD_TYPE.
import { NX_EXPERIMENTER } from './errors.js';
import { setFieldOxm } from './oxm.js';
import { hdr, lazy, list, pad, registry, rest, struct, u16, u32, u64, u8, type Codec, type Registry, type RegistryValue, type Tagged } from './struct.js';

/** type u16 + len u16, filled in by the registry. */
const H = hdr(4);
/** type, len, experimenter u32, subtype u16: the Nicira action header. */
const NXH = hdr(10);
const nx = <B extends { fixedSize: number }>(subtype: number, body: B) => ({ tag: 0xffff, experimenter: NX_EXPERIMENTER, subtype, body });

const setField = { tag: 25, body: struct('ofp_action_set_field', 4, [H, ['field', setFieldOxm]]) };
const nxNat = nx(
  36,
  struct('nx_action_nat', 16, [
    NXH,
    pad(2),
    ['flags', u16], // NX_NAT_F_SRC (1), DST (2), PERSISTENT (4), PROTO_HASH (8), PROTO_RANDOM (16)
    ['range_present', u16], // NX_NAT_RANGE_* bits saying which range fields follow
    ['range', rest], // the present range fields, padded to 8
  ]),
);

/** nx_action_conntrack flags. */
export const NX_CT_F = { COMMIT: 1, FORCE: 2 } as const;
/** ct(table=…) absent: no recirculation. */
export const NX_CT_RECIRC_NONE = 255;
/** nx_action_nat flags. */
export const NX_NAT_F = { SRC: 1, DST: 2, PERSISTENT: 4, PROTO_HASH: 8, PROTO_RANDOM: 16 } as const;
/** nx_action_nat range_present bits, in the order the range fields follow the header. */
export const NX_NAT_RANGE = { IPV4_MIN: 1, IPV4_MAX: 2, IPV6_MIN: 4, IPV6_MAX: 8, PROTO_MIN: 16, PROTO_MAX: 32 } as const;

/** The range of nat(src=…|dst=…), decoded: addresses as numbers (IPv4) or bigints (IPv6), ports. */
export interface NatRange {
  ipv4_min?: number;
  ipv4_max?: number;
  ipv6_min?: bigint;
  ipv6_max?: bigint;
  proto_min?: number;
  proto_max?: number;
}
const natFields: [keyof NatRange, number, number][] = [
  ['ipv4_min', NX_NAT_RANGE.IPV4_MIN, 4],
  ['ipv4_max', NX_NAT_RANGE.IPV4_MAX, 4],
  ['ipv6_min', NX_NAT_RANGE.IPV6_MIN, 16],
  ['ipv6_max', NX_NAT_RANGE.IPV6_MAX, 16],
  ['proto_min', NX_NAT_RANGE.PROTO_MIN, 2],
  ['proto_max', NX_NAT_RANGE.PROTO_MAX, 2],
];

/** The range fields `range_present` announces, read from `range`; undefined when `range` is too short (OFPBAC_BAD_LEN). */
export function decodeNatRange(range_present: number, range: Uint8Array): NatRange | undefined {
  const out: NatRange = {};
  let o = 0;
  for (const [name, bit, n] of natFields) {
    if (!(range_present & bit)) continue;
    if (o + n > range.length) return undefined;
    let v = 0n;
    for (let i = 0; i < n; i++) v = (v << 8n) | BigInt(range[o + i]!);
    (out as Record<string, number | bigint>)[name] = n === 16 ? v : Number(v);
    o += n;
  }
  return out;
}

/** range_present and the range bytes (padded so the action is a multiple of 8) for a NatRange. */
export function encodeNatRange(r: NatRange): { range_present: number; range: Uint8Array } {
  let range_present = 0;
  const bytes: number[] = [];
  for (const [name, bit, n] of natFields) {
    const v = r[name];
    if (v === undefined) continue;
    range_present |= bit;
    const b = BigInt(v);
    for (let i = n - 1; i >= 0; i--) bytes.push(Number((b >> BigInt(8 * i)) & 0xffn));
  }
  while ((16 + bytes.length) % 8) bytes.push(0);
  return { range_present, range: Uint8Array.from(bytes) };
}

const regLoad = nx(7, struct('nx_action_reg_load', 24, [NXH, ['ofs_nbits', u16], ['dst', u32], ['value', u64]]));

/**
 * The actions OVS allows nested inside ct(): set_field of ct_mark/ct_label (a partial
 * one arrives as reg_load, as OVS encodes it for OF1.3), and nat.
 */
export const ctActionRegistry = registry(
  {
    what: 'ct action',
    tagAt: 0,
    tagWidth: 2,
    lenAt: 2,
    expTag: 0xffff,
    subWidth: 2,
    align: 'include',
    badType: 'OFPBAC_BAD_ARGUMENT',
    badLen: 'OFPBAC_BAD_LEN',
    badExperimenter: 'OFPBAC_BAD_ARGUMENT',
    badExpType: 'OFPBAC_BAD_ARGUMENT',
  },
  { SET_FIELD: setField, NX_NAT: nxNat, NX_REG_LOAD: regLoad },
);
export type CtAction = RegistryValue<typeof ctActionRegistry>;

const layout = {
  what: 'action',
  tagAt: 0,
  tagWidth: 2,
  lenAt: 2,
  expTag: 0xffff,
  subWidth: 2,
  align: 'include',
  badType: 'OFPBAC_BAD_TYPE',
  badLen: 'OFPBAC_BAD_LEN',
  badExperimenter: 'OFPBAC_BAD_EXPERIMENTER',
  badExpType: 'OFPBAC_BAD_EXP_TYPE',
} as const;

const rows = {
  OUTPUT: {
    tag: 0,
    body: struct('ofp_action_output', 16, [
      H,
      ['port', u32], // output port (OFPP_* reserved values allowed)
      ['max_len', u16], // bytes to send to the controller, OFPCML_NO_BUFFER for all
      pad(6),
    ]),
  },
  COPY_TTL_OUT: { tag: 11, body: struct('ofp_action_generic', 8, [H, pad(4)]) },
  COPY_TTL_IN: { tag: 12, body: struct('ofp_action_generic', 8, [H, pad(4)]) },
  SET_MPLS_TTL: { tag: 15, body: struct('ofp_action_mpls_ttl', 8, [H, ['mpls_ttl', u8], pad(3)]) },
  DEC_MPLS_TTL: { tag: 16, body: struct('ofp_action_generic', 8, [H, pad(4)]) },
  PUSH_VLAN: { tag: 17, body: struct('ofp_action_push', 8, [H, ['ethertype', u16], pad(2)]) },
  POP_VLAN: { tag: 18, body: struct('ofp_action_generic', 8, [H, pad(4)]) },
  PUSH_MPLS: { tag: 19, body: struct('ofp_action_push', 8, [H, ['ethertype', u16], pad(2)]) },
  POP_MPLS: { tag: 20, body: struct('ofp_action_pop_mpls', 8, [H, ['ethertype', u16], pad(2)]) },
  SET_QUEUE: { tag: 21, body: struct('ofp_action_set_queue', 8, [H, ['queue_id', u32]]) },
  GROUP: { tag: 22, body: struct('ofp_action_group', 8, [H, ['group_id', u32]]) },
  SET_NW_TTL: { tag: 23, body: struct('ofp_action_nw_ttl', 8, [H, ['nw_ttl', u8], pad(3)]) },
  DEC_NW_TTL: { tag: 24, body: struct('ofp_action_generic', 8, [H, pad(4)]) },
  // Spec sizeof is 8: the header and the first 4 bytes of the OXM, padded to 8.
  SET_FIELD: setField,
  PUSH_PBB: { tag: 26, body: struct('ofp_action_push', 8, [H, ['ethertype', u16], pad(2)]) },
  POP_PBB: { tag: 27, body: struct('ofp_action_generic', 8, [H, pad(4)]) },

  NX_RESUBMIT: nx(1, struct('nx_action_resubmit', 16, [NXH, ['in_port', u16], pad(4)])),
  NX_RESUBMIT_TABLE: nx(14, struct('nx_action_resubmit', 16, [NXH, ['in_port', u16], ['table', u8], pad(3)])),
  NX_REG_MOVE: nx(
    6,
    struct('nx_action_reg_move', 24, [
      NXH,
      ['n_bits', u16],
      ['src_ofs', u16], // bit offset in the source field
      ['dst_ofs', u16],
      ['src', u32], // OXM/NXM header of the source field
      ['dst', u32],
    ]),
  ),
  NX_REG_LOAD: regLoad,
  NX_NOTE: nx(8, struct('nx_action_note', 10, [NXH, ['note', rest]])), // note bytes fill the action to a multiple of 8
  NX_OUTPUT_REG: nx(15, struct('nx_action_output_reg', 24, [NXH, ['ofs_nbits', u16], ['src', u32], ['max_len', u16], pad(6)])),
  NX_CONTROLLER: nx(20, struct('nx_action_controller', 16, [NXH, ['max_len', u16], ['controller_id', u16], ['reason', u8], pad(1)])),
  NX_CONJUNCTION: nx(34, struct('nx_action_conjunction', 16, [NXH, ['clause', u8], ['n_clauses', u8], ['id', u32]])),
  NX_CT: nx(
    35,
    struct('nx_action_conntrack', 24, [
      NXH,
      ['flags', u16], // NX_CT_F_COMMIT (1), NX_CT_F_FORCE (2)
      ['zone_src', u32], // NXM header of the zone source field, 0 for an immediate zone
      ['zone', u16], // immediate zone, or ofs_nbits of zone_src
      ['recirc_table', u8], // 255: no recirculation
      pad(3),
      ['alg', u16], // L4 port of the ALG helper, 0 for none
      ['actions', list(ctActionRegistry)], // nested actions
    ]),
  ),
  NX_NAT: nxNat,
  NX_CT_CLEAR: nx(43, struct('nx_action_ct_clear', 16, [NXH, pad(6)])),
  NX_EXIT: nx(17, struct('nx_action_exit', 16, [NXH, pad(6)])),
  NX_LEARN: nx(
    16,
    struct('nx_action_learn', 32, [
      NXH,
      ['idle_timeout', u16], // of the flows it adds, seconds
      ['hard_timeout', u16],
      ['priority', u16],
      ['cookie', u64],
      ['flags', u16], // NX_LEARN_F_*
      ['table_id', u8],
      pad(1),
      ['fin_idle_timeout', u16],
      ['fin_hard_timeout', u16],
      ['specs', rest], // nx_flow_mod_spec list, zero padded to a multiple of 8: left to the pipeline
    ]),
  ),
};

/**
 * clone(actions): runs the nested actions on a copy of the packet. Its type is
 * written out because it contains actions itself, which inference cannot follow.
 */
export interface NxClone {
  type: 'NX_CLONE';
  actions: Action[];
}
export type Action = Tagged<typeof rows> | NxClone;
export type ActionType = Action['type'];

const nested: Codec<Action[]> = lazy(() => actionRegistry.list, 'actions');
const nxClone = nx(42, struct('ext_action_header', 16, [NXH, pad(6), ['actions', nested]]));

export const actionRegistry: Registry<Action> = registry(layout, { ...rows, NX_CLONE: nxClone }) as Registry<Action>;
export const actions: Codec<Action[]> = list(actionRegistry);
