// src/openflow/bundles.ts — one connection's bundles (ONF EXT-230 for OF1.3, as
// OpenFlow 1.4 §7.3.9): open, add, close, commit through the handler, discard. Only
// this connection sees its bundles; they are discarded when it goes away.
import { decodeMessage, peekHeader } from '../../proto/openflow/codec.js';
import { OfpError } from '../../proto/openflow/errors.js';
import type { MessageOf } from '../../proto/openflow/messages.js';
import type { BundledMessage } from './handler.js';

interface Bundle {
  flags: number;
  closed: boolean;
  /** When it was last opened, added to or closed (ms). */
  used: number;
  /** The request that created it: an expiry error carries it, as in OVS. */
  origin: Uint8Array;
  msgs: BundledMessage[];
  /** The raw bytes of each message, for the error reply if it fails at commit. */
  raw: Uint8Array[];
}

/** Message types a bundle may hold, as OVS's ofputil_is_bundlable(): PACKET_OUT, FLOW_MOD, GROUP_MOD, PORT_MOD. */
const bundleable = new Set([13, 14, 15, 16]);
/** OVS's limit on messages in one bundle is memory; ours is explicit. */
export const MAX_BUNDLE_MSGS = 1_000_000;
export const MAX_BUNDLES = 64;

export class Bundles {
  private open = new Map<number, Bundle>();

  get size(): number {
    return this.open.size;
  }

  // OVS's rules (ofproto/bundles.c), errors included: a misused bundle is dropped.
  openBundle(m: MessageOf<'BUNDLE_CONTROL'>, frame: Uint8Array): OfpError | undefined {
    if (this.open.delete(m.bundle_id)) return new OfpError('OFPBFC_BAD_ID', { why: `bundle ${m.bundle_id} already open (now discarded)` });
    if (this.open.size >= MAX_BUNDLES) return new OfpError('OFPBFC_OUT_OF_BUNDLES');
    this.open.set(m.bundle_id, { flags: m.flags, closed: false, used: Date.now(), origin: frame, msgs: [], raw: [] });
    return undefined;
  }

  /** Drops bundles idle since before `limit` (ms); returns the requests that created them. */
  expire(limit: number): Uint8Array[] {
    const gone: Uint8Array[] = [];
    for (const [id, b] of this.open) {
      if (b.used > limit) continue;
      this.open.delete(id);
      gone.push(b.origin);
    }
    return gone;
  }

  /**
   * Checks the message inside a BUNDLE_ADD_MESSAGE, in OVS's order: xid, bundlable
   * type, then the message itself. Returns it decoded, or the error to answer.
   */
  unwrap(m: MessageOf<'BUNDLE_ADD_MESSAGE'>): OfpError | BundledMessage {
    const h = peekHeader(m.message)!;
    if (h.xid !== m.xid) return new OfpError('OFPBFC_MSG_BAD_XID');
    if (h.version !== 4 || !bundleable.has(h.type)) return new OfpError('OFPBFC_MSG_UNSUP', { why: `message type ${h.type}` });
    return decodeMessage(m.message) as OfpError | BundledMessage;
  }

  /** Adds a checked message; a bundle that does not exist yet is opened by its first add (OF1.4 §7.3.9.3). */
  add(m: MessageOf<'BUNDLE_ADD_MESSAGE'>, inner: BundledMessage, frame: Uint8Array): OfpError | undefined {
    let b = this.open.get(m.bundle_id);
    if (!b) {
      if (this.open.size >= MAX_BUNDLES) return new OfpError('OFPBFC_OUT_OF_BUNDLES');
      b = { flags: m.flags, closed: false, used: 0, origin: frame, msgs: [], raw: [] };
      this.open.set(m.bundle_id, b);
    } else if (b.closed) {
      this.open.delete(m.bundle_id);
      return new OfpError('OFPBFC_BUNDLE_CLOSED', { why: `bundle ${m.bundle_id} (now discarded)` });
    } else if (b.flags !== m.flags) {
      this.open.delete(m.bundle_id);
      return new OfpError('OFPBFC_BAD_FLAGS', { why: `bundle ${m.bundle_id} opened with flags ${b.flags} (now discarded)` });
    }
    if (b.msgs.length >= MAX_BUNDLE_MSGS) return new OfpError('OFPBFC_MSG_TOO_MANY');
    b.used = Date.now();
    b.msgs.push(inner);
    b.raw.push(m.message);
    return undefined;
  }

  close(m: MessageOf<'BUNDLE_CONTROL'>): OfpError | undefined {
    const b = this.open.get(m.bundle_id);
    if (!b) return new OfpError('OFPBFC_BAD_ID', { why: `bundle ${m.bundle_id}` });
    if (b.closed || b.flags !== m.flags) {
      this.open.delete(m.bundle_id);
      return new OfpError(b.closed ? 'OFPBFC_BUNDLE_CLOSED' : 'OFPBFC_BAD_FLAGS', { why: `bundle ${m.bundle_id} (now discarded)` });
    }
    b.closed = true;
    b.used = Date.now();
    return undefined;
  }

  /** Takes the bundle out for commit: it is gone whether the commit succeeds or not. */
  take(m: MessageOf<'BUNDLE_CONTROL'>): OfpError | { msgs: BundledMessage[]; raw: Uint8Array[] } {
    const b = this.open.get(m.bundle_id);
    if (!b) return new OfpError('OFPBFC_BAD_ID', { why: `bundle ${m.bundle_id}` });
    this.open.delete(m.bundle_id);
    if (b.flags !== m.flags) return new OfpError('OFPBFC_BAD_FLAGS');
    return { msgs: b.msgs, raw: b.raw };
  }

  discard(m: MessageOf<'BUNDLE_CONTROL'>): OfpError | undefined {
    if (!this.open.delete(m.bundle_id)) return new OfpError('OFPBFC_BAD_ID', { why: `bundle ${m.bundle_id}` });
    return undefined;
  }

  clear(): void {
    this.open.clear();
  }
}
