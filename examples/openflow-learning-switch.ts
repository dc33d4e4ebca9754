// examples/openflow-learning-switch.ts — a MAC-learning controller in ~80 lines with
// the xdpswitch/openflow library: switches dial it (`ovs-vsctl set-controller br0
// tcp:127.0.0.1:6653`), it installs a table-miss flow, learns where source MACs live
// from packet-ins, and installs a flow once both ends are known.
//   npx tsx examples/openflow-learning-switch.ts [ptcp:6653]
import { listenForSwitches, OFPCML_NO_BUFFER, OFPP, OFP_NO_BUFFER, type ControllerConnection, type MessageOf } from 'xdpswitch/openflow';

const target = process.argv[2] ?? 'ptcp:6653';

function flowMod(priority: number, match: MessageOf<'FLOW_MOD'>['match'], port: number, maxLen = 0): MessageOf<'FLOW_MOD'> {
  return {
    type: 'FLOW_MOD', xid: 0, cookie: 0n, cookie_mask: 0n, table_id: 0, command: 'ADD', idle_timeout: priority ? 60 : 0, hard_timeout: 0,
    priority, buffer_id: OFP_NO_BUFFER, out_port: OFPP.ANY, out_group: 0xffffffff, flags: 0,
    match, instructions: [{ type: 'APPLY_ACTIONS', actions: [{ type: 'OUTPUT', port, max_len: maxLen }] }],
  };
}

function mac(b: Uint8Array, at: number): string {
  return Array.from(b.subarray(at, at + 6), (x) => x.toString(16).padStart(2, '0')).join(':');
}

async function serve(sw: ControllerConnection): Promise<void> {
  const [features] = await sw.request({ type: 'FEATURES_REQUEST', xid: 0 });
  const dpid = features?.type === 'FEATURES_REPLY' ? features.datapath_id.toString(16).padStart(16, '0') : '?';
  console.log(`switch ${dpid} connected`);
  const where = new Map<string, number>();

  // Table miss: the whole frame to us.
  const errors = await sw.transact([flowMod(0, [], OFPP.CONTROLLER, OFPCML_NO_BUFFER)]);
  for (const e of errors) console.log(`switch ${dpid} refused the table-miss flow: type ${e.err_type} code ${e.code}`);

  sw.on('message', (m) => {
    if (m.type !== 'PACKET_IN' || m.data.length < 14) return;
    const inPort = m.match.find((e) => e.field === 'IN_PORT')?.value;
    if (typeof inPort !== 'number') return;
    const dst = mac(m.data, 0);
    const src = mac(m.data, 6);
    where.set(src, inPort);
    const out = where.get(dst);
    if (out !== undefined) {
      sw.send(flowMod(10, [{ field: 'IN_PORT', value: inPort }, { field: 'ETH_DST', value: dst }], out));
      console.log(`switch ${dpid}: ${src} -> ${dst} now switched from port ${inPort} to port ${out}`);
    }
    sw.send({
      type: 'PACKET_OUT', xid: 0, buffer_id: OFP_NO_BUFFER, in_port: inPort,
      actions: [{ type: 'OUTPUT', port: out ?? OFPP.FLOOD, max_len: 0 }], data: m.data,
    });
  });
  sw.on('close', (why) => console.log(`switch ${dpid} disconnected: ${why}`));
}

const l = await listenForSwitches(target, (sw) => {
  serve(sw).catch((e: unknown) => {
    console.error(`switch setup failed: ${(e as Error).message}`);
    sw.close();
  });
});
console.log(`learning switch controller listening on ${target}${l.port ? ` (port ${l.port})` : ''}`);
