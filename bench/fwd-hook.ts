// The bench harness's HOOK_UP / HOOK_DOWN for the compiled pipeline alone (no daemon):
//   tsx bench/fwd-hook.ts up PORT_A PORT_B            attach at XDP, install the flows, exit
//   tsx bench/fwd-hook.ts up-l4 PORT_A PORT_B         same plus 10,000 exact udp,tp_src rules
//   tsx bench/fwd-hook.ts down PORT_A PORT_B          detach and remove the pinned maps
// `up` leaves the programs attached and the maps pinned, so the ports go on forwarding
// with no process: what is measured is the XDP datapath itself. `up-l4` adds the
// rules the harness's OVS l4 variants get (udp,tp_src=1024..11023 → the other port),
// above the in_port rules, so each generated flow hits its own rule.
import { rmSync } from 'node:fs';
import { pinDirFor } from '../src/datapath/datapath.js';
import { XdpBridgeDatapath } from '../src/datapath/xdp-bridge.js';
import { detachXdp } from '../src/native/bpf.js';
import { getLink } from '../src/native/netlink.js';
import { applyFlowMod } from '../src/ofproto/flow-mod.js';
import { createPipeline, type Delta } from '../src/ofproto/pipeline.js';
import type { FlowModInput } from '../src/ofproto/types.js';

const INSTANCE = 'bench-hook';
const [mode, a, b] = process.argv.slice(2);
if (!mode || !a || !b) throw new Error('usage: fwd-hook.ts up|up-l4|down PORT_A PORT_B');

const mod = (priority: number, match: FlowModInput['match'], port: number): FlowModInput => ({
  cookie: 0n, cookie_mask: 0n, table_id: 0, command: 'ADD', idle_timeout: 0, hard_timeout: 0, priority,
  buffer_id: 0xffffffff, out_port: 0xffffffff, out_group: 0xffffffff, flags: 0, match,
  instructions: [{ type: 'APPLY_ACTIONS', actions: [{ type: 'OUTPUT', port, max_len: 0 }] }],
});

if (mode === 'up' || mode === 'up-l4') {
  const br = XdpBridgeDatapath.open(INSTANCE);
  const p = createPipeline(0);
  await br.addPort({ ofport: 1, ifindex: (await getLink(a)).ifindex, name: a, hook: 'xdp' });
  await br.addPort({ ofport: 2, ifindex: (await getLink(b)).ifindex, name: b, hook: 'xdp' });
  const deltas: Delta[] = [];
  const add = (m: FlowModInput) => {
    const r = applyFlowMod(p, m, 0);
    if (r.error) throw r.error;
    deltas.push(...r.deltas);
  };
  add(mod(10, [{ field: 'IN_PORT', value: 1 }], 2));
  add(mod(10, [{ field: 'IN_PORT', value: 2 }], 1));
  for (let i = 0; i < (mode === 'up-l4' ? 10_000 : 0); i++)
    add(mod(100, [{ field: 'IN_PORT', value: 1 }, { field: 'ETH_TYPE', value: 0x0800 }, { field: 'IP_PROTO', value: 17 }, { field: 'UDP_SRC', value: 1024 + i }], 2));
  await br.apply(p, deltas);
  await br.close({ keepPinned: true });
  process.stderr.write(`fwd-hook: ${a} <-> ${b} forwarding through the compiled pipeline at XDP, ${deltas.length} rules\n`);
} else {
  for (const dev of [a, b]) {
    try {
      detachXdp((await getLink(dev)).ifindex);
    } catch {
      // already gone with its device
    }
  }
  rmSync(pinDirFor(INSTANCE), { recursive: true, force: true });
}
