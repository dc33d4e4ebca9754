// proto/openflow/of10-actions.ts — OpenFlow 1.0 actions (§5.2.4), a row each, plus the
// Nicira vendor actions, whose layout is the same in 1.0 and 1.3 (rows shared with
// actions.ts). Ports are 16 bits here.
import { actionRegistry, type Action } from './actions.js';
import { hdr, list, mac, pad, registry, struct, u16, u32, u8, type Codec, type Registry, type Tagged } from './struct.js';

/** type u16 + len u16, filled in by the registry. */
const H = hdr(4);

const rows10 = {
  OUTPUT: { tag: 0, body: struct('ofp_action_output', 8, [H, ['port', u16], ['max_len', u16]]) }, // max_len: bytes to the controller
  SET_VLAN_VID: { tag: 1, body: struct('ofp_action_vlan_vid', 8, [H, ['vlan_vid', u16], pad(2)]) },
  SET_VLAN_PCP: { tag: 2, body: struct('ofp_action_vlan_pcp', 8, [H, ['vlan_pcp', u8], pad(3)]) },
  STRIP_VLAN: { tag: 3, body: struct('ofp_action_header', 8, [H, pad(4)]) },
  SET_DL_SRC: { tag: 4, body: struct('ofp_action_dl_addr', 16, [H, ['dl_addr', mac], pad(6)]) },
  SET_DL_DST: { tag: 5, body: struct('ofp_action_dl_addr', 16, [H, ['dl_addr', mac], pad(6)]) },
  SET_NW_SRC: { tag: 6, body: struct('ofp_action_nw_addr', 8, [H, ['nw_addr', u32]]) },
  SET_NW_DST: { tag: 7, body: struct('ofp_action_nw_addr', 8, [H, ['nw_addr', u32]]) },
  SET_NW_TOS: { tag: 8, body: struct('ofp_action_nw_tos', 8, [H, ['nw_tos', u8], pad(3)]) }, // DSCP << 2
  SET_TP_SRC: { tag: 9, body: struct('ofp_action_tp_port', 8, [H, ['tp_port', u16], pad(2)]) },
  SET_TP_DST: { tag: 10, body: struct('ofp_action_tp_port', 8, [H, ['tp_port', u16], pad(2)]) },
  ENQUEUE: { tag: 11, body: struct('ofp_action_enqueue', 16, [H, ['port', u16], pad(6), ['queue_id', u32]]) },
};

/** The Nicira rows of the OF1.3 registry: vendor actions are laid out alike in 1.0 (clone() is left out: its nested list would be OF1.3 actions). */
const nxRows = Object.fromEntries(Object.entries(actionRegistry.rows).filter(([name]) => name.startsWith('NX_') && name !== 'NX_CLONE'));

type NxAction = Exclude<Extract<Action, { type: `NX_${string}` }>, { type: 'NX_CLONE' }>;
export type Action10 = Tagged<typeof rows10> | NxAction;
export type Action10Type = Action10['type'];

export const action10Registry: Registry<Action10> = registry(
  {
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
  },
  { ...rows10, ...nxRows },
) as Registry<Action10>;
export const actions10: Codec<Action10[]> = list(action10Registry);
