// test/openflow/codec.test.ts — annotated fixtures for the OpenFlow 1.3 codec: each
// checks decode, encode and every split of the stream; malformed ones name the error.
import { describe, expect, test } from 'vitest';
import type { OfpError} from '../../proto/openflow/index.js';
import { decodeMessage, encodeMessage, errorReply, messageRegistry, oxmFields, oxmHeader, port, flowStats, tableFeatures, meterStats, bucket } from '../../proto/openflow/index.js';
import { fixture, hex, malformed, toHex } from './fixture.js';

const ANY = 0xffffffff;

describe('fixtures', () => {
  fixture('features request', { type: 'FEATURES_REQUEST', xid: 7 }, [
    0x04, 0x05, 0x00, 0x08, // version 1.3, OFPT_FEATURES_REQUEST, length: header only
    0x00, 0x00, 0x00, 0x07, // xid
  ]);

  fixture('hello with a version bitmap', { type: 'HELLO', xid: 1, elements: [{ type: 'VERSIONBITMAP', bitmaps: [0x10] }] }, [
    0x04, 0x00, 0x00, 0x10, 0x00, 0x00, 0x00, 0x01, // HELLO, length 16, xid 1
    0x00, 0x01, 0x00, 0x08, // OFPHET_VERSIONBITMAP, length 8
    0x00, 0x00, 0x00, 0x10, // bit 4: OpenFlow 1.3
  ]);

  fixture('hello keeps an unknown element', { type: 'HELLO', xid: 2, elements: [{ type: 'UNKNOWN', tag: 9, data: Uint8Array.from([1, 2]) }] }, [
    0x04, 0x00, 0x00, 0x10, 0x00, 0x00, 0x00, 0x02,
    0x00, 0x09, 0x00, 0x06, 0x01, 0x02, // element type 9, length 6 (padding excluded)
    0x00, 0x00, // padding to 8
  ]);

  fixture('features reply', { type: 'FEATURES_REPLY', xid: 7, datapath_id: 0x0000aabbccddeeffn, n_buffers: 0, n_tables: 254, auxiliary_id: 0, capabilities: 0x4f, reserved: 0 }, [
    0x04, 0x06, 0x00, 0x20, 0x00, 0x00, 0x00, 0x07, // FEATURES_REPLY, length 32
    0x00, 0x00, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff, // datapath_id
    0x00, 0x00, 0x00, 0x00, // n_buffers
    0xfe, 0x00, 0x00, 0x00, // n_tables 254, auxiliary_id 0, pad
    0x00, 0x00, 0x00, 0x4f, // capabilities: FLOW|TABLE|PORT|GROUP_STATS, QUEUE_STATS
    0x00, 0x00, 0x00, 0x00, // reserved
  ]);

  fixture(
    'flow mod: ip,nw_dst=10.0.0.0/8 actions=output:2 then goto 3',
    {
      type: 'FLOW_MOD', xid: 9, cookie: 0x1234n, cookie_mask: 0n, table_id: 0, command: 'ADD', idle_timeout: 10, hard_timeout: 0,
      priority: 100, buffer_id: ANY, out_port: ANY, out_group: ANY, flags: 1,
      match: [{ field: 'ETH_TYPE', value: 0x0800 }, { field: 'IPV4_DST', value: '10.0.0.0', mask: '255.0.0.0' }],
      instructions: [{ type: 'APPLY_ACTIONS', actions: [{ type: 'OUTPUT', port: 2, max_len: 0 }] }, { type: 'GOTO_TABLE', table_id: 3 }],
    },
    hex(`
      04 0e 00 68 00 00 00 09   # FLOW_MOD, length 104, xid 9
      00 00 00 00 00 00 12 34   # cookie
      00 00 00 00 00 00 00 00   # cookie_mask
      00 00 00 0a 00 00 00 64   # table 0, OFPFC_ADD, idle 10, hard 0, priority 100
      ff ff ff ff ff ff ff ff   # buffer_id OFP_NO_BUFFER, out_port ANY
      ff ff ff ff 00 01 00 00   # out_group ANY, flags SEND_FLOW_REM, pad
      00 01 00 16               # ofp_match: OFPMT_OXM, length 22
      80 00 0a 02 08 00         #   OXM_OF_ETH_TYPE = 0x0800
      80 00 19 08 0a 00 00 00 ff 00 00 00   # OXM_OF_IPV4_DST/mask 10.0.0.0/255.0.0.0
      00 00                     #   padding to 8
      00 04 00 18 00 00 00 00   # APPLY_ACTIONS, length 24
      00 00 00 10 00 00 00 02 00 00 00 00 00 00 00 00   # OUTPUT port 2, max_len 0
      00 01 00 08 03 00 00 00   # GOTO_TABLE 3
    `),
  );

  fixture(
    'packet out with one action and a frame',
    { type: 'PACKET_OUT', xid: 3, buffer_id: ANY, in_port: 0xfffffffd, actions: [{ type: 'OUTPUT', port: 0xfffffffb, max_len: 0 }], data: Uint8Array.from([1, 2, 3]) },
    hex(`
      04 0d 00 2b 00 00 00 03   # PACKET_OUT, length 43
      ff ff ff ff ff ff ff fd   # no buffer, in_port CONTROLLER
      00 10 00 00 00 00 00 00   # actions_len 16, pad
      00 00 00 10 ff ff ff fb 00 00 00 00 00 00 00 00   # OUTPUT FLOOD
      01 02 03                  # frame
    `),
  );

  fixture(
    'multipart: flow stats request for all tables',
    { type: 'MULTIPART_REQUEST', xid: 4, body: { type: 'FLOW', flags: 0, table_id: 0xff, out_port: ANY, out_group: ANY, cookie: 0n, cookie_mask: 0n, match: [] } },
    hex(`
      04 12 00 38 00 00 00 04   # MULTIPART_REQUEST, length 56
      00 01 00 00 00 00 00 00   # OFPMP_FLOW, flags 0, pad
      ff 00 00 00 ff ff ff ff   # table OFPTT_ALL, pad, out_port ANY
      ff ff ff ff 00 00 00 00   # out_group ANY, pad
      00 00 00 00 00 00 00 00   # cookie
      00 00 00 00 00 00 00 00   # cookie_mask
      00 01 00 04 00 00 00 00   # empty OXM match, padded
    `),
  );

  fixture('role request: master, generation 5', { type: 'ROLE_REQUEST', xid: 5, role: 'MASTER', generation_id: 5n }, hex(`
    04 18 00 18 00 00 00 05   # ROLE_REQUEST, length 24
    00 00 00 02 00 00 00 00   # OFPCR_ROLE_MASTER, pad
    00 00 00 00 00 00 00 05   # generation_id
  `));

  fixture('set async', { type: 'SET_ASYNC', xid: 6, packet_in_mask: [3, 0], port_status_mask: [7, 7], flow_removed_mask: [15, 0] }, hex(`
    04 1c 00 20 00 00 00 06
    00 00 00 03 00 00 00 00   # packet_in: master/equal NO_MATCH|ACTION, slave none
    00 00 00 07 00 00 00 07   # port_status: all, all
    00 00 00 0f 00 00 00 00   # flow_removed: all, none
  `));

  fixture('group mod: select group with one bucket', {
    type: 'GROUP_MOD', xid: 8, command: 'ADD', group_type: 'SELECT', group_id: 1,
    buckets: [{ weight: 1, watch_port: ANY, watch_group: ANY, actions: [{ type: 'OUTPUT', port: 1, max_len: 0 }] }],
  }, hex(`
    04 0f 00 30 00 00 00 08   # GROUP_MOD, length 48
    00 00 01 00 00 00 00 01   # OFPGC_ADD, OFPGT_SELECT, pad, group 1
    00 20 00 01 ff ff ff ff   # bucket length 32, weight 1, watch_port ANY
    ff ff ff ff 00 00 00 00   # watch_group ANY, pad
    00 00 00 10 00 00 00 01 00 00 00 00 00 00 00 00   # OUTPUT 1
  `));

  fixture('meter mod: drop band', { type: 'METER_MOD', xid: 10, command: 'ADD', flags: 1, meter_id: 1, bands: [{ type: 'DROP', rate: 1000, burst_size: 0 }] }, hex(`
    04 1d 00 20 00 00 00 0a   # METER_MOD, length 32
    00 00 00 01 00 00 00 01   # OFPMC_ADD, OFPMF_KBPS, meter 1
    00 01 00 10 00 00 03 e8   # OFPMBT_DROP, length 16, rate 1000
    00 00 00 00 00 00 00 00   # burst 0, pad
  `));

  fixture('error: bad type, carrying the request', { type: 'ERROR', xid: 11, err_type: 1, code: 1, data: Uint8Array.from([4, 99, 0, 8, 0, 0, 0, 11]) }, hex(`
    04 01 00 14 00 00 00 0b   # ERROR, length 20
    00 01 00 01               # OFPET_BAD_REQUEST, OFPBRC_BAD_TYPE
    04 63 00 08 00 00 00 0b   # the request
  `));

  fixture('bundle control: open', { type: 'BUNDLE_CONTROL', xid: 12, bundle_id: 1, ctrl_type: 'OPEN_REQUEST', flags: 1, properties: new Uint8Array(0) }, hex(`
    04 04 00 18 00 00 00 0c   # EXPERIMENTER, length 24
    4f 4e 46 00 00 00 08 fc   # ONF, ONFT_BUNDLE_CONTROL (2300)
    00 00 00 01 00 00 00 01   # bundle 1, OFPBCT_OPEN_REQUEST, OFPBF_ATOMIC
  `));

  fixture('bundle add: a barrier', { type: 'BUNDLE_ADD_MESSAGE', xid: 13, bundle_id: 1, flags: 1, message: hex('04 14 00 08 00 00 00 0d'), properties: new Uint8Array(0) }, hex(`
    04 04 00 20 00 00 00 0d   # EXPERIMENTER, length 32
    4f 4e 46 00 00 00 08 fd   # ONF, ONFT_BUNDLE_ADD_MESSAGE (2301)
    00 00 00 01 00 00 00 01   # bundle 1, pad, OFPBF_ATOMIC
    04 14 00 08 00 00 00 0d   # the message: BARRIER_REQUEST, same xid
  `));

  fixture('nicira ct(commit,zone=5,table=3)', {
    type: 'FLOW_MOD', xid: 1, cookie: 0n, cookie_mask: 0n, table_id: 0, command: 'ADD', idle_timeout: 0, hard_timeout: 0, priority: 1,
    buffer_id: ANY, out_port: ANY, out_group: ANY, flags: 0, match: [],
    instructions: [{ type: 'APPLY_ACTIONS', actions: [{ type: 'NX_CT', flags: 1, zone_src: 0, zone: 5, recirc_table: 3, alg: 0, actions: [] }] }],
  }, hex(`
    04 0e 00 58 00 00 00 01 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00
    00 00 00 00 00 00 00 01 ff ff ff ff ff ff ff ff ff ff ff ff 00 00 00 00
    00 01 00 04 00 00 00 00   # empty match
    00 04 00 20 00 00 00 00   # APPLY_ACTIONS, length 32
    ff ff 00 18 00 00 23 20   # experimenter action, length 24, NX_VENDOR_ID
    00 23 00 01 00 00 00 00   # NXAST_CT, flags COMMIT, zone_src 0
    00 05 03 00 00 00 00 00   # zone 5, recirc_table 3, pad, alg 0
  `));
});

const base = '04 0e 00 70 00 00 00 09 0000000000001234 0000000000000000 0000000a00000064 ffffffffffffffff ffffffff00010000';
describe('malformed messages give the spec error', () => {
  malformed('shorter than a header', 'OFPBRC_BAD_LEN', [4, 5, 0, 8, 0]);
  malformed('length says more than there is', 'OFPBRC_BAD_LEN', [4, 5, 0, 16, 0, 0, 0, 1]);
  malformed('features request with a body', 'OFPBRC_BAD_LEN', hex('04 05 00 10 00000001 0000000000000000'));
  malformed('unknown type', 'OFPBRC_BAD_TYPE', hex('04 63 00 08 00 00 00 01'));
  malformed('OpenFlow 1.0 message after negotiation', 'OFPBRC_BAD_VERSION', hex('01 05 00 08 00 00 00 01'));
  malformed('unknown multipart type', 'OFPBRC_BAD_MULTIPART', hex('04 12 00 10 00000001 0063 0000 00000000'));
  malformed('unknown experimenter', 'OFPBRC_BAD_EXPERIMENTER', hex('04 04 00 10 00000001 12345678 00000001'));
  malformed('unknown ONF message', 'OFPBRC_BAD_EXP_TYPE', hex('04 04 00 10 00000001 4f4e4600 00000001'));
  malformed('flow mod with a bad command', 'OFPFMFC_BAD_COMMAND', hex('04 0e 00 38 00000001 0000000000000000 0000000000000000 00090000 00000064 ffffffffffffffff ffffffff00000000 0001000400000000'));
  malformed('flow mod with unknown flags', 'OFPFMFC_BAD_FLAGS', hex('04 0e 00 38 00000001 0000000000000000 0000000000000000 00000000 00000064 ffffffffffffffff ffffffff80000000 0001000400000000'));
  malformed('match of an unknown type', 'OFPBMC_BAD_TYPE', hex(`${base} 0007 0004 00000000`.replace('00 70', '00 38')));
  malformed('unknown OXM field', 'OFPBMC_BAD_FIELD', hex(`${base} 0001 0008 80007f00 `.replace('00 70', '00 38')));
  malformed('OXM length wrong for its field', 'OFPBMC_BAD_LEN', hex(`${base} 0001 000a 80000a04 08000000 000000 00`.replace('00 70', '00 40')));
  malformed('duplicate field', 'OFPBMC_DUP_FIELD', hex(`${base} 0001 0010 80000a02 0800 80000a02 0800`.replace('00 70', '00 40')));
  malformed('tcp_dst without ip_proto=6', 'OFPBMC_BAD_PREREQ', hex(`${base} 0001 000a 80001c02 0050 000000000000`.replace('00 70', '00 40')));
  malformed('a partial mask on a field that takes none', 'OFPBMC_BAD_MASK', hex(`${base} 0001 000c 80000b04 0800ff00 00000000`.replace('00 70', '00 40')));
  malformed('a value bit outside its mask', 'OFPBMC_BAD_WILDCARDS', hex(`${base} 0001 0016 80000a02 0800 80001908 0a000001 ff000000 0000`.replace('00 70', '00 48')));
  malformed('an OFPMT_STANDARD match of the wrong length', 'OFPBMC_BAD_LEN', hex(`${base} 0000 0004 00000000`.replace('00 70', '00 38')));
  malformed('set_field of IN_PORT', 'OFPBAC_BAD_SET_ARGUMENT', hex(`${base} 0001000400000000 00040018 00000000 00190010 80000004 00000001 00000000`.replace('00 70', '00 50')));
  malformed('unknown action', 'OFPBAC_BAD_TYPE', hex(`${base} 0001000400000000 00040010 00000000 00630008 00000000`.replace('00 70', '00 48')));
  malformed('action length not a multiple of 8', 'OFPBAC_BAD_LEN', hex(`${base} 0001000400000000 00040018 00000000 0000000c 00000002 00000000 00000000`.replace('00 70', '00 50')));
  malformed('unknown Nicira action', 'OFPBAC_BAD_EXP_TYPE', hex(`${base} 0001000400000000 00040018 00000000 ffff0010 00002320 00ff0000 00000000`.replace('00 70', '00 50')));
  malformed('unknown instruction', 'OFPBIC_UNKNOWN_INST', hex(`${base} 0001000400000000 00630008 00000000`.replace('00 70', '00 40')));
  malformed('set_field of an unknown field', 'OFPBAC_BAD_SET_TYPE', hex(`${base} 0001000400000000 00040018 00000000 00190010 80007f02 00000000 00000000`.replace('00 70', '00 50')));
  malformed('bad role', 'OFPRRFC_BAD_ROLE', hex('04 18 00 18 00000001 00000009 00000000 0000000000000000'));
  malformed('bad bundle control type', 'OFPBFC_BAD_TYPE', hex('04 04 00 18 00000001 4f4e4600 000008fc 00000001 00630000'));
});

describe('declarations', () => {
  test('struct sizes match the spec', () => {
    expect(port.size).toBe(64);
    expect(flowStats.fixedSize).toBe(48);
    expect(tableFeatures.fixedSize).toBe(64);
    expect(meterStats.fixedSize).toBe(40);
    expect(bucket.fixedSize).toBe(16);
  });
  test('message numbers are the spec ones', () => {
    expect(Object.fromEntries(messageRegistry.byTag)).toMatchObject({ 0: 'HELLO', 6: 'FEATURES_REPLY', 14: 'FLOW_MOD', 18: 'MULTIPART_REQUEST', 29: 'METER_MOD' });
  });
  test('OXM headers', () => {
    expect(oxmHeader('IN_PORT').toString(16)).toBe('80000004');
    expect(oxmHeader('IPV4_DST', true).toString(16)).toBe('80001908');
    expect(oxmHeader('NXM_NX_CT_STATE', true).toString(16)).toBe('1d308');
    expect(Object.values(oxmFields).filter((f) => f.oxmClass === 0x8000)).toHaveLength(40); // OF1.3 §7.2.3.7
    expect(oxmHeader('ONFOXM_ET_TCP_FLAGS', true).toString(16)).toBe('ffff5508'); // length counts the experimenter id
  });
  test('error reply carries the request start and the experimenter id', () => {
    const req = hex('04 04 00 18 00000007 4f4e4600 000008fc 00000001 00630000');
    const err = decodeMessage(req) as OfpError;
    const reply = errorReply(err, req);
    expect(toHex(encodeMessage(reply))).toBe(`04010028` + '00000007' + 'ffff' + '0902' + '4f4e4600' + toHex(req));
  });
});
