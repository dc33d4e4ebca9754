// proto/openflow/errors.ts — every OpenFlow 1.3 error (OFPET type, code, text) in one
// table, plus the ONF 1.3 extension errors OVS sends as experimenter errors. OfpError,
// the wire ERROR reply and the text ovs-ofctl prints all derive from it.

/** ONF experimenter id (`ONF_VENDOR_ID`), used by the OF1.3 bundle extension. */
export const ONF_EXPERIMENTER = 0x4f4e4600;
/** Nicira experimenter id (`NX_VENDOR_ID`). */
export const NX_EXPERIMENTER = 0x00002320;
/** OFPET_EXPERIMENTER: the code field is the experimenter's exp_type. */
export const OFPET_EXPERIMENTER = 0xffff;

type Row = readonly [type: number, code: number, text: string] | readonly [type: number, code: number, text: string, experimenter: number];

const rows = {
  OFPHFC_INCOMPATIBLE: [0, 0, 'no compatible version'],
  OFPHFC_EPERM: [0, 1, 'permissions error'],

  OFPBRC_BAD_VERSION: [1, 0, 'ofp_header.version not supported'],
  OFPBRC_BAD_TYPE: [1, 1, 'ofp_header.type not supported'],
  OFPBRC_BAD_MULTIPART: [1, 2, 'ofp_multipart_request.type not supported'],
  OFPBRC_BAD_EXPERIMENTER: [1, 3, 'experimenter id not supported'],
  OFPBRC_BAD_EXP_TYPE: [1, 4, 'experimenter type not supported'],
  OFPBRC_EPERM: [1, 5, 'permissions error'],
  OFPBRC_BAD_LEN: [1, 6, 'wrong request length for type'],
  OFPBRC_BUFFER_EMPTY: [1, 7, 'specified buffer has already been used'],
  OFPBRC_BUFFER_UNKNOWN: [1, 8, 'specified buffer does not exist'],
  OFPBRC_BAD_TABLE_ID: [1, 9, 'specified table-id invalid or does not exist'],
  OFPBRC_IS_SLAVE: [1, 10, 'denied because controller is slave'],
  OFPBRC_BAD_PORT: [1, 11, 'invalid port'],
  OFPBRC_BAD_PACKET: [1, 12, 'invalid packet in packet-out'],
  OFPBRC_MULTIPART_BUFFER_OVERFLOW: [1, 13, 'multipart request overflowed the assigned buffer'],

  OFPBAC_BAD_TYPE: [2, 0, 'unknown action type'],
  OFPBAC_BAD_LEN: [2, 1, 'length problem in actions'],
  OFPBAC_BAD_EXPERIMENTER: [2, 2, 'unknown experimenter id specified'],
  OFPBAC_BAD_EXP_TYPE: [2, 3, 'unknown action for experimenter id'],
  OFPBAC_BAD_OUT_PORT: [2, 4, 'problem validating output port'],
  OFPBAC_BAD_ARGUMENT: [2, 5, 'bad action argument'],
  OFPBAC_EPERM: [2, 6, 'permissions error'],
  OFPBAC_TOO_MANY: [2, 7, "can't handle this many actions"],
  OFPBAC_BAD_QUEUE: [2, 8, 'problem validating output queue'],
  OFPBAC_BAD_OUT_GROUP: [2, 9, 'invalid group id in forward action'],
  OFPBAC_MATCH_INCONSISTENT: [2, 10, 'action cannot apply for this match, or set-field missing prerequisite'],
  OFPBAC_UNSUPPORTED_ORDER: [2, 11, "action order is unsupported for the action list in an apply-actions instruction"],
  OFPBAC_BAD_TAG: [2, 12, 'actions uses an unsupported tag/encap'],
  OFPBAC_BAD_SET_TYPE: [2, 13, 'unsupported type in set-field action'],
  OFPBAC_BAD_SET_LEN: [2, 14, 'length problem in set-field action'],
  OFPBAC_BAD_SET_ARGUMENT: [2, 15, 'bad argument in set-field action'],

  OFPBIC_UNKNOWN_INST: [3, 0, 'unknown instruction'],
  OFPBIC_UNSUP_INST: [3, 1, 'switch or table does not support the instruction'],
  OFPBIC_BAD_TABLE_ID: [3, 2, 'invalid table-id specified'],
  OFPBIC_UNSUP_METADATA: [3, 3, 'metadata value unsupported by datapath'],
  OFPBIC_UNSUP_METADATA_MASK: [3, 4, 'metadata mask value unsupported by datapath'],
  OFPBIC_BAD_EXPERIMENTER: [3, 5, 'unknown experimenter id specified'],
  OFPBIC_BAD_EXP_TYPE: [3, 6, 'unknown instruction for experimenter id'],
  OFPBIC_BAD_LEN: [3, 7, 'length problem in instructions'],
  OFPBIC_EPERM: [3, 8, 'permissions error'],

  OFPBMC_BAD_TYPE: [4, 0, 'unsupported match type specified by the match'],
  OFPBMC_BAD_LEN: [4, 1, 'length problem in match'],
  OFPBMC_BAD_TAG: [4, 2, 'match uses an unsupported tag/encap'],
  OFPBMC_BAD_DL_ADDR_MASK: [4, 3, 'unsupported datalink addr mask'],
  OFPBMC_BAD_NW_ADDR_MASK: [4, 4, 'unsupported network addr mask'],
  OFPBMC_BAD_WILDCARDS: [4, 5, 'unsupported combination of fields masked or omitted in the match'],
  OFPBMC_BAD_FIELD: [4, 6, 'unsupported field type in the match'],
  OFPBMC_BAD_VALUE: [4, 7, 'unsupported value in a match field'],
  OFPBMC_BAD_MASK: [4, 8, 'unsupported mask specified in the match'],
  OFPBMC_BAD_PREREQ: [4, 9, 'a prerequisite was not met'],
  OFPBMC_DUP_FIELD: [4, 10, 'a field type was duplicated'],
  OFPBMC_EPERM: [4, 11, 'permissions error'],

  OFPFMFC_UNKNOWN: [5, 0, 'unspecified error'],
  OFPFMFC_TABLE_FULL: [5, 1, 'flow not added because table was full'],
  OFPFMFC_BAD_TABLE_ID: [5, 2, 'table does not exist'],
  OFPFMFC_OVERLAP: [5, 3, 'attempted to add overlapping flow with CHECK_OVERLAP flag set'],
  OFPFMFC_EPERM: [5, 4, 'permissions error'],
  OFPFMFC_BAD_TIMEOUT: [5, 5, 'flow not added because of unsupported idle/hard timeout'],
  OFPFMFC_BAD_COMMAND: [5, 6, 'unsupported or unknown command'],
  OFPFMFC_BAD_FLAGS: [5, 7, 'unsupported or unknown flags'],

  OFPGMFC_GROUP_EXISTS: [6, 0, 'group not added because a group ADD attempted to replace an already-present group'],
  OFPGMFC_INVALID_GROUP: [6, 1, 'group not added because group specified is invalid'],
  OFPGMFC_WEIGHT_UNSUPPORTED: [6, 2, 'switch does not support unequal load sharing with select groups'],
  OFPGMFC_OUT_OF_GROUPS: [6, 3, 'the group table is full'],
  OFPGMFC_OUT_OF_BUCKETS: [6, 4, 'the maximum number of action buckets for a group has been exceeded'],
  OFPGMFC_CHAINING_UNSUPPORTED: [6, 5, 'switch does not support groups that forward to groups'],
  OFPGMFC_WATCH_UNSUPPORTED: [6, 6, 'this group cannot watch the watch_port or watch_group specified'],
  OFPGMFC_LOOP: [6, 7, 'group entry would cause a loop'],
  OFPGMFC_UNKNOWN_GROUP: [6, 8, 'group not modified because a group MODIFY attempted to modify a non-existent group'],
  OFPGMFC_CHAINED_GROUP: [6, 9, 'group not deleted because another group is forwarding to it'],
  OFPGMFC_BAD_TYPE: [6, 10, 'unsupported or unknown group type'],
  OFPGMFC_BAD_COMMAND: [6, 11, 'unsupported or unknown command'],
  OFPGMFC_BAD_BUCKET: [6, 12, 'error in bucket'],
  OFPGMFC_BAD_WATCH: [6, 13, 'error in watch port/group'],
  OFPGMFC_EPERM: [6, 14, 'permissions error'],

  OFPPMFC_BAD_PORT: [7, 0, 'specified port number does not exist'],
  OFPPMFC_BAD_HW_ADDR: [7, 1, 'specified hardware address does not match the port number'],
  OFPPMFC_BAD_CONFIG: [7, 2, 'specified config is invalid'],
  OFPPMFC_BAD_ADVERTISE: [7, 3, 'specified advertise is invalid'],
  OFPPMFC_EPERM: [7, 4, 'permissions error'],

  OFPTMFC_BAD_TABLE: [8, 0, 'specified table does not exist'],
  OFPTMFC_BAD_CONFIG: [8, 1, 'specified config is invalid'],
  OFPTMFC_EPERM: [8, 2, 'permissions error'],

  OFPQOFC_BAD_PORT: [9, 0, 'invalid port (or port does not exist)'],
  OFPQOFC_BAD_QUEUE: [9, 1, 'queue does not exist'],
  OFPQOFC_EPERM: [9, 2, 'permissions error'],

  OFPSCFC_BAD_FLAGS: [10, 0, 'specified flags is invalid'],
  OFPSCFC_BAD_LEN: [10, 1, 'specified len is invalid'],
  OFPSCFC_EPERM: [10, 2, 'permissions error'],

  OFPRRFC_STALE: [11, 0, 'stale message: old generation_id'],
  OFPRRFC_UNSUP: [11, 1, 'controller role change unsupported'],
  OFPRRFC_BAD_ROLE: [11, 2, 'invalid role'],

  OFPMMFC_UNKNOWN: [12, 0, 'unspecified error'],
  OFPMMFC_METER_EXISTS: [12, 1, 'meter not added because a meter ADD attempted to replace an existing meter'],
  OFPMMFC_INVALID_METER: [12, 2, 'meter not added because meter specified is invalid'],
  OFPMMFC_UNKNOWN_METER: [12, 3, 'meter not modified because a meter MODIFY attempted to modify a non-existent meter'],
  OFPMMFC_BAD_COMMAND: [12, 4, 'unsupported or unknown command'],
  OFPMMFC_BAD_FLAGS: [12, 5, 'flag configuration unsupported'],
  OFPMMFC_BAD_RATE: [12, 6, 'rate unsupported'],
  OFPMMFC_BAD_BURST: [12, 7, 'burst size unsupported'],
  OFPMMFC_BAD_BAND: [12, 8, 'band unsupported'],
  OFPMMFC_BAD_BAND_VALUE: [12, 9, 'band value unsupported'],
  OFPMMFC_OUT_OF_METERS: [12, 10, 'no more meters available'],
  OFPMMFC_OUT_OF_BANDS: [12, 11, 'the maximum number of properties for a meter has been exceeded'],

  OFPTFFC_BAD_TABLE: [13, 0, 'specified table does not exist'],
  OFPTFFC_BAD_METADATA: [13, 1, 'invalid metadata mask'],
  OFPTFFC_BAD_TYPE: [13, 2, 'unknown property type'],
  OFPTFFC_BAD_LEN: [13, 3, 'length problem in properties'],
  OFPTFFC_BAD_ARGUMENT: [13, 4, 'unsupported property value'],
  OFPTFFC_EPERM: [13, 5, 'permissions error'],

  // ONF extension for OpenFlow 1.3 (OpenFlow 1.4's OFPET_BUNDLE_FAILED): OFPET_EXPERIMENTER
  // with the ONF experimenter id, the code being the ONF exp_type, as OVS sends them.
  OFPBFC_UNKNOWN: [OFPET_EXPERIMENTER, 2300, 'unspecified error', ONF_EXPERIMENTER],
  OFPBFC_EPERM: [OFPET_EXPERIMENTER, 2301, 'permissions error', ONF_EXPERIMENTER],
  OFPBFC_BAD_ID: [OFPET_EXPERIMENTER, 2302, "bundle ID doesn't exist", ONF_EXPERIMENTER],
  OFPBFC_BUNDLE_EXIST: [OFPET_EXPERIMENTER, 2303, 'bundle ID already exists', ONF_EXPERIMENTER],
  OFPBFC_BUNDLE_CLOSED: [OFPET_EXPERIMENTER, 2304, 'bundle ID is closed', ONF_EXPERIMENTER],
  OFPBFC_OUT_OF_BUNDLES: [OFPET_EXPERIMENTER, 2305, 'too many bundle IDs', ONF_EXPERIMENTER],
  OFPBFC_BAD_TYPE: [OFPET_EXPERIMENTER, 2306, 'unsupported or unknown message control type', ONF_EXPERIMENTER],
  OFPBFC_BAD_FLAGS: [OFPET_EXPERIMENTER, 2307, 'unsupported, unknown, or inconsistent flags', ONF_EXPERIMENTER],
  OFPBFC_MSG_BAD_LEN: [OFPET_EXPERIMENTER, 2308, 'length problem in included message', ONF_EXPERIMENTER],
  OFPBFC_MSG_BAD_XID: [OFPET_EXPERIMENTER, 2309, 'inconsistent or duplicate XID', ONF_EXPERIMENTER],
  OFPBFC_MSG_UNSUP: [OFPET_EXPERIMENTER, 2310, 'unsupported message in this bundle', ONF_EXPERIMENTER],
  OFPBFC_MSG_CONFLICT: [OFPET_EXPERIMENTER, 2311, 'unsupported message combination in this bundle', ONF_EXPERIMENTER],
  OFPBFC_MSG_TOO_MANY: [OFPET_EXPERIMENTER, 2312, "can't handle this many messages in bundle", ONF_EXPERIMENTER],
  OFPBFC_MSG_FAILED: [OFPET_EXPERIMENTER, 2313, 'one message in bundle failed', ONF_EXPERIMENTER],
  OFPBFC_TIMEOUT: [OFPET_EXPERIMENTER, 2314, 'bundle is taking too long', ONF_EXPERIMENTER],
  OFPBFC_BUNDLE_IN_PROGRESS: [OFPET_EXPERIMENTER, 2315, 'bundle is locking the resource', ONF_EXPERIMENTER],
  // ONF 1.3 extension 2640/2641 (OpenFlow 1.4's OFPBRC codes 14/15), as OVS sends them in OF1.3.
  OFPBRC_MULTIPART_REQUEST_TIMEOUT: [OFPET_EXPERIMENTER, 2640, 'timeout during multipart request', ONF_EXPERIMENTER],
  OFPBRC_MULTIPART_REPLY_TIMEOUT: [OFPET_EXPERIMENTER, 2641, 'timeout during multipart reply', ONF_EXPERIMENTER],
} as const satisfies Record<string, Row>;

export type OfpErrorName = keyof typeof rows;

export interface OfpErrorInfo {
  readonly name: OfpErrorName;
  /** OFPET_* number (0xffff for experimenter errors). */
  readonly type: number;
  /** Code within the type; for experimenter errors, the exp_type. */
  readonly code: number;
  readonly text: string;
  /** Experimenter id, for OFPET_EXPERIMENTER errors. */
  readonly experimenter?: number;
}

export const ofpErrors: Readonly<Record<OfpErrorName, OfpErrorInfo>> = Object.fromEntries(
  Object.entries(rows).map(([name, r]) => [
    name,
    { name, type: r[0], code: r[1], text: r[2], ...(r.length === 4 ? { experimenter: r[3] } : {}) },
  ]),
) as Record<OfpErrorName, OfpErrorInfo>;

/** OFPET_* type numbers by name, for printing. */
export const ofpErrorTypes: Readonly<Record<number, string>> = {
  0: 'OFPET_HELLO_FAILED',
  1: 'OFPET_BAD_REQUEST',
  2: 'OFPET_BAD_ACTION',
  3: 'OFPET_BAD_INSTRUCTION',
  4: 'OFPET_BAD_MATCH',
  5: 'OFPET_FLOW_MOD_FAILED',
  6: 'OFPET_GROUP_MOD_FAILED',
  7: 'OFPET_PORT_MOD_FAILED',
  8: 'OFPET_TABLE_MOD_FAILED',
  9: 'OFPET_QUEUE_OP_FAILED',
  10: 'OFPET_SWITCH_CONFIG_FAILED',
  11: 'OFPET_ROLE_REQUEST_FAILED',
  12: 'OFPET_METER_MOD_FAILED',
  13: 'OFPET_TABLE_FEATURES_FAILED',
  0xffff: 'OFPET_EXPERIMENTER',
};

const byWire = new Map<string, OfpErrorName>();
for (const e of Object.values(ofpErrors)) byWire.set(`${e.type}/${e.code}/${e.experimenter ?? 0}`, e.name);

/** The error named by an ERROR message's type, code (and experimenter), if known. */
export function ofpErrorByWire(type: number, code: number, experimenter = 0): OfpErrorName | undefined {
  return byWire.get(`${type}/${code}/${experimenter}`);
}

/**
 * A protocol error: bad input from the peer, answered with an OFPT_ERROR carrying
 * `name`'s type and code. Decoders return it; they never throw on peer bytes.
 */
export class OfpError extends Error {
  override readonly name: OfpErrorName;
  readonly type: number;
  readonly code: number;
  readonly experimenter: number | undefined;
  /** Where in the message the problem is, e.g. `ofp_flow_mod.match`. */
  readonly field: string | undefined;

  constructor(name: OfpErrorName, detail: { field?: string; why?: string } = {}) {
    const info = ofpErrors[name];
    super(`${info.text}${detail.field ? ` (${detail.field}${detail.why ? `: ${detail.why}` : ''})` : detail.why ? ` (${detail.why})` : ''}`);
    this.name = name;
    this.type = info.type;
    this.code = info.code;
    this.experimenter = info.experimenter;
    this.field = detail.field;
  }
}

export function isOfpError(v: unknown): v is OfpError {
  return v instanceof OfpError;
}
