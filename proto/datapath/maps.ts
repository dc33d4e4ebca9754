// Layouts of every map shared by bpf/xdpswitch.bpf.c and src/datapath. Pinned maps
// outlive the daemon, so this is an ABI: retire a field as reserved_N, never reuse it,
// and bump LAYOUT_VERSION (part of the pin path) when a field moves.
import { array, cenum, cstruct, type MapDecl, u32, u64, u8 } from '../lib/cstruct.js';
import { flowKey, ipFrag } from './key.js';

export const LAYOUT_VERSION = 1;

/** What the first-form pipeline does with a frame arriving on a port. */
export const portAction = cenum(
  'xsw_port_action',
  {
    XSW_PORT_PASS: 0, // hand the frame to the kernel stack unchanged
    XSW_PORT_DROP: 1,
    XSW_PORT_REDIRECT: 2, // send out of port.out_ifindex
    XSW_PORT_UPCALL: 3, // copy the head of the frame to userspace, then pass
  },
  'per-port verdict of the first-form pipeline',
);

/** Why a frame was copied to userspace; counted per reason. */
export const upcallReason = cenum('xsw_upcall_reason', {
  XSW_UPCALL_PORT: 0, // the port's action is XSW_PORT_UPCALL
  XSW_UPCALL_NO_PORT: 1, // ingress ifindex has no xsw_ports entry
});

export const port = cstruct('xsw_port', 16, [
  ['action', u32, 'enum xsw_port_action'],
  ['out_ifindex', u32, 'egress device for XSW_PORT_REDIRECT'],
  ['ofport', u32, 'OpenFlow port number, for upcalls and counters'],
  ['flags', u32, 'reserved for port flags, written as zero'],
]);

export const portStats = cstruct('xsw_port_stats', 48, [
  ['rx_packets', u64, 'frames received on the port'],
  ['rx_bytes', u64, 'bytes received, Ethernet header included'],
  ['tx_packets', u64, 'frames redirected out of the port'],
  ['tx_bytes', u64],
  ['drops', u64, 'frames dropped by the pipeline'],
  ['upcalls', u64, 'frames copied to userspace'],
]);

/** Largest frame head copied into an upcall record. */
export const UPCALL_CAP = 128;

export const upcall = cstruct('xsw_upcall', 16 + flowKey.size + UPCALL_CAP, [
  ['ifindex', u32, 'ingress device'],
  ['reason', u32, 'enum xsw_upcall_reason'],
  ['frame_len', u32, 'length of the whole frame in bytes'],
  ['cap_len', u32, 'bytes of it in data[]'],
  ['key', flowKey, 'the frame as the parser saw it'],
  ['data', array(u8, UPCALL_CAP), 'the frame head, cap_len bytes valid'],
]);

export const maps = {
  xsw_ports: { type: 'HASH', maxEntries: 1024, key: u32, value: port, comment: 'ingress ifindex → port config' },
  xsw_tx_ports: { type: 'DEVMAP_HASH', maxEntries: 1024, key: u32, value: u32, comment: 'ifindex → ifindex, XDP redirect targets' },
  xsw_port_stats: { type: 'PERCPU_HASH', maxEntries: 1024, key: u32, value: portStats, comment: 'ifindex → per-CPU counters' },
  xsw_upcalls: { type: 'RINGBUF', maxEntries: 256 * 1024, record: upcall, comment: 'struct xsw_upcall records for userspace' },
} as const satisfies Record<string, MapDecl>;

export const structs = [flowKey, port, portStats, upcall];
export const enums = [ipFrag, portAction, upcallReason];
