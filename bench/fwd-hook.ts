// The bench harness's HOOK_UP / HOOK_DOWN for the compiled pipeline alone (no daemon):
//   tsx bench/fwd-hook.ts up PORT_A PORT_B            attach at XDP, install the flows, exit
//   tsx bench/fwd-hook.ts up-l4 PORT_A PORT_B         10,000 exact L4 rules, 8 masks, 2 tables
//   tsx bench/fwd-hook.ts up-normal PORT_A PORT_B     one rule, actions=NORMAL
//   tsx bench/fwd-hook.ts down PORT_A PORT_B          detach and remove the pinned maps
// `up` leaves the programs attached and the maps pinned, so the ports go on forwarding
// with no process: what is measured is the XDP datapath itself. `up-l4` installs
// bench/fwd-flows.ts l4Rules: like the harness's OVS l4 variants, an exact rule per
// generated flow (udp,tp_src=1024..11023 → the other port), here over 8 masks in 2
// tables, above the in_port rules.
import { rmSync } from 'node:fs';
import { pinDirFor } from '../src/datapath/datapath.js';
import { XdpBridgeDatapath } from '../src/datapath/xdp-bridge.js';
import { detachXdp } from '../src/native/bpf.js';
import { getLink } from '../src/native/netlink.js';
import { applyFlowMod } from '../src/ofproto/flow-mod.js';
import { createPipeline, type Delta } from '../src/ofproto/pipeline.js';
import type { FlowModInput } from '../src/ofproto/types.js';
import { l4Rules, normalRule, oneRule } from './fwd-flows.js';
import { addPort } from '../src/ofproto/port.js';

const INSTANCE = 'bench-hook';
const [mode, a, b] = process.argv.slice(2);
if (!mode || !a || !b) throw new Error('usage: fwd-hook.ts up|up-l4|up-normal|down PORT_A PORT_B');

if (mode === 'up' || mode === 'up-l4' || mode === 'up-normal') {
  const br = XdpBridgeDatapath.open(INSTANCE);
  const p = createPipeline(0);
  // NORMAL floods to the ports the model knows.
  addPort(p, { port_no: 1, name: a });
  addPort(p, { port_no: 2, name: b });
  await br.addPort({ ofport: 1, ifindex: (await getLink(a)).ifindex, name: a, hook: 'xdp' });
  await br.addPort({ ofport: 2, ifindex: (await getLink(b)).ifindex, name: b, hook: 'xdp' });
  const deltas: Delta[] = [];
  const add = (m: FlowModInput) => {
    const r = applyFlowMod(p, m, 0);
    if (r.error) throw r.error;
    deltas.push(...r.deltas);
  };
  if (mode === 'up-l4') l4Rules(add);
  else if (mode === 'up-normal') normalRule(add);
  else oneRule(add);
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
