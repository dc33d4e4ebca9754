// test/kdp/codec.test.ts — the OVS generic netlink declarations against bytes laid out
// by hand from include/uapi/linux/openvswitch.h (host order = little-endian here), the
// round trip of keys and actions, and what the host (no openvswitch module) answers.
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { decodeAttrs, decodeList, encodeAttrs, encodeList } from '../../src/kdp/attr.js';
import { kernelDatapathAvailable } from '../../src/kdp/datapath.js';
import { resolveFamily } from '../../src/kdp/genl.js';
import { ovs_action_attr, ovs_flow_attr, ovs_key_attr, type OvsAction, type OvsKey } from '../../src/kdp/ovs.js';
import { outputsToActions } from '../../src/kdp/translate.js';

/** Fixture bytes: each line's hex digits up to its comment (two spaces, then words). */
const hex = (s: string): Buffer =>
  Buffer.from(
    s
      .split('\n')
      .map((l) => l.trim().split(/\s{2,}/)[0]!.replace(/\s+/g, ''))
      .join(''),
    'hex',
  );

describe('ovs_key_attr', () => {
  const key: OvsKey = {
    in_port: 2,
    eth: { src: '02:00:00:00:00:01', dst: '02:00:00:00:00:02' },
    eth_type: 0x0800,
    ipv4: { src: '10.0.0.1', dst: '10.0.0.2', proto: 1, tos: 0, ttl: 64, frag: 0 },
    icmp: { type: 8, code: 0 },
  };
  const bytes = hex(`
    0800 0300 02000000                         in_port: len 8, type 3, u32 2
    1000 0400 020000000001 020000000002        eth: len 16, type 4, src then dst
    0600 0600 0800 0000                        eth_type: len 6, type 6, be16 0x0800, 2 bytes pad
    1000 0700 0a000001 0a000002 01 00 40 00    ipv4: src, dst, proto 1, tos 0, ttl 64, frag no
    0600 0b00 08 00 0000                       icmp: type 8 code 0, pad
  `);

  test('encodes in declaration order with 4-byte padding', () => {
    expect(encodeAttrs(ovs_key_attr, key).toString('hex')).toBe(bytes.toString('hex'));
  });

  test('decodes back', () => {
    expect(decodeAttrs(ovs_key_attr, bytes)).toEqual(key);
  });

  test('an encap nest holds the inner key (802.1Q)', () => {
    const vlan: OvsKey = { in_port: 1, eth_type: 0x8100, vlan: 0x100a, encap: { eth_type: 0x0806 } };
    const b = encodeAttrs(ovs_key_attr, vlan);
    // first in declaration order: type 1 with NLA_F_NESTED (0x8000), the inner eth_type
    expect(b.subarray(0, 12).toString('hex')).toBe('0c000180' + '06000600' + '08060000');
    expect(decodeAttrs(ovs_key_attr, b)).toEqual(vlan);
  });

  test('ct_tuple4 and arp have their sizeof (tail padding included)', () => {
    const b = encodeAttrs(ovs_key_attr, {
      arp: { sip: '1.2.3.4', tip: '5.6.7.8', op: 1, sha: '02:00:00:00:00:01', tha: '00:00:00:00:00:00' },
      ct_tuple4: { src: '1.2.3.4', dst: '5.6.7.8', src_port: 1, dst_port: 2, proto: 6 },
    });
    expect(b.readUInt16LE(0)).toBe(4 + 24);
    expect(b.readUInt16LE(28)).toBe(4 + 16);
  });
});

describe('ovs_action_attr', () => {
  const actions: OvsAction[] = [
    { ct: { commit: true, zone: 7, nat: { src: true, ip_min: '192.0.2.9', ip_max: '192.0.2.9' } } },
    { set_masked: { value: { ipv4: { src: '0.0.0.0', dst: '0.0.0.0', proto: 0, tos: 0, ttl: 63, frag: 0 } }, mask: { ipv4: { src: '0.0.0.0', dst: '0.0.0.0', proto: 0, tos: 0, ttl: 255, frag: 0 } } } },
    { push_vlan: { vlan_tpid: 0x8100, vlan_tci: 0x100a } },
    { recirc: 77 },
    { output: 2 },
    { output: 3 },
  ];

  test('a list keeps order and repeats', () => {
    const b = encodeList(ovs_action_attr, actions);
    expect(decodeList(ovs_action_attr, b)).toEqual(actions);
  });

  test('output, recirc and ct(commit,zone) as the kernel reads them', () => {
    const b = encodeList(ovs_action_attr, [{ ct: { commit: true, zone: 7 } }, { recirc: 77 }, { output: 2 }]);
    expect(b.toString('hex')).toBe(
      [
        '1000 0c80', // ct: len 16, type 12 | NESTED
        '0400 0100', // commit: flag
        '0600 0200 0700 0000', // zone: u16 7, pad
        '0800 0700 4d000000', // recirc: u32 77
        '0800 0100 02000000', // output: u32 2
      ]
        .join('')
        .replace(/\s+/g, ''),
    );
  });

  test('set_masked carries value then mask in one key attribute', () => {
    const b = encodeList(ovs_action_attr, [actions[1]!]);
    expect(b.readUInt16LE(0)).toBe(4 + 4 + 24); // the action, the ipv4 attr, 12 + 12 bytes
    expect(b.readUInt16LE(2)).toBe(11 | 0x8000);
  });
});

test('flow attributes round-trip (property)', () => {
  const mac = fc.array(fc.integer({ min: 0, max: 255 }), { minLength: 6, maxLength: 6 }).map((b) => b.map((x) => x.toString(16).padStart(2, '0')).join(':'));
  const ip = fc.array(fc.integer({ min: 0, max: 255 }), { minLength: 4, maxLength: 4 }).map((b) => b.join('.'));
  const keyArb = fc.record(
    {
      in_port: fc.integer({ min: 0, max: 0xffff }),
      recirc_id: fc.nat(),
      ct_state: fc.integer({ min: 0, max: 0xff }),
      ct_zone: fc.integer({ min: 0, max: 0xffff }),
      eth: fc.record({ src: mac, dst: mac }),
      eth_type: fc.integer({ min: 0, max: 0xffff }),
      ipv4: fc.record({ src: ip, dst: ip, proto: fc.integer({ min: 0, max: 255 }), tos: fc.integer({ min: 0, max: 255 }), ttl: fc.integer({ min: 0, max: 255 }), frag: fc.integer({ min: 0, max: 2 }) }),
      tcp: fc.record({ src: fc.integer({ min: 0, max: 0xffff }), dst: fc.integer({ min: 0, max: 0xffff }) }),
    },
    { requiredKeys: [] },
  );
  const actionArb = fc.oneof(
    fc.record({ output: fc.integer({ min: 0, max: 0xffff }) }),
    fc.record({ recirc: fc.nat() }),
    fc.record({ ct: fc.record({ commit: fc.constant(true as const), zone: fc.integer({ min: 0, max: 0xffff }) }, { requiredKeys: [] }) }),
    fc.record({ pop_vlan: fc.constant(true as const) }),
  );
  fc.assert(
    fc.property(keyArb, keyArb, fc.array(actionArb, { maxLength: 6 }), (key, mask, actions) => {
      const f = { key, mask, actions: actions as OvsAction[], stats: { n_packets: 3n, n_bytes: 300n }, used: 5n };
      expect(decodeAttrs(ovs_flow_attr, encodeAttrs(ovs_flow_attr, f))).toEqual(f);
    }),
    { numRuns: 200 },
  );
});

test('a truncated attribute is an error naming the set', () => {
  const b = encodeAttrs(ovs_key_attr, { in_port: 1 });
  expect(() => decodeAttrs(ovs_key_attr, b.subarray(0, 6))).toThrow(/ovs_key_attr: attribute 3 length 8 runs past/);
});

describe('interpreter outputs → kernel actions', () => {
  const frame = hex(`
    020000000002 020000000001 0800
    4500 001c 0001 0000 4011 0000 0a000001 0a000002
    04d2 0035 0008 0000
  `);
  test('an unchanged frame is a plain output; a rewritten one sets what changed', () => {
    expect(outputsToActions(frame, [{ port: 2, frame }])).toEqual([{ output: 2 }]);
    const out = Buffer.from(frame);
    out[14 + 8] = 63; // ttl
    out.writeUInt16BE(53535, 34 + 2); // udp dst
    expect(outputsToActions(frame, [{ port: 3, frame: out }])).toEqual([
      { set_masked: { value: { ipv4: { src: '0.0.0.0', dst: '0.0.0.0', proto: 0, tos: 0, ttl: 63, frag: 0 } }, mask: { ipv4: { src: '0.0.0.0', dst: '0.0.0.0', proto: 0, tos: 0, ttl: 255, frag: 0 } } } },
      { set_masked: { value: { udp: { src: 0, dst: 53535 } }, mask: { udp: { src: 0, dst: 0xffff } } } },
      { output: 3 },
    ]);
  });
  test('a change beyond set actions is untranslatable', () => {
    const out = Buffer.from(frame);
    out[14 + 5] = 9; // IP identification: no set action writes it
    expect(outputsToActions(frame, [{ port: 2, frame: out }])).toBeUndefined();
  });
});

describe('on this host', () => {
  test('generic netlink works: nlctrl resolves itself', async () => {
    const f = await resolveFamily('nlctrl');
    expect(f.id).toBe(0x10);
    expect(f.groups.get('notify')).toBeGreaterThan(0);
  });

  test('without the openvswitch module the kernel datapath is reported unavailable', async () => {
    const ovs = await resolveFamily('ovs_datapath').then(
      () => 'present',
      (e: { code?: string }) => e.code,
    );
    expect(await kernelDatapathAvailable()).toBe(ovs === 'present');
    if (ovs !== 'present') expect(ovs).toBe('ENOENT');
  });
});
