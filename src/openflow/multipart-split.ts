// src/openflow/multipart-split.ts — a MULTIPART_REPLY bigger than 64 KB goes out as
// several, each but the last flagged OFPMPF_REPLY_MORE (§7.3.5). Items are cut at
// their boundaries, which the declarations give (fixed size or own length field).
import { OFP_VERSION } from '../../proto/openflow/constants.js';
import { messageRegistry, type MessageOf } from '../../proto/openflow/messages.js';
import { multipartReplyRegistry } from '../../proto/openflow/multipart.js';
import { Writer, type Codec, type CodecMeta, type Struct } from '../../proto/openflow/struct.js';

const OFP_MAX_LEN = 0xffff;
/** ofp_header + multipart type, flags, pad. */
const MP_HEADER_LEN = 16;

type ItemLen = (b: Uint8Array, at: number) => number;

/** For each reply type whose body is one array: how to measure one item's bytes. */
const itemLens = new Map<string, ItemLen>();
for (const [name, row] of Object.entries(multipartReplyRegistry.rows)) {
  const arrays = row.body.fields.filter(([, c]) => (c.meta as CodecMeta | undefined)?.kind === 'array');
  if (arrays.length !== 1) continue;
  const item = (arrays[0]![1].meta as { item: Codec<unknown> }).item as Struct<object>;
  if (item.size !== undefined) {
    const n = item.size;
    itemLens.set(name, () => n);
    continue;
  }
  let off = 0;
  for (const [, c] of item.fields) {
    if (c.role === 'len') break;
    off += c.size ?? 0;
  }
  itemLens.set(name, (b, at) => (b[at + off]! << 8) | b[at + off + 1]!);
}

/** Encodes a reply, as several messages when it does not fit in one. */
export function encodeMultipartReply(m: MessageOf<'MULTIPART_REPLY'>): Uint8Array[] {
  // The body is written on its own, so its size may pass 64 KB before it is cut up.
  const w = new Writer();
  w.u8(OFP_VERSION);
  w.u8(messageRegistry.rows.MULTIPART_REPLY.tag);
  w.u16(0);
  w.u32(m.xid);
  multipartReplyRegistry.write(w, m.body);
  if (w.pos <= OFP_MAX_LEN) {
    const one = w.done();
    new DataView(one.buffer).setUint16(2, one.length);
    return [one];
  }
  // Parts are copied out of the writer's own buffer: no copy of the whole body first.
  const bytes = w.buf.subarray(0, w.pos);
  const itemLen = itemLens.get(m.body.type);
  if (!itemLen) throw new RangeError(`multipart ${m.body.type} reply of ${bytes.length} bytes cannot be split`);
  const out: Uint8Array[] = [];
  let start = MP_HEADER_LEN;
  while (start < bytes.length) {
    let end = start;
    while (end < bytes.length) {
      const n = itemLen(bytes, end);
      if (end + n - start + MP_HEADER_LEN > OFP_MAX_LEN) break;
      end += n;
    }
    if (end === start) throw new RangeError(`multipart ${m.body.type} item too big for one message`);
    const part = new Uint8Array(MP_HEADER_LEN + end - start);
    part.set(bytes.subarray(0, MP_HEADER_LEN));
    part.set(bytes.subarray(start, end), MP_HEADER_LEN);
    const v = new DataView(part.buffer);
    v.setUint16(2, part.length);
    v.setUint16(10, end < bytes.length ? v.getUint16(10) | 1 : v.getUint16(10) & ~1);
    out.push(part);
    start = end;
  }
  return out;
}
