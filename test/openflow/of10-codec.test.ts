// test/openflow/of10-codec.test.ts — OpenFlow 1.0: decode(encode(m)) = m for generated
// messages of every declared 1.0 type (generators derived from the declarations, as for
// 1.3), hostile bytes give a message or an OfpError, and the 1.0 <-> model mappings keep
// what 1.0 can say.
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { decodeMessage10, encodeMessage10, errorReply10, message10Registry, OfpError, OFPFW10, type Message10, type Match10 } from '../../proto/openflow/index.js';
import { matchFrom10, matchTo10, messageTo10, port16, port32 } from '../../src/openflow/of10.js';
import { rowArb } from './arbitrary.js';

const types = Object.keys(message10Registry.rows);
const arb = (type: string) => rowArb(type, message10Registry.rows[type]!) as fc.Arbitrary<Message10>;

describe('1.0: decode(encode(m)) = m', () => {
  test.each(types)('%s', (type) => {
    fc.assert(
      fc.property(arb(type), (m) => {
        expect(decodeMessage10(encodeMessage10(m))).toEqual(m);
      }),
      { numRuns: 100 },
    );
  });
});

function neverThrows(bytes: Uint8Array): boolean {
  const got = decodeMessage10(bytes);
  if (!(got instanceof OfpError)) encodeMessage10(got);
  return true;
}

describe('1.0: hostile bytes', () => {
  test('random bytes with a plausible header', () => {
    fc.assert(
      fc.property(fc.nat(24), fc.uint8Array({ maxLength: 200 }), (type, body) => {
        const b = new Uint8Array(8 + body.length);
        b.set([1, type, (b.length >> 8) & 0xff, b.length & 0xff, 0, 0, 0, 1]);
        b.set(body, 8);
        return neverThrows(b);
      }),
      { numRuns: 2000 },
    );
  });

  test('truncated and mutated valid messages', () => {
    const any = fc.constantFrom(...types).chain(arb);
    fc.assert(
      fc.property(any, fc.nat(), fc.array(fc.tuple(fc.nat(), fc.nat(255)), { maxLength: 4 }), (m, cut, flips) => {
        const full = encodeMessage10(m);
        const len = 8 + (cut % (full.length - 7));
        const b = full.slice(0, len);
        for (const [at, v] of flips) if (len > 8) b[8 + (at % (len - 8))] = v;
        b[2] = len >> 8;
        b[3] = len & 0xff;
        return neverThrows(b);
      }),
      { numRuns: 2000 },
    );
  });

  test('errors name the 1.0 type and code', () => {
    // A FLOW_MOD one byte short: OFPBRC_BAD_LEN, (1,6) in 1.0.
    const m = encodeMessage10({ type: 'BARRIER_REQUEST', xid: 9 });
    const bad = new Uint8Array([...m.subarray(0, 1), 14, 0, 71, ...m.subarray(4), ...new Uint8Array(63)]);
    const e = decodeMessage10(bad);
    expect(e).toBeInstanceOf(OfpError);
    expect(errorReply10(e as OfpError, bad)).toMatchObject({ type: 'ERROR', xid: 9, err_type: 1, code: 6 });
    // A Nicira vendor error (OFPBMC_BAD_PREREQ has no standard 1.0 code): NXET_VENDOR + nx_vendor_error.
    const v = errorReply10('OFPBMC_BAD_PREREQ', m);
    expect(v).toMatchObject({ err_type: 0xb0c2, code: 0 });
    expect([...(v as { data: Uint8Array }).data.subarray(0, 8)]).toEqual([0, 0, 0x23, 0x20, 0, 1, 1, 4]);
  });
});

describe('1.0 <-> model', () => {
  test('16-bit ports map to the 32-bit model and back', () => {
    fc.assert(
      fc.property(fc.nat(0xffff), (p) => port16(port32(p)) === p),
    );
    expect(port32(0xfffe)).toBe(0xfffffffe);
    expect(port16(0x10000)).toBeUndefined();
  });

  test('an ofp_match the model can hold comes back the same', () => {
    const tcp: Match10 = {
      wildcards: OFPFW10.DL_VLAN_PCP | OFPFW10.NW_TOS | (8 << OFPFW10.NW_DST_SHIFT),
      in_port: 3,
      dl_src: '00:00:00:00:00:01',
      dl_dst: '00:00:00:00:00:02',
      dl_vlan: 0xffff,
      dl_vlan_pcp: 0,
      dl_type: 0x0800,
      nw_tos: 0,
      nw_proto: 6,
      nw_src: 0x0a000001,
      nw_dst: 0x0a000000,
      tp_src: 80,
      tp_dst: 443,
    };
    expect(matchFrom10(tcp)).toEqual([
      { field: 'IN_PORT', value: 3 },
      { field: 'ETH_DST', value: '00:00:00:00:00:02' },
      { field: 'ETH_SRC', value: '00:00:00:00:00:01' },
      { field: 'ETH_TYPE', value: 0x0800 },
      { field: 'VLAN_VID', value: 0 },
      { field: 'IP_PROTO', value: 6 },
      { field: 'IPV4_SRC', value: '10.0.0.1' },
      { field: 'IPV4_DST', value: '10.0.0.0', mask: '255.255.255.0' },
      { field: 'TCP_SRC', value: 80 },
      { field: 'TCP_DST', value: 443 },
    ]);
    expect(matchTo10(matchFrom10(tcp))).toEqual(tcp);
  });

  test('fields 1.0 has no place for are left out of FLOW_REMOVED, not refused', () => {
    const m = messageTo10({
      type: 'FLOW_REMOVED',
      xid: 0,
      cookie: 1n,
      priority: 5,
      reason: 3,
      table_id: 1,
      duration_sec: 1,
      duration_nsec: 2,
      idle_timeout: 0,
      hard_timeout: 0,
      packet_count: 0n,
      byte_count: 0n,
      match: [{ field: 'METADATA', value: 5n }, { field: 'ETH_TYPE', value: 0x86dd }],
    });
    expect(m).toMatchObject({ type: 'FLOW_REMOVED', reason: 2, match: { wildcards: OFPFW10.ALL & ~OFPFW10.DL_TYPE, dl_type: 0x86dd } });
  });
});
