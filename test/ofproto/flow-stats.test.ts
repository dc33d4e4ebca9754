// test/ofproto/flow-stats.test.ts — OFPMP_FLOW items write themselves (src/ofproto/flow-stats.ts):
// the bytes must be those the declared codec writes for the same values, for every kind of
// OXM field (mac, ipv4, ipv6, uint with and without bits, 8 and 16 bytes, Nicira and ONF
// experimenter), masked and exact, with shared and distinct instruction lists.
import { describe, expect, test } from 'vitest';
import type { FlowStats } from '../../proto/openflow/multipart.js';
import type { OxmEntry } from '../../proto/openflow/oxm.js';
import { decodeMessage } from '../../src/openflow/index.js';
import { encodeMultipartReply } from '../../src/openflow/multipart-split.js';
import { applyFlowMod, flowStats } from '../../src/ofproto/flow-mod.js';
import { createPipeline } from '../../src/ofproto/pipeline.js';
import { apply, flowMod, output } from './helpers.js';

const all = { table_id: 0xff, out_port: 0xffffffff, out_group: 0xffffffff, cookie: 0n, cookie_mask: 0n, match: [] };
const ip4 = { field: 'ETH_TYPE', value: 0x0800 } as const;
const ip6 = { field: 'ETH_TYPE', value: 0x86dd } as const;

const matches: OxmEntry[][] = [
  [],
  [{ field: 'IN_PORT', value: 7 }],
  [{ field: 'METADATA', value: 0x1122000055660000n, mask: 0xffff0000ffff0000n }],
  [{ field: 'ETH_DST', value: '01:00:5e:00:00:00', mask: 'ff:ff:ff:80:00:00' }, { field: 'ETH_SRC', value: '02:00:00:00:00:01' }],
  [{ field: 'VLAN_VID', value: 0x1000 | 42 }, { field: 'VLAN_PCP', value: 5 }],
  [ip4, { field: 'IPV4_SRC', value: '10.1.2.3' }, { field: 'IPV4_DST', value: '192.168.0.0', mask: '255.255.0.0' }, { field: 'IP_DSCP', value: 46 }],
  [ip4, { field: 'IP_PROTO', value: 6 }, { field: 'TCP_DST', value: 443 }, { field: 'ONFOXM_ET_TCP_FLAGS', value: 0x2, mask: 0x12 }],
  [ip6, { field: 'IPV6_SRC', value: '2001:db8::1' }, { field: 'IPV6_DST', value: 'fe80::', mask: 'ffff:ffff::' }, { field: 'IPV6_FLABEL', value: 0x12345 }],
  [{ field: 'TUNNEL_ID', value: 0xdeadbeefn }, { field: 'NXM_NX_REG3', value: 9, mask: 0xff }],
  [{ field: 'NXM_NX_CT_STATE', value: 0x22, mask: 0x22 }, { field: 'NXM_NX_CT_LABEL', value: 1n << 100n, mask: 1n << 100n }],
  [ip4, { field: 'IP_PROTO', value: 17 }, { field: 'UDP_SRC', value: 53 }],
];

describe('OFPMP_FLOW items that write themselves', () => {
  test('write the bytes the codec writes for the same values, and decode to them', () => {
    const p = createPipeline();
    let added = 0;
    matches.forEach((match, i) => {
      for (const table_id of [0, 3]) {
        const r = applyFlowMod(
          p,
          flowMod({ table_id, priority: 100 + i, cookie: BigInt(i) << 40n, idle_timeout: i, hard_timeout: 2 * i, match, instructions: i % 3 ? [apply(output(i))] : [apply(output(1)), { type: 'GOTO_TABLE', table_id: 5 }] }),
          0,
        );
        expect(r.error).toBeUndefined();
        added++;
      }
    });
    expect(added).toBe(2 * matches.length);
    for (const e of p.tables[0]!.entries) {
      e.packet_count = BigInt(e.id) * 1000n;
      e.byte_count = (1n << 50n) + BigInt(e.id);
    }
    const items = flowStats(p, all, 123_456) as FlowStats[];
    expect(items).toHaveLength(added);
    // The same values as plain objects take the codec's own writer.
    const plain: FlowStats[] = items.map((x) => ({ ...x, match: x.match }));
    const fast = encodeMultipartReply({ type: 'MULTIPART_REPLY', xid: 9, body: { type: 'FLOW', flags: 0, flows: items } });
    const slow = encodeMultipartReply({ type: 'MULTIPART_REPLY', xid: 9, body: { type: 'FLOW', flags: 0, flows: plain } });
    expect(Buffer.concat(fast).toString('hex')).toBe(Buffer.concat(slow).toString('hex'));
    const back = decodeMessage(fast[0]!);
    expect(back.type === 'MULTIPART_REPLY' && back.body.type === 'FLOW' ? back.body.flows : undefined).toEqual(plain);
  });

  test('a reply of many items is cut into parts the same way', () => {
    const p = createPipeline();
    for (let i = 0; i < 3000; i++) applyFlowMod(p, flowMod({ priority: i % 7, match: [ip4, { field: 'IPV4_DST', value: `10.0.${i >> 8}.${i & 255}` }], instructions: [apply(output(1 + (i % 3)))] }), 0);
    const items = flowStats(p, all, 5) as FlowStats[];
    const fast = encodeMultipartReply({ type: 'MULTIPART_REPLY', xid: 1, body: { type: 'FLOW', flags: 0, flows: items } });
    const slow = encodeMultipartReply({ type: 'MULTIPART_REPLY', xid: 1, body: { type: 'FLOW', flags: 0, flows: items.map((x) => ({ ...x, match: x.match })) } });
    expect(fast.length).toBeGreaterThan(1);
    expect(fast.map((b) => Buffer.from(b).toString('hex'))).toEqual(slow.map((b) => Buffer.from(b).toString('hex')));
  });
});
