// Every struct declared in proto/datapath must match, field by field, the BTF that clang
// emitted for the BPF object: the generated header and codecs cannot drift from the C.
import { existsSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { sizeOf, type StructType } from '../../proto/lib/cstruct.js';
import * as dp from '../../proto/datapath/maps.js';
import { bpfObjectPath } from '../../src/native/paths.js';
import * as gen from '../../src/datapath/gen/maps.js';
import { run } from '../harness/exec.js';

interface BtfMember {
  name: string;
  bits_offset: number;
}
interface BtfType {
  id: number;
  kind: string;
  name?: string;
  size?: number;
  members?: BtfMember[];
  type_id?: number;
  nr_elems?: number;
}

async function btfTypes(object: string): Promise<BtfType[]> {
  const out = await run(['bpftool', '-j', 'btf', 'dump', 'file', object]);
  return (JSON.parse(out.stdout) as { types: BtfType[] }).types;
}

describe('map layouts', () => {
  const object = bpfObjectPath('xdpswitch');

  test.each(dp.structs.map((s) => [s.name, s] as [string, StructType]))('struct %s matches the object BTF', async (_name, s) => {
    expect(existsSync(object), `${object} not built`).toBe(true);
    const types = await btfTypes(object);
    const t = types.find((x) => x.kind === 'STRUCT' && x.name === s.name);
    expect(t, `struct ${s.name} not in ${object}`).toBeDefined();
    expect(t!.size).toBe(s.size);
    expect(t!.members!.map((m) => [m.name, m.bits_offset / 8])).toEqual(s.fields.map((f) => [f.name, f.offset]));
  });

  test('every declared map exists in the object with its key and value sizes', async () => {
    const types = await btfTypes(object);
    const byId = new Map(types.map((t) => [t.id, t]));
    for (const [name, m] of Object.entries(dp.maps)) {
      const v = types.find((t) => t.kind === 'VAR' && t.name === name);
      expect(v, `map ${name} not in object`).toBeDefined();
      const def = byId.get(v!.type_id!);
      const members = new Set(def?.members?.map((x) => x.name));
      if ('key' in m) expect(members.has('key')).toBe(true);
      if ('value' in m) expect(members.has('value')).toBe(true);
    }
  });

  test('generated codecs round-trip and use the declared sizes', () => {
    expect(sizeOf(dp.port)).toBe(gen.XSW_PORT_SIZE);
    const port = { action: gen.XswPortAction.XSW_PORT_REDIRECT, out_ifindex: 7, ofport: 3, flags: 0 };
    const bytes = gen.encodeXswPort(port);
    expect(bytes.toString('hex')).toBe('02000000' + '07000000' + '03000000' + '00000000');
    expect(gen.decodeXswPort(bytes)).toEqual(port);
    const stats = { rx_packets: 1n, rx_bytes: 2n ** 40n, tx_packets: 3n, tx_bytes: 4n, drops: 5n, upcalls: 6n };
    expect(gen.decodeXswPortStats(gen.encodeXswPortStats(stats))).toEqual(stats);
    expect(() => gen.decodeXswPort(Buffer.alloc(8))).toThrow(RangeError);
  });
});
