// The addon's raw surface, one interface per group of native/src/*.cc facilities.
// Byte layouts and policy live in the typed wrappers (bpf.ts, netlink.ts), not here.
import type { NativeError } from './errors.js';
import type { RawBpf } from './raw-bpf.js';
import type { RawGenl } from './raw-genl.js';
import type { RawNetlink } from './raw-netlink.js';

/** packet.cc */
export interface RawPacket {
  packetSend(ifindex: number, frame: Buffer): void;
}

/** pidfile.cc: 0 = locked by us, else the holder's pid (-1: unknown). */
export interface RawPidfile {
  pidfileLock(fd: number): number;
}

export interface RawAddon extends RawBpf, RawNetlink, RawPacket, RawPidfile, RawGenl {
  init(options: { NativeError: typeof NativeError }): void;
}
