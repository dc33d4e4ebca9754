// src/openflow/framing.ts — cuts a byte stream into whole OpenFlow messages, however
// the reads split it. A length below the header size is a transport error: the
// stream can't be resynchronised, so the session ends.
import { OFP_HEADER_LEN } from '../../proto/openflow/constants.js';

export class FramingError extends Error {}

export class Framer {
  private pending: Uint8Array[] = [];
  private pendingLen = 0;

  /**
   * Adds a chunk; returns the messages it completes, as views of the chunk (no copy per
   * message: a burst of 100,000 flow mods makes no 100,000 ArrayBuffers). The chunk must
   * not be written afterwards (socket reads are fresh buffers); a message kept for long
   * keeps its chunk.
   */
  push(chunk: Uint8Array): Uint8Array[] {
    this.pending.push(chunk);
    this.pendingLen += chunk.length;
    const out: Uint8Array[] = [];
    if (this.pendingLen < OFP_HEADER_LEN) return out;
    let buf = this.pending.length === 1 ? this.pending[0]! : concat(this.pending, this.pendingLen);
    let off = 0;
    while (buf.length - off >= OFP_HEADER_LEN) {
      const len = (buf[off + 2]! << 8) | buf[off + 3]!;
      if (len < OFP_HEADER_LEN) throw new FramingError(`message length ${len} is shorter than the header`);
      if (buf.length - off < len) break;
      out.push(buf.subarray(off, off + len));
      off += len;
    }
    buf = buf.subarray(off);
    this.pending = buf.length ? [buf] : [];
    this.pendingLen = buf.length;
    return out;
  }

  /** Bytes received that do not yet form a whole message. */
  get buffered(): number {
    return this.pendingLen;
  }
}

function concat(parts: Uint8Array[], len: number): Uint8Array {
  const out = new Uint8Array(len);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}
