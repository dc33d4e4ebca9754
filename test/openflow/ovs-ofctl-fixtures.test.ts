// test/openflow/ovs-ofctl-fixtures.test.ts — the bytes the real ovs-ofctl sends
// (fixtures/ovs-ofctl.txt, under the command that sent them) decode to the expected
// messages and re-encode to the same bytes; and ovs-ofctl still sends exactly those.
import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { decodeMessage, encodeMessage, OfpError, type Message } from '../../src/openflow/index.js';
import { capture, format, parse } from './capture-ovs-ofctl.js';
import { hex, toHex } from './fixture.js';

const file = new URL('./fixtures/ovs-ofctl.txt', import.meta.url);
const caps = parse(readFileSync(file, 'utf8'));

function decoded(command: string): Message[] {
  const c = caps.find((x) => x.command.includes(command));
  if (!c) throw new Error(`no fixture for ${command}`);
  return c.rx.map((h) => decodeMessage(hex(h)) as Message);
}

/** Requests refused on purpose: not declared, so decoding names the error the switch sends. */
const refused: Array<[command: string, error: string]> = [];

describe('captured ovs-ofctl requests', () => {
  test.each(caps.flatMap((c) => c.rx.map((h, i) => [`${c.command} #${i}`, h] as const)))('%s round-trips', (name, h) => {
    const m = decodeMessage(hex(h));
    const why = refused.find(([cmd]) => name.includes(cmd));
    if (m instanceof OfpError && why) return expect(m.name).toBe(why[1]);
    expect(m).not.toBeInstanceOf(OfpError);
    expect(toHex(encodeMessage(m as Message))).toBe(h);
  });

  test('conntrack match fields and ct(commit,exec(set_field)) decode', () => {
    const fm = decoded('ct_state=+trk+est').find((m) => m.type === 'FLOW_MOD');
    expect(fm).toMatchObject({
      match: [
        { field: 'ETH_TYPE', value: 0x800 },
        { field: 'NXM_NX_REG0', value: 7 },
        { field: 'NXM_NX_CT_STATE', value: 0x22, mask: 0x22 },
        { field: 'NXM_NX_CT_ZONE', value: 3 },
        { field: 'NXM_NX_CT_MARK', value: 5, mask: 0xff },
      ],
      instructions: [{ type: 'APPLY_ACTIONS', actions: [
        { type: 'NX_CT', flags: 1, recirc_table: 255, actions: [{ type: 'SET_FIELD', field: { field: 'NXM_NX_CT_MARK', value: 1 } }] },
        { type: 'NX_RESUBMIT_TABLE', in_port: 0xfff8, table: 5 },
      ] }],
    });
  });

  test('tcp_flags arrive as the ONF experimenter OXM, with NXM ttl, frag and mark', () => {
    const fm = decoded('tcp_flags=+syn-ack').find((m) => m.type === 'FLOW_MOD');
    expect(fm).toMatchObject({ instructions: [{ type: 'APPLY_ACTIONS', actions: [{ type: 'NX_EXIT' }] }] });
    const fields = fm?.type === 'FLOW_MOD' ? Object.fromEntries(fm.match.map((e) => [e.field, e])) : {};
    expect(fields).toMatchObject({
      ONFOXM_ET_TCP_FLAGS: { value: 0x002, mask: 0x012 },
      NXM_NX_IP_TTL: { value: 5 },
      NXM_NX_IP_FRAG: { value: 1 }, // first: a fragment, not a later one; all bits matched
      NXM_NX_PKT_MARK: { value: 5, mask: 0xf },
    });
  });

  test('learn() keeps its flow_mod_specs as bytes for the pipeline', () => {
    const fm = decoded('learn(table=1').find((m) => m.type === 'FLOW_MOD');
    expect(fm).toMatchObject({ instructions: [{ type: 'APPLY_ACTIONS', actions: [{ type: 'NX_LEARN', table_id: 1, priority: 0x8000, idle_timeout: 0 }] }] });
  });

  test('clone() nests actions', () => {
    expect(decoded('clone(ct(commit,zone=2)').find((m) => m.type === 'FLOW_MOD')).toMatchObject({
      instructions: [{ type: 'APPLY_ACTIONS', actions: [
        { type: 'NX_CLONE', actions: [{ type: 'NX_CT', flags: 1, zone: 2 }, { type: 'OUTPUT', port: 1 }] },
        { type: 'OUTPUT', port: 2 },
      ] }],
    });
  });

  test('groups and meters decode to their commands', () => {
    expect(decoded('type=fast_failover').find((m) => m.type === 'GROUP_MOD')).toMatchObject({
      command: 'ADD', group_type: 'FF', group_id: 2, buckets: [{ watch_port: 1, actions: [{ type: 'OUTPUT', port: 1 }] }, { watch_port: 2 }],
    });
    expect(decoded('meter=1,kbps').find((m) => m.type === 'METER_MOD')).toMatchObject({
      command: 'ADD', flags: 0b101, meter_id: 1, bands: [{ type: 'DROP', rate: 1000, burst_size: 100 }],
    });
  });

  test('add-flow with a masked IPv4 destination', () => {
    const fm = decoded("'priority=10,ip,nw_dst=10.0.0.0/8").find((m) => m.type === 'FLOW_MOD');
    expect(fm).toMatchObject({
      command: 'ADD',
      priority: 10,
      match: [{ field: 'ETH_TYPE', value: 0x800 }, { field: 'IPV4_DST', value: '10.0.0.0', mask: '255.0.0.0' }],
      instructions: [{ type: 'APPLY_ACTIONS', actions: [{ type: 'OUTPUT', port: 2 }] }],
    });
  });

  test('add-flow with ct() sends the Nicira conntrack action', () => {
    const fm = decoded('ct(commit,zone=5,table=3)').find((m) => m.type === 'FLOW_MOD');
    expect(fm).toMatchObject({
      table_id: 1,
      match: [{ field: 'ETH_TYPE', value: 0x800 }, { field: 'IP_PROTO', value: 6 }, { field: 'TCP_DST', value: 80 }],
      instructions: [{ type: 'APPLY_ACTIONS', actions: [{ type: 'NX_CT', flags: 1, zone: 5, recirc_table: 3, actions: [] }] }],
    });
  });

  test('add-flow with vlan, masked MAC, set_field and group', () => {
    const fm = decoded('dl_vlan=10').find((m) => m.type === 'FLOW_MOD');
    expect(fm).toMatchObject({
      match: [{ field: 'ETH_SRC', value: '00:11:22:00:00:00', mask: 'ff:ff:ff:00:00:00' }, { field: 'VLAN_VID', value: 0x100a }],
      instructions: [{ type: 'APPLY_ACTIONS', actions: [{ type: 'POP_VLAN' }, { type: 'SET_FIELD', field: { field: 'ETH_DST', value: '00:00:00:00:00:01' } }, { type: 'GROUP', group_id: 1 }] }],
    });
  });

  test('--bundle wraps the flow mod in ONF bundle messages', () => {
    const types = decoded('--bundle').map((m) => (m.type === 'BUNDLE_CONTROL' ? `${m.type}:${m.ctrl_type}` : m.type));
    expect(types.filter((t) => t.startsWith('BUNDLE'))).toEqual(['BUNDLE_CONTROL:OPEN_REQUEST', 'BUNDLE_ADD_MESSAGE', 'BUNDLE_CONTROL:COMMIT_REQUEST']);
  });

  test('ovs-ofctl still sends these bytes', async () => {
    expect(format(await capture())).toBe(format(caps));
  });
});
