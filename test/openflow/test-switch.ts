// test/openflow/test-switch.ts — a small in-test handler behind the real endpoint: a
// flat flow list, one port, and just enough multipart answers for ovs-ofctl. It is
// not the pipeline (src/ofproto); it shows what reaches a handler and in what order.
import { OfpError, OFPP, type BundledMessage, type BundleResult, type ConnectionInfo, type FlowStats, type HandledMessage, type HandlerResult, type Message, type MessageOf, type OpenFlowHandler } from '../../src/openflow/index.js';

type FlowMod = MessageOf<'FLOW_MOD'>;

export class TestSwitch implements OpenFlowHandler {
  flows: FlowMod[] = [];
  /** Every message handed to handle(), in order. */
  seen: HandledMessage[] = [];
  commits: BundledMessage[][] = [];
  groups: MessageOf<'GROUP_MOD'>[] = [];
  packetOuts: MessageOf<'PACKET_OUT'>[] = [];
  barriers = 0;
  /** Flow mods with this priority fail with OFPFMFC_EPERM (to test errors and atomic bundles). */
  failPriority = 666;

  features() {
    return { datapath_id: 0x0000_0a0b_0c0d_0e0fn, n_buffers: 0, n_tables: 254, capabilities: 0x4f };
  }

  handle(m: HandledMessage, _c: ConnectionInfo): HandlerResult {
    this.seen.push(m);
    switch (m.type) {
      case 'FLOW_MOD':
        return this.apply(m) ?? [];
      case 'MULTIPART_REQUEST':
        return this.multipart(m);
      case 'GROUP_MOD':
        if (m.command !== 'ADD') return new OfpError('OFPGMFC_BAD_COMMAND', { why: 'test switch only adds groups' });
        this.groups.push(m);
        return [];
      case 'PACKET_OUT':
        this.packetOuts.push(m);
        return [];
      default:
        return new OfpError('OFPBRC_BAD_TYPE', { why: `${m.type} not supported by the test switch` });
    }
  }

  commitBundle(msgs: readonly BundledMessage[]): BundleResult {
    const saved = [...this.flows];
    for (const [i, m] of msgs.entries()) {
      const err = m.type === 'FLOW_MOD' ? this.apply(m) : new OfpError('OFPBRC_BAD_TYPE');
      if (err) {
        this.flows = saved;
        return { ok: false, index: i, error: err };
      }
    }
    this.commits.push([...msgs]);
    return { ok: true };
  }

  barrier(): void {
    this.barriers++;
  }

  private apply(m: FlowMod): OfpError | undefined {
    if (m.priority === this.failPriority) return new OfpError('OFPFMFC_EPERM', { why: 'test switch refuses this priority' });
    switch (m.command) {
      case 'ADD':
        this.flows.push(m);
        return undefined;
      case 'DELETE':
      case 'DELETE_STRICT':
        this.flows = [];
        return undefined;
      default:
        return new OfpError('OFPFMFC_BAD_COMMAND', { why: 'test switch only adds and deletes' });
    }
  }

  private multipart(m: MessageOf<'MULTIPART_REQUEST'>): HandlerResult {
    const reply = (body: MessageOf<'MULTIPART_REPLY'>['body']): Message[] => [{ type: 'MULTIPART_REPLY', xid: m.xid, body }];
    switch (m.body.type) {
      case 'DESC':
        return reply({ type: 'DESC', flags: 0, mfr_desc: 'xdpswitch', hw_desc: 'test', sw_desc: '0.1', serial_num: 'None', dp_desc: 'test switch' });
      case 'PORT_DESC':
        return reply({
          type: 'PORT_DESC',
          flags: 0,
          ports: [{ port_no: OFPP.LOCAL, hw_addr: '0a:0b:0c:0d:0e:0f', name: 'br0', config: 1, state: 1, curr: 0, advertised: 0, supported: 0, peer: 0, curr_speed: 0, max_speed: 0 }],
        });
      case 'FLOW':
        return reply({ type: 'FLOW', flags: 0, flows: this.flows.map(flowStats) });
      case 'TABLE_FEATURES':
        // ovs-ofctl asks for table names before it parses a flow.
        if (m.body.tables.length) return new OfpError('OFPTFFC_EPERM');
        return reply({
          type: 'TABLE_FEATURES',
          flags: 0,
          tables: [{ table_id: 0, name: 'classifier', metadata_match: ~0n & 0xffffffffffffffffn, metadata_write: 0xffffffffffffffffn, config: 0, max_entries: 1000000,
            // OVS needs every non-miss property present, even if empty.
            properties: [
              { type: 'INSTRUCTIONS', instruction_ids: [1, 2, 3, 4, 5, 6] },
              { type: 'NEXT_TABLES', next_table_ids: [] },
              { type: 'WRITE_ACTIONS', action_ids: [0] },
              { type: 'APPLY_ACTIONS', action_ids: [0] },
              { type: 'MATCH', oxm_ids: [] },
              { type: 'WILDCARDS', oxm_ids: [] },
              { type: 'WRITE_SETFIELD', oxm_ids: [] },
              { type: 'APPLY_SETFIELD', oxm_ids: [] },
            ],
          }],
        });
      case 'TABLE':
        return reply({ type: 'TABLE', flags: 0, tables: [{ table_id: 0, active_count: this.flows.length, lookup_count: 0n, matched_count: 0n }] });
      default:
        return new OfpError('OFPBRC_BAD_MULTIPART', { why: `${m.body.type} not supported by the test switch` });
    }
  }
}

function flowStats(f: FlowMod): FlowStats {
  return {
    table_id: f.table_id,
    duration_sec: 0,
    duration_nsec: 0,
    priority: f.priority,
    idle_timeout: f.idle_timeout,
    hard_timeout: f.hard_timeout,
    flags: f.flags,
    cookie: f.cookie,
    packet_count: 0n,
    byte_count: 0n,
    match: f.match,
    instructions: f.instructions,
  };
}
