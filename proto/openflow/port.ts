// proto/openflow/port.ts — ofp_port (§7.2.1), used by FEATURES/PORT_DESC/PORT_STATUS,
// and ofp_port_mod's body.
import { mac, pad, str, struct, u32, type ValueOf } from './struct.js';

export const OFP_MAX_PORT_NAME_LEN = 16;

export const port = struct('ofp_port', 64, [
  ['port_no', u32],
  pad(4),
  ['hw_addr', mac],
  pad(2),
  ['name', str(OFP_MAX_PORT_NAME_LEN)], // NUL-terminated
  ['config', u32], // OFPPC_* bits
  ['state', u32], // OFPPS_* bits
  ['curr', u32], // OFPPF_* bits: current features
  ['advertised', u32],
  ['supported', u32],
  ['peer', u32],
  ['curr_speed', u32], // kbit/s
  ['max_speed', u32], // kbit/s
]);
export type Port = ValueOf<typeof port>;
