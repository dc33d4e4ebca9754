// proto/openflow/of10-messages.ts — every OpenFlow 1.0 message (§5), a row per OFPT_*
// type, with the 1.0 port, switch-features and statistics bodies, and the Nicira
// vendor messages `ovs-ofctl` sends in 1.0. Values are in 1.0's own terms (16-bit
// ports, ofp_match); src/openflow/of10.ts maps them to the OF1.3 model.
import { NX_EXPERIMENTER } from './errors.js';
import { actions10 } from './of10-actions.js';
import { match10 } from './of10-match.js';
import { nxFlowModBody, nxFlowStatsList, nxFlowStatsRequest } from './of10-nxm.js';
import { array, hdr, lenOf, lenSelf, mac, pad, registry, rest, str, struct, u16, u32, u64, u8, type RegistryValue, type ValueOf } from './struct.js';

export const OFP10_VERSION = 0x01;

/** Reserved 16-bit port numbers (ofp_port). OVS maps 0xff00.. to 0xffffff00.. of OF1.1+. */
export const OFPP10 = {
  MAX: 0xff00,
  IN_PORT: 0xfff8,
  TABLE: 0xfff9,
  NORMAL: 0xfffa,
  FLOOD: 0xfffb,
  ALL: 0xfffc,
  CONTROLLER: 0xfffd,
  LOCAL: 0xfffe,
  NONE: 0xffff,
} as const;

/** ofp_capabilities bits of OpenFlow 1.0. */
export const OFPC10 = { FLOW_STATS: 1, TABLE_STATS: 2, PORT_STATS: 4, STP: 8, IP_REASM: 32, QUEUE_STATS: 64, ARP_MATCH_IP: 128 } as const;
/** ofp_flow_mod_flags of OpenFlow 1.0. */
export const OFPFF10 = { SEND_FLOW_REM: 1, CHECK_OVERLAP: 2, EMERG: 4 } as const;
/** ofp_flow_mod_command; with NXT_FLOW_MOD_TABLE_ID on, the high byte of `command` is the table. */
export const OFPFC10 = { ADD: 0, MODIFY: 1, MODIFY_STRICT: 2, DELETE: 3, DELETE_STRICT: 4 } as const;
/** NXT_SET_FLOW_FORMAT formats. */
export const NXFF = { OPENFLOW10: 0, NXM: 2 } as const;
/** The Nicira vendor error type of 1.0 (an nx_vendor_error follows the header). */
export const NXET_VENDOR = 0xb0c2;

/** version, type, length: filled in by the registry. xid is the message's own field. */
const OFP_HEADER = [hdr(4), ['xid', u32]] as const;
/** ofp_vendor_header plus the Nicira subtype u32. */
const NX_HEADER = [hdr(4), ['xid', u32], hdr(8)] as const;

export const phyPort10 = struct('ofp_phy_port', 48, [
  ['port_no', u16],
  ['hw_addr', mac],
  ['name', str(16)], // NUL-terminated
  ['config', u32], // OFPPC_* bits (1.0: PORT_DOWN 1, NO_STP 2, NO_RECV 4, NO_RECV_STP 8, NO_FLOOD 16, NO_FWD 32, NO_PACKET_IN 64)
  ['state', u32], // LINK_DOWN 1, STP state in bits 8-9
  ['curr', u32], // OFPPF_* bits (1.0 numbering: COPPER is 1 << 7)
  ['advertised', u32],
  ['supported', u32],
  ['peer', u32],
]);
export type PhyPort10 = ValueOf<typeof phyPort10>;

/** type u16 (filled in), flags u16 (OFPSF_REPLY_MORE = 1 in replies). */
const ST = [hdr(2), ['flags', u16]] as const;
/** ofp_stats header plus the Nicira vendor id and subtype, and 4 bytes of padding. */
const NXST = [hdr(2), ['flags', u16], hdr(8), pad(4)] as const;

const flowStatsRequest10 = (name: string) => struct(name, 48, [...ST, ['match', match10], ['table_id', u8], pad(1), ['out_port', u16]]);

export const flowStats10 = struct('ofp_flow_stats', 88, [
  lenSelf(u16),
  ['table_id', u8],
  pad(1),
  ['match', match10],
  ['duration_sec', u32],
  ['duration_nsec', u32],
  ['priority', u16],
  ['idle_timeout', u16], // seconds
  ['hard_timeout', u16],
  pad(6),
  ['cookie', u64],
  ['packet_count', u64],
  ['byte_count', u64],
  ['actions', actions10],
]);
export type FlowStats10 = ValueOf<typeof flowStats10>;

export const tableStats10 = struct('ofp_table_stats', 64, [
  ['table_id', u8],
  pad(3),
  ['name', str(32)],
  ['wildcards', u32], // OFPFW10 bits the table can wildcard
  ['max_entries', u32],
  ['active_count', u32],
  ['lookup_count', u64],
  ['matched_count', u64],
]);
export type TableStats10 = ValueOf<typeof tableStats10>;

export const portStats10 = struct('ofp_port_stats', 104, [
  ['port_no', u16],
  pad(6),
  ['rx_packets', u64],
  ['tx_packets', u64],
  ['rx_bytes', u64],
  ['tx_bytes', u64],
  ['rx_dropped', u64],
  ['tx_dropped', u64],
  ['rx_errors', u64],
  ['tx_errors', u64],
  ['rx_frame_err', u64],
  ['rx_over_err', u64],
  ['rx_crc_err', u64],
  ['collisions', u64],
]);
export type PortStats10 = ValueOf<typeof portStats10>;

export const queueStats10 = struct('ofp_queue_stats', 32, [['port_no', u16], pad(2), ['queue_id', u32], ['tx_bytes', u64], ['tx_packets', u64], ['tx_errors', u64]]);
export type QueueStats10 = ValueOf<typeof queueStats10>;

const statsLayout = {
  tagAt: 0,
  tagWidth: 2,
  expTag: 0xffff,
  expAt: 4,
  subAt: 8,
  badType: 'OFPBRC_BAD_MULTIPART',
  badLen: 'OFPBRC_BAD_LEN',
  badExperimenter: 'OFPBRC_BAD_EXPERIMENTER',
  badExpType: 'OFPBRC_BAD_EXP_TYPE',
} as const;
const empty = struct('ofp_stats_request', 4, [...ST]);

export const statsRequest10Registry = registry(
  { ...statsLayout, what: 'stats request' },
  {
    DESC: { tag: 0, body: empty },
    FLOW: { tag: 1, body: flowStatsRequest10('ofp_flow_stats_request') },
    AGGREGATE: { tag: 2, body: flowStatsRequest10('ofp_aggregate_stats_request') },
    TABLE: { tag: 3, body: empty },
    PORT: { tag: 4, body: struct('ofp_port_stats_request', 12, [...ST, ['port_no', u16], pad(6)]) }, // OFPP10.NONE: all
    QUEUE: { tag: 5, body: struct('ofp_queue_stats_request', 12, [...ST, ['port_no', u16], pad(2), ['queue_id', u32]]) }, // OFPP10.ALL, OFPQ_ALL
    // An OVS extension to 1.0 (OFPST_PORT_DESC, as OF1.3 has it).
    PORT_DESC: { tag: 13, body: empty },
    // Nicira flow stats, the match in NXM (what ovs-ofctl asks once the flow format is nxm).
    NXST_FLOW: { tag: 0xffff, experimenter: NX_EXPERIMENTER, subtype: 0, body: struct('nx_flow_stats_request', 16, [...NXST, ['request', nxFlowStatsRequest]]) },
    NXST_AGGREGATE: { tag: 0xffff, experimenter: NX_EXPERIMENTER, subtype: 1, body: struct('nx_aggregate_stats_request', 16, [...NXST, ['request', nxFlowStatsRequest]]) },
  },
);
export type StatsRequest10 = RegistryValue<typeof statsRequest10Registry>;

export const statsReply10Registry = registry(
  { ...statsLayout, what: 'stats reply' },
  {
    DESC: {
      tag: 0,
      body: struct('ofp_desc_stats', 4 + 1056, [
        ...ST,
        ['mfr_desc', str(256)],
        ['hw_desc', str(256)],
        ['sw_desc', str(256)],
        ['serial_num', str(32)],
        ['dp_desc', str(256)],
      ]),
    },
    FLOW: { tag: 1, body: struct('ofp_stats_reply', 4, [...ST, ['flows', array(flowStats10)]]) },
    AGGREGATE: { tag: 2, body: struct('ofp_aggregate_stats_reply', 4 + 24, [...ST, ['packet_count', u64], ['byte_count', u64], ['flow_count', u32], pad(4)]) },
    TABLE: { tag: 3, body: struct('ofp_stats_reply', 4, [...ST, ['tables', array(tableStats10)]]) },
    PORT: { tag: 4, body: struct('ofp_stats_reply', 4, [...ST, ['ports', array(portStats10)]]) },
    QUEUE: { tag: 5, body: struct('ofp_stats_reply', 4, [...ST, ['queues', array(queueStats10)]]) },
    PORT_DESC: { tag: 13, body: struct('ofp_stats_reply', 4, [...ST, ['ports', array(phyPort10)]]) },
    NXST_FLOW: { tag: 0xffff, experimenter: NX_EXPERIMENTER, subtype: 0, body: struct('nicira10_stats_msg', 16, [...NXST, ['flows', nxFlowStatsList]]) },
    NXST_AGGREGATE: {
      tag: 0xffff,
      experimenter: NX_EXPERIMENTER,
      subtype: 1,
      body: struct('nx_aggregate_stats_reply', 16 + 24, [...NXST, ['packet_count', u64], ['byte_count', u64], ['flow_count', u32], pad(4)]),
    },
  },
);
export type StatsReply10 = RegistryValue<typeof statsReply10Registry>;

const queueProp10 = registry(
  { what: 'queue property', tagAt: 0, tagWidth: 2, lenAt: 2, align: 'include', badType: 'OFPBRC_BAD_TYPE', badLen: 'OFPBRC_BAD_LEN' },
  { MIN_RATE: { tag: 1, body: struct('ofp_queue_prop_min_rate', 16, [hdr(4), pad(4), ['rate', u16], pad(6)]) } }, // rate in 1/10 %
);
export const packetQueue10 = struct('ofp_packet_queue', 8, [['queue_id', u32], lenSelf(u16), pad(2), ['properties', queueProp10.list]]);

const switchConfig10 = (name: string) => struct(name, 12, [...OFP_HEADER, ['flags', u16], ['miss_send_len', u16]]); // flags: OFPC_FRAG_* (0-3)
const headerOnly = struct('ofp_header', 8, [...OFP_HEADER]);

export const message10Registry = registry(
  {
    what: 'message',
    tagAt: 1,
    tagWidth: 1,
    lenAt: 2,
    expTag: 4,
    expAt: 8,
    subAt: 12,
    badType: 'OFPBRC_BAD_TYPE',
    badLen: 'OFPBRC_BAD_LEN',
    badExperimenter: 'OFPBRC_BAD_EXPERIMENTER',
    badExpType: 'OFPBRC_BAD_EXP_TYPE',
  },
  {
    HELLO: { tag: 0, body: struct('ofp_hello', 8, [...OFP_HEADER, ['elements', rest]]) }, // 1.0: no elements; later versions' bitmaps are read by the handshake
    ERROR: { tag: 1, body: struct('ofp_error_msg', 12, [...OFP_HEADER, ['err_type', u16], ['code', u16], ['data', rest]]) },
    ECHO_REQUEST: { tag: 2, body: struct('ofp_echo', 8, [...OFP_HEADER, ['data', rest]]) },
    ECHO_REPLY: { tag: 3, body: struct('ofp_echo', 8, [...OFP_HEADER, ['data', rest]]) },
    FEATURES_REQUEST: { tag: 5, body: headerOnly },
    FEATURES_REPLY: {
      tag: 6,
      body: struct('ofp_switch_features', 32, [
        ...OFP_HEADER,
        ['datapath_id', u64],
        ['n_buffers', u32],
        ['n_tables', u8],
        pad(3),
        ['capabilities', u32], // OFPC10 bits
        ['actions', u32], // 1 << OFPAT10_* for each action supported
        ['ports', array(phyPort10)],
      ]),
    },
    GET_CONFIG_REQUEST: { tag: 7, body: headerOnly },
    GET_CONFIG_REPLY: { tag: 8, body: switchConfig10('ofp_switch_config') },
    SET_CONFIG: { tag: 9, body: switchConfig10('ofp_switch_config') },
    PACKET_IN: {
      tag: 10,
      body: struct('ofp_packet_in', 18, [
        ...OFP_HEADER,
        ['buffer_id', u32],
        ['total_len', u16], // full frame length
        ['in_port', u16],
        ['reason', u8], // OFPR_NO_MATCH 0, OFPR_ACTION 1
        pad(1),
        ['data', rest],
      ]),
    },
    FLOW_REMOVED: {
      tag: 11,
      body: struct('ofp_flow_removed', 88, [
        ...OFP_HEADER,
        ['match', match10],
        ['cookie', u64],
        ['priority', u16],
        ['reason', u8], // OFPRR_IDLE_TIMEOUT 0, HARD_TIMEOUT 1, DELETE 2
        pad(1),
        ['duration_sec', u32],
        ['duration_nsec', u32],
        ['idle_timeout', u16],
        pad(2),
        ['packet_count', u64],
        ['byte_count', u64],
      ]),
    },
    PORT_STATUS: { tag: 12, body: struct('ofp_port_status', 64, [...OFP_HEADER, ['reason', u8], pad(7), ['desc', phyPort10]]) },
    PACKET_OUT: {
      tag: 13,
      body: struct('ofp_packet_out', 16, [...OFP_HEADER, ['buffer_id', u32], ['in_port', u16], lenOf('actions', u16), ['actions', actions10], ['data', rest]]),
    },
    FLOW_MOD: {
      tag: 14,
      body: struct('ofp_flow_mod', 72, [
        ...OFP_HEADER,
        ['match', match10],
        ['cookie', u64],
        ['command', u16], // OFPFC10; high byte: table with NXT_FLOW_MOD_TABLE_ID on
        ['idle_timeout', u16], // seconds, 0: none
        ['hard_timeout', u16],
        ['priority', u16],
        ['buffer_id', u32],
        ['out_port', u16], // DELETE* filter, OFPP10.NONE: none
        ['flags', u16], // OFPFF10 bits
        ['actions', actions10],
      ]),
    },
    PORT_MOD: {
      tag: 15,
      body: struct('ofp_port_mod', 32, [...OFP_HEADER, ['port_no', u16], ['hw_addr', mac], ['config', u32], ['mask', u32], ['advertise', u32], pad(4)]),
    },
    STATS_REQUEST: { tag: 16, body: struct('ofp_stats_request', 8, [...OFP_HEADER, ['body', statsRequest10Registry]]) },
    STATS_REPLY: { tag: 17, body: struct('ofp_stats_reply', 8, [...OFP_HEADER, ['body', statsReply10Registry]]) },
    BARRIER_REQUEST: { tag: 18, body: headerOnly },
    BARRIER_REPLY: { tag: 19, body: headerOnly },
    QUEUE_GET_CONFIG_REQUEST: { tag: 20, body: struct('ofp_queue_get_config_request', 12, [...OFP_HEADER, ['port', u16], pad(2)]) },
    QUEUE_GET_CONFIG_REPLY: { tag: 21, body: struct('ofp_queue_get_config_reply', 16, [...OFP_HEADER, ['port', u16], pad(6), ['queues', array(packetQueue10)]]) },

    NXT_SET_FLOW_FORMAT: { tag: 4, experimenter: NX_EXPERIMENTER, subtype: 12, body: struct('nx_set_flow_format', 20, [...NX_HEADER, ['format', u32]]) }, // NXFF
    NXT_FLOW_MOD: { tag: 4, experimenter: NX_EXPERIMENTER, subtype: 13, body: struct('nx_flow_mod', 16, [...NX_HEADER, ['body', nxFlowModBody]]) },
    NXT_FLOW_MOD_TABLE_ID: { tag: 4, experimenter: NX_EXPERIMENTER, subtype: 15, body: struct('nx_flow_mod_table_id', 24, [...NX_HEADER, ['set', u8], pad(7)]) }, // 1: on
    NXT_SET_PACKET_IN_FORMAT: { tag: 4, experimenter: NX_EXPERIMENTER, subtype: 16, body: struct('nx_set_packet_in_format', 20, [...NX_HEADER, ['format', u32]]) },
  },
);

export type Message10 = RegistryValue<typeof message10Registry>;
export type Message10Type = Message10['type'];
export type Message10Of<T extends Message10Type> = Extract<Message10, { type: T }>;
