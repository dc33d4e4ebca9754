// The flow tables bench/fwd.sh (through fwd-hook.ts) and bench/fwd-ns.ts install, and the
// frames the bench generator sends: 64-byte UDP 10.99.0.1 → 10.99.0.2, destination port
// 9, source port 1024 + flow number (../shared/bench/src/xbench.c).
import type { OxmEntry } from '../proto/openflow/oxm.js';
import type { FlowModInput } from '../src/ofproto/types.js';

export const SRC_IP = '10.99.0.1';
export const DST_IP = '10.99.0.2';
export const L4_RULES = 10_000;

export const flowMod = (table_id: number, priority: number, match: OxmEntry[], instructions: FlowModInput['instructions']): FlowModInput => ({
  cookie: 0n, cookie_mask: 0n, table_id, command: 'ADD', idle_timeout: 0, hard_timeout: 0, priority,
  buffer_id: 0xffffffff, out_port: 0xffffffff, out_group: 0xffffffff, flags: 0, match, instructions,
});

export const output = (port: number): FlowModInput['instructions'] => [{ type: 'APPLY_ACTIONS', actions: [{ type: 'OUTPUT', port, max_len: 0 }] }];

/**
 * One rule, actions=NORMAL (a standalone bridge's): the generator's destination is never
 * learned (the receiver does not answer), so every frame floods to the other port, in
 * the fast path, as with OVS's *-normal variants beside it.
 */
export function normalRule(add: (m: FlowModInput) => void): void {
  add(flowMod(0, 0, [], output(0xfffffffa)));
}

/** One rule each way: in_port=1 → 2 and in_port=2 → 1. */
export function oneRule(add: (m: FlowModInput) => void): void {
  add(flowMod(0, 10, [{ field: 'IN_PORT', value: 1 }], output(2)));
  add(flowMod(0, 10, [{ field: 'IN_PORT', value: 2 }], output(1)));
}

/**
 * 10,000 exact L4 rules over 8 masks in 2 tables: table 0 (4 masks) sends UDP from
 * port 1 to table 1, whose rules match udp,tp_src=1024+i and, by i mod 4, nothing else,
 * the source address, the destination address or the destination port (4 masks, every
 * rule hit by one generated flow); the in_port rules stay below for everything else.
 */
export function l4Rules(add: (m: FlowModInput) => void): void {
  const udp: OxmEntry[] = [{ field: 'ETH_TYPE', value: 0x0800 }, { field: 'IP_PROTO', value: 17 }];
  oneRule(add);
  add(flowMod(0, 20, [{ field: 'IN_PORT', value: 1 }, ...udp], [{ type: 'GOTO_TABLE', table_id: 1 }]));
  add(flowMod(0, 15, [{ field: 'ETH_TYPE', value: 0x0806 }], output(2)));
  add(flowMod(0, 12, [{ field: 'ETH_TYPE', value: 0x0800 }, { field: 'IPV4_DST', value: '10.9.0.0', mask: '255.255.0.0' }], output(2)));
  const extra: OxmEntry[][] = [[], [{ field: 'IPV4_SRC', value: SRC_IP }], [{ field: 'IPV4_DST', value: DST_IP }], [{ field: 'UDP_DST', value: 9 }]];
  for (let i = 0; i < L4_RULES; i++)
    add(flowMod(1, 100 + (i % 4), [{ field: 'IN_PORT', value: 1 }, ...udp, ...extra[i % 4]!, { field: 'UDP_SRC', value: 1024 + i }], output(2)));
}
