// src/ofproto/actions.ts — what the model accepts in action lists (§7.2.5), and the
// action set of write_actions (§5.10): one action per type, applied in the spec's order.
import { decodeNatRange, NX_CT_F, NX_NAT_F, NX_NAT_RANGE, type Action, type CtAction } from '../../proto/openflow/actions.js';
import { OFPP } from '../../proto/openflow/constants.js';
import { OfpError } from '../../proto/openflow/errors.js';
import { oxmFields, type OxmName } from '../../proto/openflow/oxm.js';
import { fieldBits, fieldOfHeader, ofsNbits } from './nx.js';
import type { Pipeline } from './pipeline.js';

const RESERVED_OUT = new Set<number>([OFPP.IN_PORT, OFPP.TABLE, OFPP.NORMAL, OFPP.FLOOD, OFPP.ALL, OFPP.CONTROLLER, OFPP.LOCAL]);

/** The action types the interpreter runs; Nicira actions are refused until implemented. */
export const SUPPORTED_ACTIONS: ReadonlySet<Action['type']> = new Set<Action['type']>([
  'OUTPUT',
  'COPY_TTL_OUT',
  'COPY_TTL_IN',
  'SET_MPLS_TTL',
  'DEC_MPLS_TTL',
  'PUSH_VLAN',
  'POP_VLAN',
  'PUSH_MPLS',
  'POP_MPLS',
  'SET_QUEUE',
  'GROUP',
  'SET_NW_TTL',
  'DEC_NW_TTL',
  'SET_FIELD',
  'PUSH_PBB',
  'POP_PBB',
]);

/** Fields set_field can write: the packet's own fields, tunnel id and registers (not in_port, metadata, exthdr, conntrack). */
export const SETTABLE_FIELDS: ReadonlySet<OxmName> = new Set(
  (Object.keys(oxmFields) as OxmName[]).filter((f) => !['IN_PORT', 'IN_PHY_PORT', 'METADATA', 'IPV6_EXTHDR'].includes(f) && !f.startsWith('NXM_NX_CT_') && !f.startsWith('NXM_NX_TUN_IPV4')),
);

/** Nicira actions the interpreter runs (conjunction, learn: not yet). NX_NAT only inside ct(). */
export const SUPPORTED_NX_ACTIONS: ReadonlySet<Action['type']> = new Set<Action['type']>(['NX_RESUBMIT', 'NX_RESUBMIT_TABLE', 'NX_REG_LOAD', 'NX_REG_MOVE', 'NX_OUTPUT_REG', 'NX_CONTROLLER', 'NX_NOTE', 'NX_CT', 'NX_CT_CLEAR', 'NX_NAT', 'NX_CLONE']);

/** The conntrack fields a ct action may set (in its exec()); nowhere else. */
const CT_SETTABLE: ReadonlySet<OxmName> = new Set<OxmName>(['NXM_NX_CT_MARK', 'NXM_NX_CT_LABEL']);

/** A bit range of a field named by header: the field, or why not. */
function subfield(header: number, ofs: number, nbits: number, write: boolean): OxmName | OfpError {
  const f = fieldOfHeader(header);
  if (!f) return new OfpError('OFPBAC_BAD_ARGUMENT', { why: `unknown field 0x${header.toString(16)}` });
  // OVS: "cannot set CT fields outside of ct action".
  if (write && CT_SETTABLE.has(f)) return new OfpError('OFPBAC_BAD_SET_ARGUMENT', { why: `${f} is set only inside ct()` });
  if (write && f !== 'METADATA' && !SETTABLE_FIELDS.has(f)) return new OfpError('OFPBAC_BAD_SET_TYPE', { why: `${f} is read-only` });
  if (nbits < 1 || ofs + nbits > fieldBits(f)) return new OfpError('OFPBAC_BAD_ARGUMENT', { why: `${f}[${ofs}..${ofs + nbits - 1}] past its ${fieldBits(f)} bits` });
  return f;
}

export function validateActions(p: Pipeline, actions: readonly Action[], where: { inGroup?: boolean; packetOut?: boolean } = {}): OfpError | undefined {
  for (const a of actions) {
    if (!SUPPORTED_ACTIONS.has(a.type) && !SUPPORTED_NX_ACTIONS.has(a.type)) return new OfpError('OFPBAC_BAD_EXP_TYPE', { why: `${a.type} is not implemented` });
    switch (a.type) {
      case 'NX_REG_LOAD': {
        const { ofs, nbits } = ofsNbits(a.ofs_nbits);
        const f = subfield(a.dst, ofs, nbits, true);
        if (f instanceof OfpError) return f;
        if (a.value >> BigInt(nbits)) return new OfpError('OFPBAC_BAD_ARGUMENT', { why: `${a.value} does not fit ${nbits} bits` });
        break;
      }
      case 'NX_REG_MOVE': {
        const src = subfield(a.src, a.src_ofs, a.n_bits, false);
        if (src instanceof OfpError) return src;
        const dst = subfield(a.dst, a.dst_ofs, a.n_bits, true);
        if (dst instanceof OfpError) return dst;
        break;
      }
      case 'NX_OUTPUT_REG': {
        const { ofs, nbits } = ofsNbits(a.ofs_nbits);
        const f = subfield(a.src, ofs, nbits, false);
        if (f instanceof OfpError) return f;
        break;
      }
      case 'OUTPUT':
        if (a.port === 0 || a.port === OFPP.ANY || (a.port > OFPP.MAX && !RESERVED_OUT.has(a.port))) return new OfpError('OFPBAC_BAD_OUT_PORT', { why: `port ${a.port}` });
        if (a.port === OFPP.TABLE && !where.packetOut) return new OfpError('OFPBAC_BAD_OUT_PORT', { why: 'TABLE is only for packet-out' });
        break;
      case 'GROUP':
        // A bucket may name a group added later (OVS allows it; it does nothing meanwhile);
        // a flow may not.
        if (a.group_id > 0xffffff00) return new OfpError('OFPBAC_BAD_OUT_GROUP', { why: `group ${a.group_id}` });
        if (!where.inGroup && !p.groups.has(a.group_id)) return new OfpError('OFPBAC_BAD_OUT_GROUP', { why: `group ${a.group_id}` });
        break;
      case 'PUSH_VLAN':
        if (a.ethertype !== 0x8100 && a.ethertype !== 0x88a8) return new OfpError('OFPBAC_BAD_ARGUMENT', { why: `push_vlan ethertype 0x${a.ethertype.toString(16)}` });
        break;
      case 'PUSH_MPLS':
        if (a.ethertype !== 0x8847 && a.ethertype !== 0x8848) return new OfpError('OFPBAC_BAD_ARGUMENT', { why: `push_mpls ethertype 0x${a.ethertype.toString(16)}` });
        break;
      case 'PUSH_PBB':
        if (a.ethertype !== 0x88e7) return new OfpError('OFPBAC_BAD_ARGUMENT', { why: `push_pbb ethertype 0x${a.ethertype.toString(16)}` });
        break;
      case 'SET_FIELD':
        if (CT_SETTABLE.has(a.field.field)) return new OfpError('OFPBAC_BAD_SET_ARGUMENT', { why: `${a.field.field} is set only inside ct()` });
        if (!SETTABLE_FIELDS.has(a.field.field)) return new OfpError('OFPBAC_BAD_SET_TYPE', { why: a.field.field });
        break;
      case 'NX_NAT':
        // OVS 3.1's answer, though its log says "Cannot have NAT action outside of ct".
        return new OfpError('OFPBAC_BAD_SET_ARGUMENT', { why: 'nat is only allowed inside ct()' });
      case 'NX_CT': {
        const bad = validateCt(a);
        if (bad) return bad;
        break;
      }
      case 'NX_CLONE': {
        const bad = validateActions(p, a.actions, where);
        if (bad) return bad;
        break;
      }
    }
  }
  return undefined;
}

/** ct(…) as OVS decodes it (decode_NXAST_RAW_CT, ofpacts_verify_nested). */
function validateCt(a: Extract<Action, { type: 'NX_CT' }>): OfpError | undefined {
  const commit = (a.flags & NX_CT_F.COMMIT) !== 0;
  if (a.flags & NX_CT_F.FORCE && !commit) return new OfpError('OFPBAC_BAD_ARGUMENT', { why: 'ct(force) needs commit' });
  if (a.zone_src) {
    const { ofs, nbits } = ofsNbits(a.zone);
    const f = subfield(a.zone_src, ofs, nbits, false);
    if (f instanceof OfpError) return f;
    if (nbits !== 16) return new OfpError('OFPBAC_BAD_SET_LEN', { why: `zone takes 16 bits, not ${nbits}` });
  }
  for (const n of a.actions) {
    const bad = validateCtNested(n, commit);
    if (bad) return bad;
  }
  return undefined;
}

function validateCtNested(n: CtAction, commit: boolean): OfpError | undefined {
  const needCommit = () => new OfpError('OFPBAC_BAD_ARGUMENT', { why: 'ct actions other than a bare nat need commit' });
  switch (n.type) {
    case 'NX_NAT': {
      if (n.flags & NX_NAT_F.SRC && n.flags & NX_NAT_F.DST) return new OfpError('OFPBAC_BAD_ARGUMENT', { why: 'nat(src) and nat(dst) at once' });
      const r = decodeNatRange(n.range_present, n.range);
      if (!r) return new OfpError('OFPBAC_BAD_LEN', { why: 'nat range past the action' });
      const p = n.range_present;
      if (p & (NX_NAT_RANGE.IPV4_MIN | NX_NAT_RANGE.IPV4_MAX) && p & (NX_NAT_RANGE.IPV6_MIN | NX_NAT_RANGE.IPV6_MAX)) return new OfpError('OFPBAC_BAD_ARGUMENT', { why: 'nat range has IPv4 and IPv6 addresses' });
      if ((r.ipv4_max !== undefined && (r.ipv4_min === undefined || r.ipv4_max < r.ipv4_min)) || (r.ipv6_max !== undefined && (r.ipv6_min === undefined || r.ipv6_max < r.ipv6_min)) || (r.proto_max !== undefined && (r.proto_min === undefined || r.proto_max < r.proto_min)))
        return new OfpError('OFPBAC_BAD_ARGUMENT', { why: 'nat range ends before it starts' });
      if (!commit && (n.flags || p)) return needCommit();
      return undefined;
    }
    case 'SET_FIELD':
      if (!CT_SETTABLE.has(n.field.field)) return new OfpError('OFPBAC_BAD_ARGUMENT', { why: `ct cannot set ${n.field.field}` });
      return commit ? undefined : needCommit();
    case 'NX_REG_LOAD': {
      const f = fieldOfHeader(n.dst);
      const { ofs, nbits } = ofsNbits(n.ofs_nbits);
      if (!f || !CT_SETTABLE.has(f)) return new OfpError('OFPBAC_BAD_ARGUMENT', { why: `ct cannot set ${f ?? 'that field'}` });
      if (ofs + nbits > fieldBits(f)) return new OfpError('OFPBAC_BAD_ARGUMENT', { why: `${f}[${ofs}..${ofs + nbits - 1}] past its ${fieldBits(f)} bits` });
      if (n.value >> BigInt(nbits)) return new OfpError('OFPBAC_BAD_ARGUMENT', { why: `${n.value} does not fit ${nbits} bits` });
      return commit ? undefined : needCommit();
    }
  }
}

/**
 * The action set's order (§5.10), tie-broken as OVS (ofp-actions.c): pop_vlan before
 * pop_mpls, dec_ttl before dec_mpls_ttl; set_field, set_*_ttl, load and move run in the
 * order written; then one final action: group, else output, else resubmit.
 */
const ORDER: Partial<Record<Action['type'], number>> = {
  COPY_TTL_IN: 0,
  POP_VLAN: 1,
  POP_MPLS: 1.5,
  POP_PBB: 1.7,
  PUSH_MPLS: 2,
  PUSH_PBB: 3,
  PUSH_VLAN: 4,
  COPY_TTL_OUT: 5,
  DEC_NW_TTL: 6,
  DEC_MPLS_TTL: 6.5,
  SET_MPLS_TTL: 7,
  SET_NW_TTL: 7,
  SET_FIELD: 7,
  NX_REG_LOAD: 7,
  NX_REG_MOVE: 7,
  SET_QUEUE: 8,
  NX_RESUBMIT: 9,
  NX_RESUBMIT_TABLE: 9,
  OUTPUT: 10,
  GROUP: 11,
};

/** Actions OVS refuses in write_actions (OFPBAC_BAD_TYPE: "disallowed action in action set"). */
export const NOT_IN_ACTION_SET: ReadonlySet<Action['type']> = new Set<Action['type']>(['NX_CONTROLLER', 'NX_NOTE', 'NX_OUTPUT_REG']);

let written = 0;
/** The slot an action takes in the set: one per type, one per set_field target, every load and move its own. */
function slot(a: Action): string {
  if (a.type === 'SET_FIELD') return `SET_FIELD:${a.field.field}`;
  if (a.type === 'NX_REG_LOAD' || a.type === 'NX_REG_MOVE') return `${a.type}#${written++}`;
  return a.type === 'NX_RESUBMIT_TABLE' ? 'NX_RESUBMIT' : a.type;
}

/** write_actions: merges into the set, an action replacing the one of its slot and moving to the end. */
export function writeActions(set: Map<string, Action>, actions: readonly Action[]): void {
  for (const a of actions) {
    const k = slot(a);
    set.delete(k);
    set.set(k, a);
  }
}

/** Actions in the order an action set would run them (for checks made at flow-mod time). */
export function inSetOrder(actions: readonly Action[]): Action[] {
  return [...actions].sort((a, b) => (ORDER[a.type] ?? 99) - (ORDER[b.type] ?? 99));
}

/** The set as the list executed at the end of the pipeline: nothing at all without a final action (OVS). */
export function actionSetList(set: Map<string, Action>): Action[] {
  const final = set.get('GROUP') ?? set.get('OUTPUT') ?? set.get('NX_RESUBMIT');
  if (!final) return [];
  const list = [...set.values()].filter((a) => (ORDER[a.type] ?? 0) < 9).sort((a, b) => (ORDER[a.type] ?? 99) - (ORDER[b.type] ?? 99));
  return [...list, final];
}
