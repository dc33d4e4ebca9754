// proto/openflow/of10-errors.ts — how each error of errors.ts is numbered in OpenFlow
// 1.0, as OVS numbers it (include/openvswitch/ofp-errors.h): a standard 1.0 type and
// code, or a Nicira vendor error (`nx`: sent as NXET_VENDOR with an nx_vendor_error).
// An error with no 1.0 form goes as NXBRC_UNENCODABLE_ERROR, as OVS sends it.
import type { OfpErrorName } from './errors.js';

type Row10 = readonly [type: number, code: number] | readonly [type: number, code: number, nx: 'nx'];

export const ofp10Errors: Partial<Record<OfpErrorName, Row10>> = {
  OFPHFC_INCOMPATIBLE: [0, 0],
  OFPHFC_EPERM: [0, 1],
  OFPBRC_BAD_VERSION: [1, 0],
  OFPBRC_BAD_TYPE: [1, 1],
  OFPBRC_BAD_MULTIPART: [1, 2], // OFPBRC_BAD_STAT
  OFPBRC_BAD_EXPERIMENTER: [1, 3], // OFPBRC_BAD_VENDOR
  OFPBRC_BAD_EXP_TYPE: [1, 4], // OFPBRC_BAD_SUBTYPE
  OFPBRC_EPERM: [1, 5],
  OFPBRC_BAD_LEN: [1, 6],
  OFPBRC_BUFFER_EMPTY: [1, 7],
  OFPBRC_BUFFER_UNKNOWN: [1, 8],
  OFPBRC_IS_SLAVE: [1, 5], // 1.0 says EPERM
  OFPBRC_BAD_TABLE_ID: [1, 512, 'nx'],
  OFPBRC_BAD_PORT: [1, 514, 'nx'],
  OFPBAC_BAD_TYPE: [2, 0],
  OFPBAC_BAD_LEN: [2, 1],
  OFPBAC_BAD_EXPERIMENTER: [2, 2], // OFPBAC_BAD_VENDOR
  OFPBAC_BAD_EXP_TYPE: [2, 3], // OFPBAC_BAD_VENDOR_TYPE
  OFPBAC_BAD_OUT_PORT: [2, 4],
  OFPBAC_BAD_ARGUMENT: [2, 5],
  OFPBAC_EPERM: [2, 6],
  OFPBAC_TOO_MANY: [2, 7],
  OFPBAC_BAD_QUEUE: [2, 8],
  OFPBAC_BAD_OUT_GROUP: [2, 9, 'nx'],
  OFPBAC_MATCH_INCONSISTENT: [1, 522, 'nx'],
  OFPBAC_BAD_SET_TYPE: [1, 523, 'nx'],
  OFPBAC_BAD_SET_LEN: [1, 524, 'nx'],
  OFPBAC_BAD_SET_ARGUMENT: [1, 525, 'nx'],
  OFPBIC_UNSUP_INST: [2, 257, 'nx'],
  OFPBMC_BAD_WILDCARDS: [1, 262, 'nx'],
  OFPBMC_BAD_FIELD: [0, 263, 'nx'],
  OFPBMC_BAD_VALUE: [1, 258, 'nx'],
  OFPBMC_BAD_MASK: [1, 259, 'nx'],
  OFPBMC_BAD_PREREQ: [1, 260, 'nx'],
  OFPBMC_DUP_FIELD: [1, 261, 'nx'],
  OFPFMFC_TABLE_FULL: [3, 0], // OFPFMFC_ALL_TABLES_FULL
  OFPFMFC_OVERLAP: [3, 1],
  OFPFMFC_EPERM: [3, 2],
  OFPFMFC_BAD_COMMAND: [3, 4],
  OFPFMFC_BAD_FLAGS: [3, 258, 'nx'],
  OFPGMFC_GROUP_EXISTS: [6, 0, 'nx'],
  OFPGMFC_INVALID_GROUP: [6, 1, 'nx'],
  OFPGMFC_UNKNOWN_GROUP: [6, 8, 'nx'],
  OFPPMFC_BAD_PORT: [4, 0],
  OFPPMFC_BAD_HW_ADDR: [4, 1],
  OFPQOFC_BAD_PORT: [5, 0],
  OFPQOFC_BAD_QUEUE: [5, 1],
  OFPQOFC_EPERM: [5, 2],
  OFPRRFC_BAD_ROLE: [1, 513, 'nx'],
};

/** NXBRC_UNENCODABLE_ERROR: "the error that occurred cannot be represented in this OpenFlow version". */
export const OFP10_UNENCODABLE: Row10 = [1, 521, 'nx'];

/** The 1.0 wire form of an error: type, code and whether it is a Nicira vendor error. */
export function ofp10ErrorWire(name: OfpErrorName): { type: number; code: number; nx: boolean } {
  const r = ofp10Errors[name] ?? OFP10_UNENCODABLE;
  return { type: r[0], code: r[1], nx: r[2] === 'nx' };
}

const byWire10 = new Map<string, OfpErrorName>();
for (const [name, r] of Object.entries(ofp10Errors) as [OfpErrorName, Row10][]) {
  const key = `${r[0]}/${r[1]}/${r[2] ?? ''}`;
  if (!byWire10.has(key)) byWire10.set(key, name);
}
/** The error a 1.0 peer's ERROR names (vendor errors unwrapped first), if known. */
export function ofp10ErrorByWire(type: number, code: number, nx: boolean): OfpErrorName | undefined {
  return byWire10.get(`${type}/${code}/${nx ? 'nx' : ''}`);
}
