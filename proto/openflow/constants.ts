// proto/openflow/constants.ts — OpenFlow 1.3 numbers that several structs share:
// version, reserved ports, groups, tables, meters, buffer ids, capabilities.

export const OFP_VERSION = 0x04;
export const OFP_HEADER_LEN = 8;
export const OFP_TCP_PORT = 6653;

/** Reserved port numbers (ofp_port_no). */
export const OFPP = {
  MAX: 0xffffff00,
  IN_PORT: 0xfffffff8,
  TABLE: 0xfffffff9,
  NORMAL: 0xfffffffa,
  FLOOD: 0xfffffffb,
  ALL: 0xfffffffc,
  CONTROLLER: 0xfffffffd,
  LOCAL: 0xfffffffe,
  ANY: 0xffffffff,
} as const;

export const OFPG = { MAX: 0xffffff00, ALL: 0xfffffffc, ANY: 0xffffffff } as const;
export const OFPM = { MAX: 0xffff0000, SLOWPATH: 0xfffffffd, CONTROLLER: 0xfffffffe, ALL: 0xffffffff } as const;
export const OFPTT = { MAX: 0xfe, ALL: 0xff } as const;
export const OFPQ_ALL = 0xffffffff;
export const OFP_NO_BUFFER = 0xffffffff;
/** ofp_action_output.max_len: send the whole packet, unbuffered. */
export const OFPCML_NO_BUFFER = 0xffff;
export const OFPVID_PRESENT = 0x1000;
export const OFPVID_NONE = 0x0000;

/** ofp_switch_features.capabilities bits. */
export const OFPC = {
  FLOW_STATS: 1 << 0,
  TABLE_STATS: 1 << 1,
  PORT_STATS: 1 << 2,
  GROUP_STATS: 1 << 3,
  IP_REASM: 1 << 5,
  QUEUE_STATS: 1 << 6,
  PORT_BLOCKED: 1 << 8,
} as const;

/** ofp_switch_config.flags. */
export const OFPC_FRAG = { NORMAL: 0, DROP: 1, REASM: 2, MASK: 3 } as const;

/** ofp_port.config bits. */
export const OFPPC = { PORT_DOWN: 1 << 0, NO_RECV: 1 << 2, NO_FWD: 1 << 5, NO_PACKET_IN: 1 << 6 } as const;
/** ofp_port.state bits. */
export const OFPPS = { LINK_DOWN: 1 << 0, BLOCKED: 1 << 1, LIVE: 1 << 2 } as const;
/** ofp_port features bits. */
export const OFPPF = {
  '10MB_HD': 1 << 0,
  '10MB_FD': 1 << 1,
  '100MB_HD': 1 << 2,
  '100MB_FD': 1 << 3,
  '1GB_HD': 1 << 4,
  '1GB_FD': 1 << 5,
  '10GB_FD': 1 << 6,
  '40GB_FD': 1 << 7,
  '100GB_FD': 1 << 8,
  '1TB_FD': 1 << 9,
  OTHER: 1 << 10,
  COPPER: 1 << 11,
  FIBER: 1 << 12,
  AUTONEG: 1 << 13,
  PAUSE: 1 << 14,
  PAUSE_ASYM: 1 << 15,
} as const;

/** ofp_flow_mod.flags. */
export const OFPFF = {
  SEND_FLOW_REM: 1 << 0,
  CHECK_OVERLAP: 1 << 1,
  RESET_COUNTS: 1 << 2,
  NO_PKT_COUNTS: 1 << 3,
  NO_BYT_COUNTS: 1 << 4,
} as const;

/** ofp_meter_mod.flags. */
export const OFPMF = { KBPS: 1 << 0, PKTPS: 1 << 1, BURST: 1 << 2, STATS: 1 << 3 } as const;

/** Multipart flags. */
export const OFPMPF_REQ_MORE = 1;
export const OFPMPF_REPLY_MORE = 1;

/** ONF bundle flags (OFPBF_*). */
export const OFPBF = { ATOMIC: 1 << 0, ORDERED: 1 << 1 } as const;

/** PACKET_IN reasons (ofp_packet_in_reason). */
export const OFPR = { NO_MATCH: 0, ACTION: 1, INVALID_TTL: 2 } as const;
/** FLOW_REMOVED reasons (ofp_flow_removed_reason). */
export const OFPRR = { IDLE_TIMEOUT: 0, HARD_TIMEOUT: 1, DELETE: 2, GROUP_DELETE: 3 } as const;
/** PORT_STATUS reasons (ofp_port_reason). */
export const OFPPR = { ADD: 0, DELETE: 1, MODIFY: 2 } as const;
/** ROLE_STATUS reasons (ofp_controller_role_reason). */
export const OFPCRR = { MASTER_REQUEST: 0, CONFIG: 1, EXPERIMENTER: 2 } as const;
