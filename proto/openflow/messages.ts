// proto/openflow/messages.ts — every OpenFlow 1.3 message (§7), a row per OFPT_* type,
// plus the experimenter messages OVS tools send. The registry yields the name<->number
// maps, decode dispatch and the OFPBRC_BAD_TYPE / BAD_LEN / BAD_EXPERIMENTER refusals.
import { actions } from './actions.js';
import { bundleCtrlType, bundleFlags, bundleProperties, innerMessage, ONFT_BUNDLE_ADD_MESSAGE, ONFT_BUNDLE_CONTROL } from './bundle.js';
import { NX_EXPERIMENTER, ONF_EXPERIMENTER } from './errors.js';
import { buckets } from './group.js';
import { instructions } from './instructions.js';
import { meterBands } from './meter.js';
import { multipartReplyRegistry, multipartRequestRegistry } from './multipart.js';
import { match } from './oxm.js';
import { port } from './port.js';
import { array, enumOf, flags, hdr, lenOf, lenSelf, list, mac, pad, registry, rest, struct, u16, u32, u64, u8, type Codec, type RegistryValue } from './struct.js';

/** version, type, length: filled in by the registry. xid is the message's own field. */
const OFP_HEADER = [hdr(4), ['xid', u32]] as const;
/** ofp_header plus experimenter u32 and exp_type u32. */
const EXP_HEADER = [hdr(4), ['xid', u32], hdr(8)] as const;

/** ofp_hello_elem_header types; unknown elements are kept, as the spec asks ("must be ignored"). */
export const helloElemRegistry = registry(
  { what: 'hello element', tagAt: 0, tagWidth: 2, lenAt: 2, align: 'exclude', badType: 'OFPBRC_BAD_TYPE', badLen: 'OFPBRC_BAD_LEN', keepUnknown: true },
  {
    VERSIONBITMAP: { tag: 1, body: struct('ofp_hello_elem_versionbitmap', 4, [hdr(4), ['bitmaps', array(u32)]]) },
  },
);

const pair: Codec<[number, number]> = {
  meta: { kind: 'custom', name: 'pair' },
  size: 8,
  read: (r, f) => [u32.read(r, f), u32.read(r, f)],
  write: (w, v) => {
    u32.write(w, v[0]);
    u32.write(w, v[1]);
  },
};

/** Async config masks: [0] for master/equal connections, [1] for slaves (§7.3.10). */
const asyncConfig = (name: string) =>
  struct(name, 32, [
    ...OFP_HEADER,
    ['packet_in_mask', pair], // bits 1 << OFPR_*
    ['port_status_mask', pair], // bits 1 << OFPPR_*
    ['flow_removed_mask', pair], // bits 1 << OFPRR_*
  ]);

export const flowModCommand = enumOf(u8, { ADD: 0, MODIFY: 1, MODIFY_STRICT: 2, DELETE: 3, DELETE_STRICT: 4 }, 'OFPFMFC_BAD_COMMAND');
export const flowModFlags = flags(u16, { SEND_FLOW_REM: 1, CHECK_OVERLAP: 2, RESET_COUNTS: 4, NO_PKT_COUNTS: 8, NO_BYT_COUNTS: 16 }, 'OFPFMFC_BAD_FLAGS');
export const groupModCommand = enumOf(u16, { ADD: 0, MODIFY: 1, DELETE: 2 }, 'OFPGMFC_BAD_COMMAND');
export const groupType = enumOf(u8, { ALL: 0, SELECT: 1, INDIRECT: 2, FF: 3 }, 'OFPGMFC_BAD_TYPE');
export const meterModCommand = enumOf(u16, { ADD: 0, MODIFY: 1, DELETE: 2 }, 'OFPMMFC_BAD_COMMAND');
export const meterFlags = flags(u16, { KBPS: 1, PKTPS: 2, BURST: 4, STATS: 8 }, 'OFPMMFC_BAD_FLAGS');
export const controllerRole = enumOf(u32, { NOCHANGE: 0, EQUAL: 1, MASTER: 2, SLAVE: 3 }, 'OFPRRFC_BAD_ROLE');
export const configFlags = flags(u16, { FRAG_DROP: 1, FRAG_REASM: 2 }, 'OFPSCFC_BAD_FLAGS');

const switchConfig = (name: string) => struct(name, 12, [...OFP_HEADER, ['flags', configFlags], ['miss_send_len', u16]]);
const roleMsg = (name: string) => struct(name, 24, [...OFP_HEADER, ['role', controllerRole], pad(4), ['generation_id', u64]]);
const headerOnly = struct('ofp_header', 8, [...OFP_HEADER]);

const queueProp = registry(
  { what: 'queue property', tagAt: 0, tagWidth: 2, lenAt: 2, align: 'include', badType: 'OFPBRC_BAD_TYPE', badLen: 'OFPBRC_BAD_LEN' },
  {
    MIN_RATE: { tag: 1, body: struct('ofp_queue_prop_min_rate', 16, [hdr(4), pad(4), ['rate', u16], pad(6)]) }, // rate in 1/10 %
    MAX_RATE: { tag: 2, body: struct('ofp_queue_prop_max_rate', 16, [hdr(4), pad(4), ['rate', u16], pad(6)]) },
  },
);
export const packetQueue = struct('ofp_packet_queue', 16, [['queue_id', u32], ['port', u32], lenSelf(u16), pad(6), ['properties', list(queueProp)]]);

export const messageRegistry = registry(
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
    HELLO: { tag: 0, body: struct('ofp_hello', 8, [...OFP_HEADER, ['elements', list(helloElemRegistry)]]) },
    ERROR: {
      tag: 1,
      body: struct('ofp_error_msg', 12, [
        ...OFP_HEADER,
        ['err_type', u16], // OFPET_*
        ['code', u16],
        ['data', rest], // the start of the failed request; for OFPET_EXPERIMENTER, experimenter u32 first
      ]),
    },
    ECHO_REQUEST: { tag: 2, body: struct('ofp_echo', 8, [...OFP_HEADER, ['data', rest]]) },
    ECHO_REPLY: { tag: 3, body: struct('ofp_echo', 8, [...OFP_HEADER, ['data', rest]]) },
    FEATURES_REQUEST: { tag: 5, body: headerOnly },
    FEATURES_REPLY: {
      tag: 6,
      body: struct('ofp_switch_features', 32, [
        ...OFP_HEADER,
        ['datapath_id', u64], // low 48 bits: a MAC; top 16: implementer-defined
        ['n_buffers', u32],
        ['n_tables', u8],
        ['auxiliary_id', u8], // 0: the main connection
        pad(2),
        ['capabilities', u32], // OFPC_* bits
        ['reserved', u32],
      ]),
    },
    GET_CONFIG_REQUEST: { tag: 7, body: headerOnly },
    GET_CONFIG_REPLY: { tag: 8, body: switchConfig('ofp_switch_config') },
    SET_CONFIG: { tag: 9, body: switchConfig('ofp_switch_config') },
    // Spec sizeof 32 counts an empty ofp_match; the fixed part is 24.
    PACKET_IN: {
      tag: 10,
      body: struct('ofp_packet_in', 24, [
        ...OFP_HEADER,
        ['buffer_id', u32], // OFP_NO_BUFFER
        ['total_len', u16], // full frame length
        ['reason', u8], // OFPR_NO_MATCH (0), OFPR_ACTION (1), OFPR_INVALID_TTL (2)
        ['table_id', u8],
        ['cookie', u64],
        ['match', match],
        pad(2),
        ['data', rest], // the frame, possibly truncated to max_len / miss_send_len
      ]),
    },
    FLOW_REMOVED: {
      len8: true, // OVS refuses other lengths first, as OFPBRC_BAD_LEN
      tag: 11,
      body: struct('ofp_flow_removed', 48, [
        ...OFP_HEADER,
        ['cookie', u64],
        ['priority', u16],
        ['reason', u8], // OFPRR_IDLE_TIMEOUT (0), HARD_TIMEOUT (1), DELETE (2), GROUP_DELETE (3)
        ['table_id', u8],
        ['duration_sec', u32],
        ['duration_nsec', u32],
        ['idle_timeout', u16],
        ['hard_timeout', u16],
        ['packet_count', u64],
        ['byte_count', u64],
        ['match', match],
      ]),
    },
    PORT_STATUS: {
      tag: 12,
      body: struct('ofp_port_status', 80, [...OFP_HEADER, ['reason', u8], pad(7), ['desc', port]]), // OFPPR_ADD (0), DELETE (1), MODIFY (2)
    },
    PACKET_OUT: {
      tag: 13,
      body: struct('ofp_packet_out', 24, [
        ...OFP_HEADER,
        ['buffer_id', u32], // OFP_NO_BUFFER: the frame is in data
        ['in_port', u32], // OFPP_CONTROLLER if none
        lenOf('actions', u16),
        pad(6),
        ['actions', actions],
        ['data', rest],
      ]),
    },
    // Spec sizeof 56 counts an empty ofp_match; the fixed part is 48.
    FLOW_MOD: {
      len8: true, // OVS refuses other lengths first, as OFPBRC_BAD_LEN
      tag: 14,
      body: struct('ofp_flow_mod', 48, [
        ...OFP_HEADER,
        ['cookie', u64],
        ['cookie_mask', u64], // for MODIFY*/DELETE*: which cookie bits must match
        ['table_id', u8], // OFPTT_ALL only for DELETE*
        ['command', flowModCommand],
        ['idle_timeout', u16], // seconds, 0: none
        ['hard_timeout', u16], // seconds, 0: none
        ['priority', u16],
        ['buffer_id', u32], // OFP_NO_BUFFER
        ['out_port', u32], // DELETE* filter, OFPP_ANY: none
        ['out_group', u32], // DELETE* filter, OFPG_ANY: none
        ['flags', flowModFlags],
        pad(2),
        ['match', match],
        ['instructions', instructions],
      ]),
    },
    GROUP_MOD: {
      len8: true, // OVS refuses other lengths first, as OFPBRC_BAD_LEN
      tag: 15,
      body: struct('ofp_group_mod', 16, [...OFP_HEADER, ['command', groupModCommand], ['group_type', groupType], pad(1), ['group_id', u32], ['buckets', buckets]]),
    },
    PORT_MOD: {
      tag: 16,
      body: struct('ofp_port_mod', 40, [
        ...OFP_HEADER,
        ['port_no', u32],
        pad(4),
        ['hw_addr', mac], // must be the port's address
        pad(2),
        ['config', u32], // OFPPC_* bits
        ['mask', u32], // which config bits to change
        ['advertise', u32], // OFPPF_* bits, 0: unchanged
        pad(4),
      ]),
    },
    TABLE_MOD: { tag: 17, body: struct('ofp_table_mod', 16, [...OFP_HEADER, ['table_id', u8], pad(3), ['config', u32]]) },
    MULTIPART_REQUEST: { tag: 18, body: struct('ofp_multipart_request', 8, [...OFP_HEADER, ['body', multipartRequestRegistry]]) },
    MULTIPART_REPLY: { tag: 19, body: struct('ofp_multipart_reply', 8, [...OFP_HEADER, ['body', multipartReplyRegistry]]) },
    BARRIER_REQUEST: { tag: 20, body: headerOnly },
    BARRIER_REPLY: { tag: 21, body: headerOnly },
    QUEUE_GET_CONFIG_REQUEST: { tag: 22, body: struct('ofp_queue_get_config_request', 16, [...OFP_HEADER, ['port', u32], pad(4)]) },
    QUEUE_GET_CONFIG_REPLY: {
      len8: true, // OVS refuses other lengths first, as OFPBRC_BAD_LEN
      tag: 23,
      body: struct('ofp_queue_get_config_reply', 16, [...OFP_HEADER, ['port', u32], pad(4), ['queues', array(packetQueue)]]),
    },
    ROLE_REQUEST: { tag: 24, body: roleMsg('ofp_role_request') },
    ROLE_REPLY: { tag: 25, body: roleMsg('ofp_role_request') },
    GET_ASYNC_REQUEST: { tag: 26, body: headerOnly },
    GET_ASYNC_REPLY: { tag: 27, body: asyncConfig('ofp_async_config') },
    SET_ASYNC: { tag: 28, body: asyncConfig('ofp_async_config') },
    METER_MOD: {
      len8: true, // OVS refuses other lengths first, as OFPBRC_BAD_LEN
      tag: 29,
      body: struct('ofp_meter_mod', 16, [...OFP_HEADER, ['command', meterModCommand], ['flags', meterFlags], ['meter_id', u32], ['bands', meterBands]]),
    },

    BUNDLE_CONTROL: {
      len8: true,
      tag: 4,
      experimenter: ONF_EXPERIMENTER,
      subtype: ONFT_BUNDLE_CONTROL,
      body: struct('onf_bundle_ctrl', 24, [...EXP_HEADER, ['bundle_id', u32], ['ctrl_type', bundleCtrlType], ['flags', bundleFlags], ['properties', bundleProperties]]),
    },
    BUNDLE_ADD_MESSAGE: {
      tag: 4,
      experimenter: ONF_EXPERIMENTER,
      subtype: ONFT_BUNDLE_ADD_MESSAGE,
      body: struct('onf_bundle_add_msg', 24, [
        ...EXP_HEADER,
        ['bundle_id', u32],
        pad(2),
        ['flags', bundleFlags],
        ['message', innerMessage], // a whole OpenFlow message; its xid equals this one's
        ['properties', bundleProperties],
      ]),
    },
    // ONF extension (OF1.4's OFPT_ROLE_STATUS): tells a controller its role changed,
    // e.g. a master demoted by another's request. OVS sends it in OF1.3.
    ROLE_STATUS: {
      len8: true,
      tag: 4,
      experimenter: ONF_EXPERIMENTER,
      subtype: 1911,
      body: struct('onf_role_status', 32, [
        ...EXP_HEADER,
        ['role', controllerRole],
        ['reason', u8], // OFPCRR_MASTER_REQUEST (0), CONFIG (1), EXPERIMENTER (2)
        pad(3),
        ['generation_id', u64],
        ['properties', rest],
      ]),
    },
    // Nicira: which PACKET_IN format the controller wants (0: standard OpenFlow).
    NXT_SET_PACKET_IN_FORMAT: {
      tag: 4,
      experimenter: NX_EXPERIMENTER,
      subtype: 16,
      body: struct('nx_set_packet_in_format', 20, [...EXP_HEADER, ['format', u32]]),
    },
  },
);

export type Message = RegistryValue<typeof messageRegistry>;
export type MessageType = Message['type'];
/** The message of one type: `MessageOf<'FLOW_MOD'>`. */
export type MessageOf<T extends MessageType> = Extract<Message, { type: T }>;

/**
 * The requests a switch's pipeline answers: everything a switch-side session does not
 * answer by itself (src/openflow hands these to its handler; src/ofproto handles them).
 */
export type PipelineRequest =
  | MessageOf<'FLOW_MOD'>
  | MessageOf<'GROUP_MOD'>
  | MessageOf<'PORT_MOD'>
  | MessageOf<'TABLE_MOD'>
  | MessageOf<'METER_MOD'>
  | MessageOf<'PACKET_OUT'>
  | MessageOf<'MULTIPART_REQUEST'>
  | MessageOf<'QUEUE_GET_CONFIG_REQUEST'>;
