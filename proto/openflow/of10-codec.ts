// proto/openflow/of10-codec.ts — OpenFlow 1.0 entry points: one whole message in, a
// typed 1.0 message or the OfpError the spec names out; and the 1.0 ERROR reply.
import { NX_EXPERIMENTER, OfpError, type OfpErrorName } from './errors.js';
import { ofp10ErrorWire } from './of10-errors.js';
import { message10Registry, NXET_VENDOR, OFP10_VERSION, type Message10 } from './of10-messages.js';
import { peekHeader } from './codec.js';
import { Reader, Writer } from './struct.js';

/** Decodes exactly one OpenFlow 1.0 message (the whole buffer). Never throws on peer bytes. */
export function decodeMessage10(bytes: Uint8Array): Message10 | OfpError {
  const h = peekHeader(bytes);
  if (!h || h.length !== bytes.length || h.length < 8) return new OfpError('OFPBRC_BAD_LEN', { field: 'ofp_header.length' });
  if (h.version !== OFP10_VERSION) return new OfpError('OFPBRC_BAD_VERSION', { field: 'ofp_header.version', why: `0x${h.version.toString(16)}` });
  const r = Reader.of(bytes, 'OFPBRC_BAD_LEN');
  try {
    return message10Registry.read(r, 'ofp_header');
  } catch (e) {
    if (e instanceof OfpError) return e;
    throw e;
  }
}

const shared = new Writer();

/** Encodes a 1.0 message; version, type and length are filled in. */
export function encodeMessage10(m: Message10): Uint8Array {
  const w = shared;
  w.pos = 0;
  message10Registry.write(w, m);
  w.patch8(0, OFP10_VERSION);
  return w.done();
}

/** As the 1.3 errorReply: OVS sends as much of the request as fits. */
const ERROR_DATA_MAX = 0xffff - 24;

/** The 1.0 OFPT_ERROR for `error` to `request` (its bytes), numbered as OVS numbers it in 1.0. */
export function errorReply10(error: OfpError | OfpErrorName, request: Uint8Array | undefined, xid?: number): Message10 {
  const wire = ofp10ErrorWire(typeof error === 'string' ? error : error.name);
  const head = request ? request.subarray(0, Math.min(request.length, ERROR_DATA_MAX)) : new Uint8Array(0);
  const x = xid ?? (request ? (peekHeader(request)?.xid ?? 0) : 0);
  if (!wire.nx) return { type: 'ERROR', xid: x, err_type: wire.type, code: wire.code, data: head };
  // nx_vendor_error: vendor u32, type u16, code u16, then the request.
  const data = new Uint8Array(8 + head.length);
  const v = new DataView(data.buffer);
  v.setUint32(0, NX_EXPERIMENTER);
  v.setUint16(4, wire.type);
  v.setUint16(6, wire.code);
  data.set(head, 8);
  return { type: 'ERROR', xid: x, err_type: NXET_VENDOR, code: 0, data };
}
