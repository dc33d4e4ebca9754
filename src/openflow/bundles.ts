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
  msgs: BundledMessage[];
  /** The raw bytes of each message, for the error reply if it fails at commit. */
  raw: Uint8Array[];
}

const bundleable = new Set(['FLOW_MOD', 'GROUP_MOD', 'PORT_MOD', 'METER_MOD', 'PACKET_OUT']);
/** OVS's limit on messages in one bundle is memory; ours is explicit. */
export const MAX_BUNDLE_MSGS = 1_000_000;
export const MAX_BUNDLES = 64;

export class Bundles {
  private open = new Map<number, Bundle>();

  get size(): number {
    return this.open.size;
  }

  openBundle(m: MessageOf<'BUNDLE_CONTROL'>): OfpError | undefined {
    if (this.open.has(m.bundle_id)) return new OfpError('OFPBFC_BUNDLE_EXIST', { why: `bundle ${m.bundle_id}` });
    if (this.open.size >= MAX_BUNDLES) return new OfpError('OFPBFC_OUT_OF_BUNDLES');
    this.open.set(m.bundle_id, { flags: m.flags, closed: false, msgs: [], raw: [] });
    return undefined;
  }

  /** Adds a message; a bundle that does not exist yet is opened by its first add (OF1.4 §7.3.9.3). */
  add(m: MessageOf<'BUNDLE_ADD_MESSAGE'>): OfpError | undefined {
    let b = this.open.get(m.bundle_id);
    if (!b) {
      if (this.open.size >= MAX_BUNDLES) return new OfpError('OFPBFC_OUT_OF_BUNDLES');
      b = { flags: m.flags, closed: false, msgs: [], raw: [] };
      this.open.set(m.bundle_id, b);
    }
    if (b.closed) return new OfpError('OFPBFC_BUNDLE_CLOSED', { why: `bundle ${m.bundle_id}` });
    if (b.flags !== m.flags) return new OfpError('OFPBFC_BAD_FLAGS', { why: `bundle ${m.bundle_id} opened with flags ${b.flags}` });
    if (b.msgs.length >= MAX_BUNDLE_MSGS) return new OfpError('OFPBFC_MSG_TOO_MANY');
    const inner = decodeMessage(m.message);
    if (inner instanceof OfpError) return inner;
    if (peekHeader(m.message)!.xid !== m.xid) return new OfpError('OFPBFC_MSG_BAD_XID');
    if (!bundleable.has(inner.type)) return new OfpError('OFPBFC_MSG_UNSUP', { why: inner.type });
    b.msgs.push(inner as BundledMessage);
    b.raw.push(m.message);
    return undefined;
  }

  close(m: MessageOf<'BUNDLE_CONTROL'>): OfpError | undefined {
    const b = this.open.get(m.bundle_id);
    if (!b) return new OfpError('OFPBFC_BAD_ID', { why: `bundle ${m.bundle_id}` });
    if (b.closed) return new OfpError('OFPBFC_BUNDLE_CLOSED', { why: `bundle ${m.bundle_id}` });
    if (b.flags !== m.flags) return new OfpError('OFPBFC_BAD_FLAGS');
    b.closed = true;
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
