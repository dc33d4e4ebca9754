// src/openflow/of10.ts — OpenFlow 1.0 at the connection boundary: 1.0 requests become
// the OF1.3 model messages the handler already takes, and the model's replies and async
// messages become 1.0 ones, so nothing past src/openflow learns 1.0 exists. Mappings
// follow OVS (lib/ofp-match.c, ofp-actions.c, ofp-port.c) where the two versions differ.
import type { Action } from '../../proto/openflow/actions.js';
import { OFPP, OFPTT, OFPG, OFPVID_PRESENT, OFPC, OFPRR } from '../../proto/openflow/constants.js';
import { OfpError, ofpErrorByWire, ofpErrors, OFPET_EXPERIMENTER } from '../../proto/openflow/errors.js';
import type { Instruction } from '../../proto/openflow/instructions.js';
import type { Message, MessageOf } from '../../proto/openflow/messages.js';
import type { MultipartReply } from '../../proto/openflow/multipart.js';
import { oxmFields, oxmHeader, parseIpv4, type OxmEntry, type OxmName } from '../../proto/openflow/oxm.js';
import type { Port } from '../../proto/openflow/port.js';
import type { Action10 } from '../../proto/openflow/of10-actions.js';
import { errorReply10, encodeMessage10 } from '../../proto/openflow/of10-codec.js';
import { matchAll10, OFP10_VLAN_NONE, OFPFW10, type Match10 } from '../../proto/openflow/of10-match.js';
import { flowStats10, OFPC10, OFPFF10, OFPP10, phyPort10 as phyPort10Codec, portStats10, queueStats10, tableStats10, type Message10, type Message10Of, type PhyPort10, type StatsReply10 } from '../../proto/openflow/of10-messages.js';
import { Writer, type Codec } from '../../proto/openflow/struct.js';
import { nxFlowStatsList, type NxFlowStats } from '../../proto/openflow/of10-nxm.js';

// ---- ports -----------------------------------------------------------------------

/** A 1.0 port number in the model's 32 bits: 0xff00 and above are the reserved ones. */
export function port32(p: number): number {
  return p >= OFPP10.MAX ? (p + 0xffff0000) >>> 0 : p;
}
/** A model port number in 1.0's 16 bits, or undefined when 1.0 cannot say it. */
export function port16(p: number): number | undefined {
  if (p < OFPP10.MAX) return p;
  if (p >= OFPP.MAX) return p - 0xffff0000;
  return undefined;
}

/** OFPPF bits: the same up to 10GB_FD; 1.0 has no 40G/100G/1T/OTHER, and its medium bits sit 4 lower. */
function features10(f: number): number {
  return (f & 0x7f) | ((f >>> 4) & 0xf80);
}
function features13(f: number): number {
  return (f & 0x7f) | ((f & 0xf80) << 4);
}

export function phyPort10(p: Port): PhyPort10 {
  return {
    port_no: port16(p.port_no) ?? OFPP10.NONE,
    hw_addr: p.hw_addr,
    name: p.name,
    config: p.config & 0x7f,
    state: p.state & 1, // LINK_DOWN; 1.3's BLOCKED and LIVE have no 1.0 bits
    curr: features10(p.curr),
    advertised: features10(p.advertised),
    supported: features10(p.supported),
    peer: features10(p.peer),
  };
}

// ---- match -----------------------------------------------------------------------

const ETH_IP = 0x0800;
const ETH_ARP = 0x0806;

function ipv4(n: number): string {
  return `${n >>> 24}.${(n >>> 16) & 0xff}.${(n >>> 8) & 0xff}.${n & 0xff}`;
}
/** The mask of a 1.0 NW_SRC/NW_DST wildcard count, undefined when all 32 bits are wild. */
function prefixMask(wildBits: number): number | undefined {
  if (wildBits >= 32) return undefined;
  return wildBits === 0 ? 0xffffffff : (0xffffffff << wildBits) >>> 0;
}

/**
 * ofp_match to OXM, as OVS's ofputil_match_from_ofp10_match: network fields only
 * count under an IP or ARP dl_type, transport ones under their protocol; the rest is
 * ignored, not refused.
 */
export function matchFrom10(m: Match10): OxmEntry[] {
  const w = m.wildcards & OFPFW10.ALL;
  const out: OxmEntry[] = [];
  if (!(w & OFPFW10.IN_PORT)) out.push({ field: 'IN_PORT', value: port32(m.in_port) });
  if (!(w & OFPFW10.DL_DST)) out.push({ field: 'ETH_DST', value: m.dl_dst });
  if (!(w & OFPFW10.DL_SRC)) out.push({ field: 'ETH_SRC', value: m.dl_src });
  if (!(w & OFPFW10.DL_TYPE)) out.push({ field: 'ETH_TYPE', value: m.dl_type });
  if (!(w & OFPFW10.DL_VLAN)) {
    if (m.dl_vlan === OFP10_VLAN_NONE) out.push({ field: 'VLAN_VID', value: 0 });
    else {
      out.push({ field: 'VLAN_VID', value: (m.dl_vlan & 0xfff) | OFPVID_PRESENT });
      if (!(w & OFPFW10.DL_VLAN_PCP)) out.push({ field: 'VLAN_PCP', value: m.dl_vlan_pcp & 7 });
    }
  } else if (!(w & OFPFW10.DL_VLAN_PCP)) {
    // A PCP without a VID: any tagged frame with that priority.
    out.push({ field: 'VLAN_VID', value: OFPVID_PRESENT, mask: OFPVID_PRESENT }, { field: 'VLAN_PCP', value: m.dl_vlan_pcp & 7 });
  }
  if (w & OFPFW10.DL_TYPE) return out;
  const src = prefixMask((w >>> OFPFW10.NW_SRC_SHIFT) & OFPFW10.NW_BITS_MASK);
  const dst = prefixMask((w >>> OFPFW10.NW_DST_SHIFT) & OFPFW10.NW_BITS_MASK);
  const addr = (field: OxmName, v: number, mask: number | undefined) => {
    if (mask === undefined) return;
    out.push(mask === 0xffffffff ? { field, value: ipv4(v & mask) } : { field, value: ipv4((v & mask) >>> 0), mask: ipv4(mask) });
  };
  if (m.dl_type === ETH_IP) {
    if (!(w & OFPFW10.NW_TOS)) out.push({ field: 'IP_DSCP', value: m.nw_tos >>> 2 });
    if (!(w & OFPFW10.NW_PROTO)) out.push({ field: 'IP_PROTO', value: m.nw_proto });
    addr('IPV4_SRC', m.nw_src, src);
    addr('IPV4_DST', m.nw_dst, dst);
    if (w & OFPFW10.NW_PROTO) return out;
    const l4: Partial<Record<number, [OxmName, OxmName]>> = { 1: ['ICMPV4_TYPE', 'ICMPV4_CODE'], 6: ['TCP_SRC', 'TCP_DST'], 17: ['UDP_SRC', 'UDP_DST'], 132: ['SCTP_SRC', 'SCTP_DST'] };
    const f = l4[m.nw_proto];
    if (f) {
      const icmp = m.nw_proto === 1;
      if (!(w & OFPFW10.TP_SRC)) out.push({ field: f[0], value: icmp ? m.tp_src & 0xff : m.tp_src });
      if (!(w & OFPFW10.TP_DST)) out.push({ field: f[1], value: icmp ? m.tp_dst & 0xff : m.tp_dst });
    }
  } else if (m.dl_type === ETH_ARP) {
    if (!(w & OFPFW10.NW_PROTO)) out.push({ field: 'ARP_OP', value: m.nw_proto });
    addr('ARP_SPA', m.nw_src, src);
    addr('ARP_TPA', m.nw_dst, dst);
  }
  return out;
}

/** Leading one bits of a contiguous mask, undefined when it is not a prefix. */
function prefixLen(mask: number): number | undefined {
  let n = 0;
  while (n < 32 && (mask >>> (31 - n)) & 1) n++;
  return ((n === 0 ? 0 : (0xffffffff << (32 - n)) >>> 0) === mask >>> 0) ? n : undefined;
}

/**
 * OXM to ofp_match, for flow stats and FLOW_REMOVED. Fields 1.0 has no place for
 * (IPv6, registers, metadata, …) are left out, as OVS does when it must answer in 1.0.
 */
export function matchTo10(oxm: readonly OxmEntry[]): Match10 {
  const m = matchAll10();
  let w: number = OFPFW10.ALL;
  const setAddr = (shift: number, v: string, mask: string | undefined, put: (n: number) => void) => {
    const bits = mask === undefined ? 32 : (prefixLen(parseIpv4(mask)) ?? 32);
    put(parseIpv4(v));
    w = (w & ~(OFPFW10.NW_BITS_MASK << shift)) | ((32 - bits) << shift);
  };
  for (const e of oxm) {
    const v = e.value;
    switch (e.field) {
      case 'IN_PORT': {
        const p = port16(v as number);
        if (p === undefined) break;
        m.in_port = p;
        w &= ~OFPFW10.IN_PORT;
        break;
      }
      case 'ETH_DST':
        if (e.mask !== undefined) break;
        m.dl_dst = v as string;
        w &= ~OFPFW10.DL_DST;
        break;
      case 'ETH_SRC':
        if (e.mask !== undefined) break;
        m.dl_src = v as string;
        w &= ~OFPFW10.DL_SRC;
        break;
      case 'ETH_TYPE':
        m.dl_type = v as number;
        w &= ~OFPFW10.DL_TYPE;
        break;
      case 'VLAN_VID':
        if (e.mask !== undefined) break; // present-only: the PCP entry, if any, says the rest
        m.dl_vlan = (v as number) & OFPVID_PRESENT ? (v as number) & 0xfff : OFP10_VLAN_NONE;
        w &= ~OFPFW10.DL_VLAN;
        break;
      case 'VLAN_PCP':
        m.dl_vlan_pcp = v as number;
        w &= ~OFPFW10.DL_VLAN_PCP;
        break;
      case 'IP_DSCP':
        m.nw_tos = ((v as number) << 2) & 0xfc;
        w &= ~OFPFW10.NW_TOS;
        break;
      case 'IP_PROTO':
      case 'ARP_OP':
        m.nw_proto = (v as number) & 0xff;
        w &= ~OFPFW10.NW_PROTO;
        break;
      case 'IPV4_SRC':
      case 'ARP_SPA':
        setAddr(OFPFW10.NW_SRC_SHIFT, v as string, e.mask as string | undefined, (n) => (m.nw_src = n));
        break;
      case 'IPV4_DST':
      case 'ARP_TPA':
        setAddr(OFPFW10.NW_DST_SHIFT, v as string, e.mask as string | undefined, (n) => (m.nw_dst = n));
        break;
      case 'TCP_SRC':
      case 'UDP_SRC':
      case 'SCTP_SRC':
      case 'ICMPV4_TYPE':
        m.tp_src = v as number;
        w &= ~OFPFW10.TP_SRC;
        break;
      case 'TCP_DST':
      case 'UDP_DST':
      case 'SCTP_DST':
      case 'ICMPV4_CODE':
        m.tp_dst = v as number;
        w &= ~OFPFW10.TP_DST;
        break;
      default:
        break;
    }
  }
  m.wildcards = w >>> 0;
  return m;
}

// ---- actions ---------------------------------------------------------------------

function ipProto(match: readonly OxmEntry[]): number | undefined {
  return match.find((e) => e.field === 'IP_PROTO')?.value as number | undefined;
}
const tpFields: Partial<Record<number, [OxmName, OxmName]>> = { 6: ['TCP_SRC', 'TCP_DST'], 17: ['UDP_SRC', 'UDP_DST'], 132: ['SCTP_SRC', 'SCTP_DST'] };

/**
 * 1.0 actions as model actions. mod_tp_src/dst become the set_field of the match's
 * transport protocol; without one they are OFPBAC_MATCH_INCONSISTENT, as in OVS.
 */
export function actionsFrom10(acts: readonly Action10[], match: readonly OxmEntry[]): Action[] | OfpError {
  const out: Action[] = [];
  const set = (field: OxmName, value: OxmEntry['value']) => out.push({ type: 'SET_FIELD', field: { field, value } });
  // 1.0's mod_vlan_vid/pcp add a tag to an untagged frame (OVS: push_vlan_if_needed); the
  // model says so with push_vlan first, unless the match or an earlier action gives a tag.
  const vid = match.find((e) => e.field === 'VLAN_VID');
  let tagged = vid !== undefined && ((vid.value as number) & ((vid.mask as number | undefined) ?? 0xffff) & OFPVID_PRESENT) !== 0;
  const tag = () => {
    if (!tagged) out.push({ type: 'PUSH_VLAN', ethertype: 0x8100 });
    tagged = true;
  };
  for (const a of acts) {
    switch (a.type) {
      case 'OUTPUT':
        out.push({ type: 'OUTPUT', port: port32(a.port), max_len: a.max_len });
        break;
      case 'ENQUEUE':
        out.push({ type: 'SET_QUEUE', queue_id: a.queue_id }, { type: 'OUTPUT', port: port32(a.port), max_len: 0 });
        break;
      case 'SET_VLAN_VID':
        if (a.vlan_vid > 0xfff) return new OfpError('OFPBAC_BAD_ARGUMENT', { field: 'ofp_action_vlan_vid.vlan_vid', why: `${a.vlan_vid}` });
        tag();
        set('VLAN_VID', a.vlan_vid | OFPVID_PRESENT);
        break;
      case 'SET_VLAN_PCP':
        if (a.vlan_pcp > 7) return new OfpError('OFPBAC_BAD_ARGUMENT', { field: 'ofp_action_vlan_pcp.vlan_pcp', why: `${a.vlan_pcp}` });
        tag();
        set('VLAN_PCP', a.vlan_pcp);
        break;
      case 'STRIP_VLAN':
        out.push({ type: 'POP_VLAN' });
        tagged = false;
        break;
      case 'SET_DL_SRC':
        set('ETH_SRC', a.dl_addr);
        break;
      case 'SET_DL_DST':
        set('ETH_DST', a.dl_addr);
        break;
      case 'SET_NW_SRC':
        set('IPV4_SRC', ipv4(a.nw_addr));
        break;
      case 'SET_NW_DST':
        set('IPV4_DST', ipv4(a.nw_addr));
        break;
      case 'SET_NW_TOS':
        if (a.nw_tos & 3) return new OfpError('OFPBAC_BAD_ARGUMENT', { field: 'ofp_action_nw_tos.nw_tos', why: `ECN bits set in ${a.nw_tos}` });
        set('IP_DSCP', a.nw_tos >>> 2);
        break;
      case 'SET_TP_SRC':
      case 'SET_TP_DST': {
        const f = tpFields[ipProto(match) ?? -1];
        if (!f) return new OfpError('OFPBAC_MATCH_INCONSISTENT', { why: `${a.type === 'SET_TP_SRC' ? 'mod_tp_src' : 'mod_tp_dst'} needs a TCP, UDP or SCTP match` });
        set(f[a.type === 'SET_TP_SRC' ? 0 : 1], a.tp_port);
        break;
      }
      default:
        out.push(a);
    }
  }
  return out;
}

const setField10: Partial<Record<OxmName, (v: OxmEntry['value']) => Action10>> = {
  ETH_SRC: (v) => ({ type: 'SET_DL_SRC', dl_addr: v as string }),
  ETH_DST: (v) => ({ type: 'SET_DL_DST', dl_addr: v as string }),
  VLAN_VID: (v) => ({ type: 'SET_VLAN_VID', vlan_vid: (v as number) & 0xfff }),
  VLAN_PCP: (v) => ({ type: 'SET_VLAN_PCP', vlan_pcp: v as number }),
  IPV4_SRC: (v) => ({ type: 'SET_NW_SRC', nw_addr: parseIpv4(v as string) }),
  IPV4_DST: (v) => ({ type: 'SET_NW_DST', nw_addr: parseIpv4(v as string) }),
  IP_DSCP: (v) => ({ type: 'SET_NW_TOS', nw_tos: ((v as number) << 2) & 0xfc }),
  TCP_SRC: (v) => ({ type: 'SET_TP_SRC', tp_port: v as number }),
  UDP_SRC: (v) => ({ type: 'SET_TP_SRC', tp_port: v as number }),
  SCTP_SRC: (v) => ({ type: 'SET_TP_SRC', tp_port: v as number }),
  TCP_DST: (v) => ({ type: 'SET_TP_DST', tp_port: v as number }),
  UDP_DST: (v) => ({ type: 'SET_TP_DST', tp_port: v as number }),
  SCTP_DST: (v) => ({ type: 'SET_TP_DST', tp_port: v as number }),
};

/** NXAST_REG_LOAD of a whole field (≤ 64 bits), as OVS encodes set_field in 1.0. */
function regLoad(field: OxmName, value: bigint): Action10 | undefined {
  const row = oxmFields[field];
  if (row.width > 8 || row.kind === 'ipv6') return undefined;
  const nbits = row.width * 8;
  return { type: 'NX_REG_LOAD', ofs_nbits: nbits - 1, dst: oxmHeader(field), value };
}
function uintOf(row: (typeof oxmFields)[OxmName], v: OxmEntry['value']): bigint {
  if (row.kind === 'mac') return BigInt(`0x${(v as string).replaceAll(':', '')}`);
  if (row.kind === 'ipv4') return BigInt(parseIpv4(v as string));
  return BigInt(v as number | bigint);
}

/** Model actions in 1.0 terms; what 1.0 cannot say is left out, as OVS leaves it out. */
export function actionsTo10(acts: readonly Action[]): Action10[] {
  const out: Action10[] = [];
  for (let i = 0; i < acts.length; i++) {
    const a = acts[i]!;
    switch (a.type) {
      case 'OUTPUT': {
        const p = port16(a.port);
        if (p !== undefined) out.push({ type: 'OUTPUT', port: p, max_len: a.max_len });
        break;
      }
      case 'SET_QUEUE': {
        const next = acts[i + 1];
        const p = next?.type === 'OUTPUT' ? port16(next.port) : undefined;
        if (p !== undefined) {
          out.push({ type: 'ENQUEUE', port: p, queue_id: a.queue_id });
          i++;
        }
        break;
      }
      case 'POP_VLAN':
        out.push({ type: 'STRIP_VLAN' });
        break;
      case 'PUSH_VLAN':
        // Only as the first half of a 1.0 mod_vlan_vid/pcp; 1.0 has no push of its own.
        break;
      case 'SET_FIELD': {
        const f = setField10[a.field.field];
        if (f) out.push(f(a.field.value));
        else {
          const r = regLoad(a.field.field, uintOf(oxmFields[a.field.field], a.field.value));
          if (r) out.push(r);
        }
        break;
      }
      default:
        if (a.type.startsWith('NX_') && a.type !== 'NX_CLONE') out.push(a as Action10);
    }
  }
  return out;
}

/**
 * A flow's instructions as 1.0 actions, as OVS dumps a 1.3 flow to a 1.0 peer:
 * apply_actions as they are, write_metadata as a load of metadata, goto_table as
 * resubmit(,N); write/clear actions and meters have no 1.0 form and are left out.
 */
export function instructionsTo10(ins: readonly Instruction[]): Action10[] {
  const out: Action10[] = [];
  for (const i of ins) {
    if (i.type === 'APPLY_ACTIONS') out.push(...actionsTo10(i.actions));
    else if (i.type === 'WRITE_METADATA' && i.metadata_mask === 0xffffffffffffffffn) out.push(regLoad('METADATA', i.metadata)!);
  }
  const goto = ins.find((i) => i.type === 'GOTO_TABLE');
  if (goto) out.push({ type: 'NX_RESUBMIT_TABLE', in_port: OFPP10.IN_PORT, table: goto.table_id });
  return out;
}

// ---- requests: 1.0 to the model ---------------------------------------------------

const commands = ['ADD', 'MODIFY', 'MODIFY_STRICT', 'DELETE', 'DELETE_STRICT'] as const;

/**
 * A 1.0 FLOW_MOD as the model's. Without a table (no NXT_FLOW_MOD_TABLE_ID, or table
 * 0xff), adds go to table 0, deletes to every table, and modifies say OFPTT_ALL, which
 * modifyPlan10 spreads over the tables.
 */
export function flowModFrom10(m: Omit<Message10Of<'FLOW_MOD'>, 'type' | 'match'>, match: OxmEntry[], tableIdExt: boolean): MessageOf<'FLOW_MOD'> | OfpError {
  const cmd = m.command & 0xff;
  const command = commands[cmd];
  if (command === undefined) return new OfpError('OFPFMFC_BAD_COMMAND', { field: 'ofp_flow_mod.command', why: `${cmd}` });
  if (m.command >> 8 && !tableIdExt) return new OfpError('OFPFMFC_BAD_COMMAND', { field: 'ofp_flow_mod.command', why: `${m.command} (table id in command without NXT_FLOW_MOD_TABLE_ID)` });
  if (m.flags & ~(OFPFF10.SEND_FLOW_REM | OFPFF10.CHECK_OVERLAP)) return new OfpError(m.flags & OFPFF10.EMERG ? 'OFPFMFC_EPERM' : 'OFPFMFC_BAD_FLAGS', { field: 'ofp_flow_mod.flags', why: `0x${m.flags.toString(16)}` });
  // 0xff in the command's high byte means "no table given", as without the extension.
  const given = tableIdExt && m.command >> 8 !== OFPTT.ALL ? m.command >> 8 : undefined;
  const table_id = given ?? (command === 'ADD' ? 0 : OFPTT.ALL);
  const actions = actionsFrom10(m.actions, match);
  if (actions instanceof OfpError) return actions;
  return {
    type: 'FLOW_MOD',
    xid: m.xid,
    cookie: m.cookie,
    // 1.0 has no cookie mask: modifies and deletes ignore the cookie, and a modify sets it (OVS: new_cookie).
    cookie_mask: 0n,
    table_id,
    command,
    idle_timeout: m.idle_timeout,
    hard_timeout: m.hard_timeout,
    priority: m.priority,
    buffer_id: m.buffer_id,
    out_port: m.out_port === OFPP10.NONE ? OFPP.ANY : port32(m.out_port),
    out_group: OFPG.ANY,
    flags: m.flags,
    match,
    instructions: actions.length ? [{ type: 'APPLY_ACTIONS', actions }] : [],
  };
}

/** A 1.0 request the pipeline answers, as the model's; other 1.0 messages are the connection's. */
export function requestFrom10(m: Message10, tableIdExt: boolean): Message | OfpError | undefined {
  switch (m.type) {
    case 'FLOW_MOD':
      return flowModFrom10(m, matchFrom10(m.match), tableIdExt);
    case 'NXT_FLOW_MOD':
      return flowModFrom10({ xid: m.xid, ...m.body }, m.body.match, tableIdExt);
    case 'PACKET_OUT': {
      const actions = actionsFrom10(m.actions, []);
      if (actions instanceof OfpError) return actions;
      return { type: 'PACKET_OUT', xid: m.xid, buffer_id: m.buffer_id, in_port: m.in_port === OFPP10.NONE ? OFPP.CONTROLLER : port32(m.in_port), actions, data: m.data };
    }
    case 'PORT_MOD':
      return { type: 'PORT_MOD', xid: m.xid, port_no: port32(m.port_no), hw_addr: m.hw_addr, config: m.config, mask: m.mask, advertise: features13(m.advertise) };
    case 'QUEUE_GET_CONFIG_REQUEST':
      return { type: 'QUEUE_GET_CONFIG_REQUEST', xid: m.xid, port: port32(m.port) };
    case 'STATS_REQUEST': {
      const b = m.body;
      const mp = (body: MessageOf<'MULTIPART_REQUEST'>['body']): Message => ({ type: 'MULTIPART_REQUEST', xid: m.xid, body });
      switch (b.type) {
        case 'DESC':
        case 'TABLE':
        case 'PORT_DESC':
          return mp({ type: b.type, flags: 0 });
        case 'FLOW':
        case 'AGGREGATE':
          return mp({
            type: b.type,
            flags: 0,
            table_id: b.table_id,
            out_port: b.out_port === OFPP10.NONE ? OFPP.ANY : port32(b.out_port),
            out_group: OFPG.ANY,
            cookie: 0n,
            cookie_mask: 0n,
            match: matchFrom10(b.match),
          });
        case 'PORT':
          return mp({ type: 'PORT_STATS', flags: 0, port_no: b.port_no === OFPP10.NONE ? OFPP.ANY : port32(b.port_no) });
        case 'QUEUE':
          return mp({ type: 'QUEUE', flags: 0, port_no: b.port_no === OFPP10.ALL ? OFPP.ANY : port32(b.port_no), queue_id: b.queue_id });
        case 'NXST_FLOW':
        case 'NXST_AGGREGATE':
          return mp({
            type: b.type === 'NXST_FLOW' ? 'FLOW' : 'AGGREGATE',
            flags: 0,
            table_id: b.request.table_id,
            out_port: b.request.out_port === OFPP10.NONE ? OFPP.ANY : port32(b.request.out_port),
            out_group: OFPG.ANY,
            cookie: 0n,
            cookie_mask: 0n,
            match: b.request.match,
          });
      }
      return undefined;
    }
    default:
      return undefined;
  }
}

/**
 * OpenFlow 1.0's modify, as OVS does it, in the model's terms: without
 * NXT_FLOW_MOD_TABLE_ID it reaches every table (one model MODIFY per table holding a
 * flow it matches), and when it matches no flow at all it adds one (§4.6 of 1.0).
 * `flows` are the flows the modify's match covers (a FLOW stats reply).
 */
export function modifyPlan10(mod: MessageOf<'FLOW_MOD'>, flows: readonly { table_id: number; priority: number; match: OxmEntry[] }[]): MessageOf<'FLOW_MOD'>[] {
  const strict = mod.command === 'MODIFY_STRICT';
  const key = (m: readonly OxmEntry[]) => JSON.stringify(m.map((e) => JSON.stringify(e, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v))).sort());
  const want = key(mod.match);
  const hit = flows.filter((f) => (mod.table_id === OFPTT.ALL || f.table_id === mod.table_id) && (!strict || (f.priority === mod.priority && key(f.match) === want)));
  if (!hit.length) return [{ ...mod, command: 'ADD', table_id: mod.table_id === OFPTT.ALL ? 0 : mod.table_id }];
  return [...new Set(hit.map((f) => f.table_id))].map((table_id) => ({ ...mod, table_id }));
}

// ---- replies and async messages: the model to 1.0 ---------------------------------

/** What FEATURES_REPLY says in 1.0: OVS's capabilities and its twelve 1.0 actions. */
export function featuresReply10(xid: number, f: { datapath_id: bigint; n_buffers: number; n_tables: number; capabilities: number }, ports: readonly Port[]): Message10 {
  const caps = (f.capabilities & (OFPC.FLOW_STATS | OFPC.TABLE_STATS | OFPC.PORT_STATS | OFPC.IP_REASM | OFPC.QUEUE_STATS)) | OFPC10.ARP_MATCH_IP;
  return { type: 'FEATURES_REPLY', xid, datapath_id: f.datapath_id, n_buffers: f.n_buffers, n_tables: f.n_tables, capabilities: caps, actions: 0xfff, ports: ports.map(phyPort10) };
}

function statsReply10(b: MultipartReply): StatsReply10 | undefined {
  switch (b.type) {
    case 'DESC':
      return { ...b, flags: 0 };
    case 'FLOW':
      return {
        type: 'FLOW',
        flags: 0,
        flows: b.flows.map((f) => ({
          table_id: f.table_id,
          match: matchTo10(f.match),
          duration_sec: f.duration_sec,
          duration_nsec: f.duration_nsec,
          priority: f.priority,
          idle_timeout: f.idle_timeout,
          hard_timeout: f.hard_timeout,
          cookie: f.cookie,
          packet_count: f.packet_count,
          byte_count: f.byte_count,
          actions: instructionsTo10(f.instructions),
        })),
      };
    case 'AGGREGATE':
      return { type: 'AGGREGATE', flags: 0, packet_count: b.packet_count, byte_count: b.byte_count, flow_count: b.flow_count };
    case 'TABLE':
      return {
        type: 'TABLE',
        flags: 0,
        tables: b.tables.map((t) => ({ table_id: t.table_id, name: '', wildcards: OFPFW10.ALL, max_entries: 1_000_000, active_count: t.active_count, lookup_count: t.lookup_count, matched_count: t.matched_count })),
      };
    case 'PORT_STATS': {
      const ports = [];
      for (const p of b.ports) {
        const n = port16(p.port_no);
        if (n !== undefined) ports.push({ ...p, port_no: n });
      }
      return { type: 'PORT', flags: 0, ports };
    }
    case 'QUEUE': {
      const queues = [];
      for (const q of b.queues) {
        const n = port16(q.port_no);
        if (n !== undefined) queues.push({ port_no: n, queue_id: q.queue_id, tx_bytes: q.tx_bytes, tx_packets: q.tx_packets, tx_errors: q.tx_errors });
      }
      return { type: 'QUEUE', flags: 0, queues };
    }
    case 'PORT_DESC':
      return { type: 'PORT_DESC', flags: 0, ports: b.ports.map(phyPort10) };
    default:
      return undefined;
  }
}

/**
 * A FLOW or AGGREGATE reply in the Nicira form, for a request that came as NXST_*:
 * the match stays whole (NXM holds every field). The model does not report when a flow
 * was last hit or modified: idle_age is the flow's age while it has no hits (exact then,
 * as OVS counts it), else "unknown" (0, not printed), and hard_age is always unknown.
 */
export function nxStatsReply10(m: MessageOf<'MULTIPART_REPLY'>): Message10 | undefined {
  const b = m.body;
  if (b.type === 'AGGREGATE') return { type: 'STATS_REPLY', xid: m.xid, body: { type: 'NXST_AGGREGATE', flags: 0, packet_count: b.packet_count, byte_count: b.byte_count, flow_count: b.flow_count } };
  if (b.type !== 'FLOW') return undefined;
  const flows = b.flows.map((f) => ({
    table_id: f.table_id,
    duration_sec: f.duration_sec,
    duration_nsec: f.duration_nsec,
    priority: f.priority,
    idle_timeout: f.idle_timeout,
    hard_timeout: f.hard_timeout,
    idle_age: f.packet_count === 0n ? Math.min(f.duration_sec + 1, 0xffff) : 0,
    hard_age: 0,
    cookie: f.cookie,
    packet_count: f.packet_count,
    byte_count: f.byte_count,
    match: f.match,
    actions: instructionsTo10(f.instructions),
  }));
  return { type: 'STATS_REPLY', xid: m.xid, body: { type: 'NXST_FLOW', flags: 0, flows } };
}

/** The 1.0 form of an ERROR the connection or the handler built in 1.3 numbering. */
function error10(m: MessageOf<'ERROR'>): Message10 {
  let exp = 0;
  let data = m.data;
  if (m.err_type === OFPET_EXPERIMENTER && data.length >= 4) {
    exp = new DataView(data.buffer, data.byteOffset).getUint32(0);
    data = data.subarray(4);
  }
  const name = ofpErrorByWire(m.err_type, m.code, exp);
  // HELLO_FAILED carries text, not a request: it keeps its data as it is.
  if (name === 'OFPHFC_INCOMPATIBLE' || name === 'OFPHFC_EPERM') return { type: 'ERROR', xid: m.xid, err_type: ofpErrors[name].type, code: ofpErrors[name].code, data };
  const reply = errorReply10(name ?? 'OFPBRC_EPERM', data);
  return { ...reply, xid: m.xid };
}

/**
 * A model message in 1.0 terms, or undefined when 1.0 has none (ROLE_STATUS, GET_ASYNC
 * replies, …): such messages are not sent on a 1.0 session.
 */
export function messageTo10(m: Message): Message10 | undefined {
  switch (m.type) {
    case 'ERROR':
      return error10(m);
    case 'ECHO_REQUEST':
    case 'ECHO_REPLY':
    case 'BARRIER_REPLY':
    case 'BARRIER_REQUEST':
      return m;
    case 'GET_CONFIG_REPLY':
      return { type: 'GET_CONFIG_REPLY', xid: m.xid, flags: m.flags, miss_send_len: m.miss_send_len };
    case 'PACKET_IN': {
      const inPort = m.match.find((e) => e.field === 'IN_PORT')?.value as number | undefined;
      return { type: 'PACKET_IN', xid: m.xid, buffer_id: m.buffer_id, total_len: m.total_len, in_port: port16(inPort ?? OFPP.LOCAL) ?? OFPP10.NONE, reason: m.reason === 0 ? 0 : 1, data: m.data };
    }
    case 'FLOW_REMOVED':
      return {
        type: 'FLOW_REMOVED',
        xid: m.xid,
        match: matchTo10(m.match),
        cookie: m.cookie,
        priority: m.priority,
        reason: m.reason === OFPRR.GROUP_DELETE ? OFPRR.DELETE : m.reason,
        duration_sec: m.duration_sec,
        duration_nsec: m.duration_nsec,
        idle_timeout: m.idle_timeout,
        packet_count: m.packet_count,
        byte_count: m.byte_count,
      };
    case 'PORT_STATUS':
      return { type: 'PORT_STATUS', xid: m.xid, reason: m.reason, desc: phyPort10(m.desc) };
    case 'MULTIPART_REPLY': {
      const body = statsReply10(m.body);
      return body ? { type: 'STATS_REPLY', xid: m.xid, body } : undefined;
    }
    case 'QUEUE_GET_CONFIG_REPLY':
      return {
        type: 'QUEUE_GET_CONFIG_REPLY',
        xid: m.xid,
        port: port16(m.port) ?? OFPP10.NONE,
        queues: m.queues.map((q) => ({ queue_id: q.queue_id, properties: q.properties.filter((p) => p.type === 'MIN_RATE') })),
      };
    default:
      return undefined;
  }
}

/** Bytes per STATS_REPLY part: as the 1.3 splitter, below 64 KB. */
const PART_MAX = 0xffff - 1024;
const OFPSF_REPLY_MORE = 1;

/** The element codec of each array-bodied stats reply. */
const itemCodec: Partial<Record<StatsReply10['type'], Codec<never>>> = {
  FLOW: flowStats10 as unknown as Codec<never>,
  TABLE: tableStats10 as unknown as Codec<never>,
  PORT: portStats10 as unknown as Codec<never>,
  QUEUE: queueStats10 as unknown as Codec<never>,
  PORT_DESC: phyPort10Codec as unknown as Codec<never>,
  NXST_FLOW: { size: undefined, read: () => undefined as never, write: (w: Writer, item: NxFlowStats) => nxFlowStatsList.write(w, [item]) } as unknown as Codec<never>,
};

/** A 1.0 STATS_REPLY of any size as messages below 64 KB, all but the last with OFPSF_REPLY_MORE. */
export function encodeStatsReply10(m: Message10Of<'STATS_REPLY'>): Uint8Array[] {
  const b = m.body as StatsReply10 & Record<string, unknown>;
  const codec = itemCodec[b.type];
  const key = Object.keys(b).find((k) => Array.isArray(b[k]));
  if (!codec || !key) return [encodeMessage10(m)];
  // The header (ofp_stats_reply, and the Nicira vendor part for NXST_*) once; each element written once; parts cut between elements.
  const head = encodeMessage10({ ...m, body: { ...b, [key]: [] } as StatsReply10 });
  const w = new Writer();
  const ends: number[] = [];
  for (const item of b[key] as never[]) {
    codec.write(w, item);
    ends.push(w.pos);
  }
  const all = w.done();
  const parts: Uint8Array[] = [];
  let from = 0;
  let i = 0;
  do {
    let to = from;
    while (i < ends.length && (to === from || ends[i]! - from <= PART_MAX)) to = ends[i++]!;
    const part = new Uint8Array(head.length + to - from);
    part.set(head);
    const v = new DataView(part.buffer);
    v.setUint16(2, part.length);
    v.setUint16(10, i < ends.length ? OFPSF_REPLY_MORE : 0);
    part.set(all.subarray(from, to), head.length);
    parts.push(part);
    from = to;
  } while (i < ends.length);
  return parts;
}
