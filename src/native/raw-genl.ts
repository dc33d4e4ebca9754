// Raw bindings of native/src/genl.cc: bytes in, bytes out. src/kdp/genl.ts gives them
// types; use that, not these.
import { native } from './addon.js';

/** Listener callback kinds: 0 a message (type: nlmsg_type), 2 overrun (messages lost), 3 socket error (arg: errno). */
export type RawGenlEventKind = 0 | 2 | 3;

export interface RawGenlSocket {
  /** Netlink port id the kernel sends unicast messages (OVS upcalls) to. */
  readonly portid: number;
  join(group: number): void;
  leave(group: number): void;
  close(): void;
  ref(): void;
  unref(): void;
}

export interface RawGenl {
  /** Replies from their genlmsghdr on; `flags` are NLM_F_* beyond REQUEST|ACK. */
  genlRequest(family: number, cmd: number, version: number, flags: number, payload: Buffer, what: string): Promise<Buffer[]>;
  genlSocket(callback: (kind: RawGenlEventKind, type: number, arg: Buffer | number | null) => void, rcvbuf?: number): RawGenlSocket;
}

export function genlAddon(): RawGenl {
  return native();
}
