// proto/openflow/codec.ts — the entry points: one whole message in, a typed message or
// the OfpError the spec names out. Nothing here throws on peer bytes.
import { OFP_HEADER_LEN, OFP_VERSION } from './constants.js';
import { OfpError, ofpErrors, type OfpErrorName } from './errors.js';
import { messageRegistry, type Message } from './messages.js';
import { Reader, Writer } from './struct.js';

export interface OfpHeader {
  version: number;
  type: number;
  /** Bytes in the message, header included. */
  length: number;
  xid: number;
}

/** Reads the 8-byte header at `offset`, or undefined when fewer than 8 bytes are there. */
export function peekHeader(bytes: Uint8Array, offset = 0): OfpHeader | undefined {
  if (bytes.length - offset < OFP_HEADER_LEN) return undefined;
  const b = bytes;
  const o = offset;
  return { version: b[o]!, type: b[o + 1]!, length: (b[o + 2]! << 8) | b[o + 3]!, xid: ((b[o + 4]! << 24) | (b[o + 5]! << 16) | (b[o + 6]! << 8) | b[o + 7]!) >>> 0 };
}

/**
 * Decodes exactly one OpenFlow 1.3 message (the whole buffer). A malformed message
 * gives the error the spec names; any other exception would be a bug in a declaration.
 */
export function decodeMessage(bytes: Uint8Array): Message | OfpError {
  const h = peekHeader(bytes);
  if (!h || h.length !== bytes.length || h.length < OFP_HEADER_LEN) return new OfpError('OFPBRC_BAD_LEN', { field: 'ofp_header.length' });
  if (h.version !== OFP_VERSION) return new OfpError('OFPBRC_BAD_VERSION', { field: 'ofp_header.version', why: `0x${h.version.toString(16)}` });
  const r = Reader.of(bytes, 'OFPBRC_BAD_LEN');
  try {
    return messageRegistry.read(r, 'ofp_header');
  } catch (e) {
    if (e instanceof OfpError) return e;
    throw e;
  }
}

/** Encodes a message; the header's version, type and length are filled in. */
const shared = new Writer();

export function encodeMessage(m: Message): Uint8Array {
  // One scratch buffer for every message: done() copies out exactly the bytes written.
  const w = shared;
  w.pos = 0;
  messageRegistry.write(w, m);
  w.patch8(0, OFP_VERSION);
  return w.done();
}

/**
 * How much of the offending request an ERROR carries: the spec asks for at least 64
 * bytes; OVS sends all of it (as much as fits), and ovs-ofctl prints it decoded.
 */
const ERROR_DATA_MAX = 0xffff - 16;

/** The OFPT_ERROR reply for `error` to the request `request` (its bytes). */
export function errorReply(error: OfpError | OfpErrorName, request: Uint8Array | undefined, xid?: number): Message {
  const info = ofpErrors[typeof error === 'string' ? error : error.name];
  const head = request ? request.subarray(0, Math.min(request.length, ERROR_DATA_MAX)) : new Uint8Array(0);
  let data = head;
  if (info.experimenter !== undefined) {
    data = new Uint8Array(4 + head.length);
    new DataView(data.buffer).setUint32(0, info.experimenter);
    data.set(head, 4);
  }
  return { type: 'ERROR', xid: xid ?? (request ? (peekHeader(request)?.xid ?? 0) : 0), err_type: info.type, code: info.code, data };
}
