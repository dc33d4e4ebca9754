// Generated from proto/datapath/maps.ts by npm run gen; edit the source.
/* eslint-disable */

export const LAYOUT_VERSION = 1;
export const UPCALL_CAP = 128;

export const XswPortAction = {
  XSW_PORT_PASS: 0,
  XSW_PORT_DROP: 1,
  XSW_PORT_REDIRECT: 2,
  XSW_PORT_UPCALL: 3,
} as const;

export const XswUpcallReason = {
  XSW_UPCALL_PORT: 0,
  XSW_UPCALL_NO_PORT: 1,
} as const;

export interface XswPort {
  action: number; // enum xsw_port_action
  out_ifindex: number; // egress device for XSW_PORT_REDIRECT
  ofport: number; // OpenFlow port number, for upcalls and counters
  flags: number; // reserved for port flags, written as zero
}

export const XSW_PORT_SIZE = 16;

export function encodeXswPort(v: XswPort, buf: Buffer = Buffer.alloc(16), off = 0): Buffer {
  const dv = new DataView(buf.buffer, buf.byteOffset + off, 16);
  dv.setUint32(0, v.action, true);
  dv.setUint32(4, v.out_ifindex, true);
  dv.setUint32(8, v.ofport, true);
  dv.setUint32(12, v.flags, true);
  return buf;
}

export function decodeXswPort(buf: Uint8Array, off = 0): XswPort {
  if (buf.length - off < 16) throw new RangeError('xsw_port: need 16 bytes, have ' + (buf.length - off));
  const dv = new DataView(buf.buffer, buf.byteOffset + off, 16);
  return {
    action: dv.getUint32(0, true),
    out_ifindex: dv.getUint32(4, true),
    ofport: dv.getUint32(8, true),
    flags: dv.getUint32(12, true),
  };
}

export interface XswPortStats {
  rx_packets: bigint; // frames received on the port
  rx_bytes: bigint; // bytes received, Ethernet header included
  tx_packets: bigint; // frames redirected out of the port
  tx_bytes: bigint;
  drops: bigint; // frames dropped by the pipeline
  upcalls: bigint; // frames copied to userspace
}

export const XSW_PORT_STATS_SIZE = 48;

export function encodeXswPortStats(v: XswPortStats, buf: Buffer = Buffer.alloc(48), off = 0): Buffer {
  const dv = new DataView(buf.buffer, buf.byteOffset + off, 48);
  dv.setBigUint64(0, v.rx_packets, true);
  dv.setBigUint64(8, v.rx_bytes, true);
  dv.setBigUint64(16, v.tx_packets, true);
  dv.setBigUint64(24, v.tx_bytes, true);
  dv.setBigUint64(32, v.drops, true);
  dv.setBigUint64(40, v.upcalls, true);
  return buf;
}

export function decodeXswPortStats(buf: Uint8Array, off = 0): XswPortStats {
  if (buf.length - off < 48) throw new RangeError('xsw_port_stats: need 48 bytes, have ' + (buf.length - off));
  const dv = new DataView(buf.buffer, buf.byteOffset + off, 48);
  return {
    rx_packets: dv.getBigUint64(0, true),
    rx_bytes: dv.getBigUint64(8, true),
    tx_packets: dv.getBigUint64(16, true),
    tx_bytes: dv.getBigUint64(24, true),
    drops: dv.getBigUint64(32, true),
    upcalls: dv.getBigUint64(40, true),
  };
}

export interface XswUpcall {
  ifindex: number; // ingress device
  reason: number; // enum xsw_upcall_reason
  frame_len: number; // length of the whole frame in bytes
  cap_len: number; // bytes of it in data[]
  data: Uint8Array; // the frame head, cap_len bytes valid
}

export const XSW_UPCALL_SIZE = 144;

export function encodeXswUpcall(v: XswUpcall, buf: Buffer = Buffer.alloc(144), off = 0): Buffer {
  const dv = new DataView(buf.buffer, buf.byteOffset + off, 144);
  dv.setUint32(0, v.ifindex, true);
  dv.setUint32(4, v.reason, true);
  dv.setUint32(8, v.frame_len, true);
  dv.setUint32(12, v.cap_len, true);
  buf.set(v.data.subarray(0, 128), off + 16);
  return buf;
}

export function decodeXswUpcall(buf: Uint8Array, off = 0): XswUpcall {
  if (buf.length - off < 144) throw new RangeError('xsw_upcall: need 144 bytes, have ' + (buf.length - off));
  const dv = new DataView(buf.buffer, buf.byteOffset + off, 144);
  return {
    ifindex: dv.getUint32(0, true),
    reason: dv.getUint32(4, true),
    frame_len: dv.getUint32(8, true),
    cap_len: dv.getUint32(12, true),
    data: buf.slice(off + 16, off + 144),
  };
}

export interface MapSpec {
  type: string;
  maxEntries: number;
  keySize: number;
  valueSize: number;
  perCpu: boolean;
}

export const maps = {
  xsw_ports: { type: 'HASH', maxEntries: 1024, keySize: 4, valueSize: 16, perCpu: false }, // ingress ifindex → port config
  xsw_tx_ports: { type: 'DEVMAP_HASH', maxEntries: 1024, keySize: 4, valueSize: 4, perCpu: false }, // ifindex → ifindex, XDP redirect targets
  xsw_port_stats: { type: 'PERCPU_HASH', maxEntries: 1024, keySize: 4, valueSize: 48, perCpu: true }, // ifindex → per-CPU counters
  xsw_upcalls: { type: 'RINGBUF', maxEntries: 262144, keySize: 0, valueSize: 0, perCpu: false }, // struct xsw_upcall records for userspace
} as const satisfies Record<string, MapSpec>;
