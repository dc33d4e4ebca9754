// src/kdp/genl.ts — generic netlink for TypeScript: a family resolved by name through
// the nlctrl family, requests whose replies come back as (cmd, payload), and a socket
// for unsolicited messages (multicast groups, OVS upcalls sent to its port id).
import { attrSet, decodeAttrs, encodeAttrs, walkAttrs } from './attr.js';
import { genlAddon, type RawGenlSocket } from '../native/raw-genl.js';

/** NLM_F_* request flags (include/uapi/linux/netlink.h). */
export const NLM_F = { ECHO: 0x08, DUMP: 0x300, REPLACE: 0x100, EXCL: 0x200, CREATE: 0x400 } as const;

const GENL_ID_CTRL = 0x10;
const CTRL_CMD_GETFAMILY = 3;
const ctrl_attr = attrSet('ctrl_attr', {
  family_id: [1, 'u16'],
  family_name: [2, 'string'],
  version: [3, 'u32'],
  hdrsize: [4, 'u32'],
  maxattr: [5, 'u32'],
  mcast_groups: [7, 'bytes'], // array (by index) of nested ctrl_attr_mcast_grp
});
const ctrl_attr_mcast_grp = attrSet('ctrl_attr_mcast_grp', {
  name: [1, 'string'],
  id: [2, 'u32'],
});

export interface GenlFamily {
  name: string;
  id: number;
  version: number;
  maxattr: number;
  /** Multicast group ids by name. */
  groups: ReadonlyMap<string, number>;
}

/** A generic netlink message from the genlmsghdr on. */
export interface GenlMessage {
  cmd: number;
  version: number;
  /** After the 4-byte genlmsghdr: the family header and attributes. */
  payload: Buffer;
}

function toMessage(b: Buffer): GenlMessage {
  return { cmd: b.readUInt8(0), version: b.readUInt8(1), payload: b.subarray(4) };
}

/** One request; a failure is the addon's NativeError (op genl_request, detail `what` + ext-ack text). */
export async function genlRequest(family: number, cmd: number, version: number, payload: Buffer, opts: { flags?: number; what?: string } = {}): Promise<GenlMessage[]> {
  const replies = await genlAddon().genlRequest(family, cmd, version, opts.flags ?? 0, payload, opts.what ?? '');
  return replies.map(toMessage);
}

/** The family named `name`; NativeError ENOENT when no such family is registered (module absent). */
export async function resolveFamily(name: string): Promise<GenlFamily> {
  const [reply] = await genlRequest(GENL_ID_CTRL, CTRL_CMD_GETFAMILY, 1, encodeAttrs(ctrl_attr, { family_name: name }), { what: `family ${name}` });
  if (!reply) throw new Error(`genl: no reply resolving family ${name}`);
  const a = decodeAttrs(ctrl_attr, reply.payload);
  const groups = new Map<string, number>();
  if (a.mcast_groups) {
    for (const [, grp] of walkAttrs(a.mcast_groups, 'ctrl_attr_mcast_groups')) {
      const g = decodeAttrs(ctrl_attr_mcast_grp, grp);
      if (g.name !== undefined && g.id !== undefined) groups.set(g.name, g.id);
    }
  }
  if (a.family_id === undefined) throw new Error(`genl: family ${name} resolved without an id`);
  return { name, id: a.family_id, version: a.version ?? 0, maxattr: a.maxattr ?? 0, groups };
}

export interface GenlSocketHandlers {
  /** One unsolicited message of family id `family`. */
  onMessage(family: number, msg: GenlMessage): void;
  /** Messages were lost (the receive buffer overflowed). */
  onOverrun?(): void;
  onError?(err: Error): void;
}

/** A socket receiving unsolicited messages, driven by the event loop (no thread). */
export class GenlSocket {
  private readonly raw: RawGenlSocket;
  overruns = 0;

  constructor(handlers: GenlSocketHandlers, opts: { rcvbuf?: number } = {}) {
    this.raw = genlAddon().genlSocket((kind, type, arg) => {
      if (kind === 0 && Buffer.isBuffer(arg)) handlers.onMessage(type, toMessage(arg));
      else if (kind === 2) {
        this.overruns++;
        handlers.onOverrun?.();
      } else if (kind === 3) handlers.onError?.(new Error(`genl socket: recv failed, errno ${String(arg)}`));
    }, opts.rcvbuf);
  }

  get portid(): number {
    return this.raw.portid;
  }

  join(group: number): void {
    this.raw.join(group);
  }

  leave(group: number): void {
    this.raw.leave(group);
  }

  close(): void {
    this.raw.close();
  }

  unref(): void {
    this.raw.unref();
  }

  ref(): void {
    this.raw.ref();
  }
}
