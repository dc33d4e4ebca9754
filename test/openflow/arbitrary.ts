// test/openflow/arbitrary.ts — fast-check generators derived from the proto/openflow
// declarations: walk a struct's fields or a registry's rows and generate each codec's
// values, so every declared message type gets generated without a hand-kept twin.
import fc from 'fast-check';
import {
  actions10,
  encodeMessage,
  formatIpv6,
  formatMac,
  parseIpv6,
  parseMac,
  messageRegistry,
  oxmFields,
  type Codec,
  type CodecMeta,
  type Message,
  type OxmEntry,
  type OxmName,
  type OxmRow,
  type Registry,
  type Row,
  type Struct,
} from '../../proto/openflow/index.js';

type Arb = fc.Arbitrary<unknown>;
const small = { maxLength: 3 };

function uintArb(bits: number): fc.Arbitrary<number | bigint> {
  if (bits > 32) return fc.bigInt({ min: 0n, max: (1n << BigInt(bits)) - 1n });
  return fc.integer({ min: 0, max: 2 ** bits - 1 });
}

function oxmValueArb(row: OxmRow): Arb {
  switch (row.kind) {
    case 'mac':
      return fc.uint8Array({ minLength: 6, maxLength: 6 }).map(formatMac);
    case 'ipv4':
      return fc.tuple(fc.nat(255), fc.nat(255), fc.nat(255), fc.nat(255)).map((a) => a.join('.'));
    case 'ipv6':
      return fc.uint8Array({ minLength: 16, maxLength: 16 }).map(formatIpv6);
    case 'uint':
      return uintArb(row.bits ?? row.width * 8);
  }
}

function entryArb(field: OxmName, maskable: boolean): fc.Arbitrary<OxmEntry> {
  const row: OxmRow = oxmFields[field];
  const v = oxmValueArb(row) as fc.Arbitrary<OxmEntry['value']>;
  if (!maskable) return v.map((value) => ({ field, value }));
  // Masked values carry no bit outside their mask (else OFPBMC_BAD_WILDCARDS); a field
  // that takes no mask accepts only the all-ones one.
  const mask = row.maskable ? v : fc.constant(allOnes(row));
  return fc.tuple(v, fc.option(mask, { nil: undefined })).map(([value, m]) => (m === undefined ? { field, value } : { field, value: andValue(row, value, m), mask: m }));
}

function allOnes(row: OxmRow): OxmEntry['value'] {
  switch (row.kind) {
    case 'mac':
      return 'ff:ff:ff:ff:ff:ff';
    case 'ipv4':
      return '255.255.255.255';
    case 'ipv6':
      return formatIpv6(new Uint8Array(16).fill(0xff));
    case 'uint':
      return row.width <= 4 ? 2 ** (row.width * 8) - 1 : (1n << BigInt(row.width * 8)) - 1n;
  }
}

function andValue(row: OxmRow, v: OxmEntry['value'], m: OxmEntry['value']): OxmEntry['value'] {
  switch (row.kind) {
    case 'uint':
      return typeof v === 'bigint' ? v & (m as bigint) : Number((BigInt(v) & BigInt(m)) >> 0n);
    case 'mac':
      return formatMac(Uint8Array.from(parseMac(v as string), (x, i) => x & parseMac(m as string)[i]!));
    case 'ipv4':
      return (v as string).split('.').map((x, i) => Number(x) & Number((m as string).split('.')[i])).join('.');
    case 'ipv6':
      return formatIpv6(Uint8Array.from(parseIpv6(v as string), (x, i) => x & parseIpv6(m as string)[i]!));
  }
}

/** Prerequisite chains that can be true together; fields whose prerequisites they meet are added at random. */
const chains: OxmEntry[][] = [
  [],
  [{ field: 'ETH_TYPE', value: 0x0800 }, { field: 'IP_PROTO', value: 6 }],
  [{ field: 'ETH_TYPE', value: 0x0800 }, { field: 'IP_PROTO', value: 17 }],
  [{ field: 'ETH_TYPE', value: 0x0800 }, { field: 'IP_PROTO', value: 1 }],
  [{ field: 'ETH_TYPE', value: 0x86dd }, { field: 'IP_PROTO', value: 58 }, { field: 'ICMPV6_TYPE', value: 135 }],
  [{ field: 'ETH_TYPE', value: 0x86dd }, { field: 'IP_PROTO', value: 132 }],
  [{ field: 'ETH_TYPE', value: 0x0806 }],
  [{ field: 'ETH_TYPE', value: 0x8847 }, { field: 'VLAN_VID', value: 0x1005 }],
  [{ field: 'ETH_TYPE', value: 0x88e7 }, { field: 'IN_PORT', value: 1 }],
];

function satisfied(field: OxmName, chain: OxmEntry[]): boolean {
  const row: OxmRow = oxmFields[field];
  return (row.prereq ?? []).every((p) => {
    const have = chain.find((e) => e.field === p.field);
    if (!have) return false;
    if (p.bits !== undefined) return (Number(have.value) & p.bits) === p.bits;
    return !p.values || p.values.includes(Number(have.value));
  });
}

export const matchArb: fc.Arbitrary<OxmEntry[]> = fc.constantFrom(...chains).chain((chain) => {
  const fields = (Object.keys(oxmFields) as OxmName[]).filter((f) => !chain.some((e) => e.field === f) && satisfied(f, chain));
  return fc
    .subarray(fields, { maxLength: 4 })
    .chain((picked) => fc.tuple(...picked.map((f) => entryArb(f, true))))
    .chain((extra) => fc.shuffledSubarray([...chain, ...extra], { minLength: chain.length + extra.length }))
    .map((all) => all.map((e) => ({ ...e })));
});

const setFieldArb: fc.Arbitrary<OxmEntry> = fc.constantFrom(...(Object.keys(oxmFields) as OxmName[]).filter((f) => f !== 'IN_PORT')).chain((f) => entryArb(f, false));

/** Note bytes so the action stays a multiple of 8: 10-byte header + 6 + 8k. */
const noteArb = fc.integer({ min: 0, max: 2 }).chain((k) => fc.uint8Array({ minLength: 6 + 8 * k, maxLength: 6 + 8 * k }));
const rangeArb = fc.integer({ min: 0, max: 2 }).chain((k) => fc.uint8Array({ minLength: 8 * k, maxLength: 8 * k }));

const custom: Record<string, () => Arb> = {
  match: () => matchArb,
  setFieldOxm: () => setFieldArb,
  oxmIds: () => fc.array(fc.nat(0xffffffff), small),
  typeIds: () => fc.array(fc.nat(0xffff), small),
  pair: () => fc.tuple(fc.nat(0xffffffff), fc.nat(0xffffffff)),
  // clone()'s nested actions: a few plain outputs keep the recursion finite.
  actions: () => fc.array(fc.record({ type: fc.constant('OUTPUT'), port: fc.nat(0xffffffff), max_len: fc.nat(0xffff) }), small),
  innerMessage: () => fc.nat(0xffffffff).map((xid) => encodeMessage({ type: 'BARRIER_REQUEST', xid })),
  // OpenFlow 1.0's NXM bodies (proto/openflow/of10-nxm.ts): in_port is left out, as it
  // is read back first and widened to 32 bits.
  nxFlowStatsRequest: () => fc.record({ out_port: fc.nat(0xffff), table_id: fc.nat(255), match: nxMatchArb }),
  nxFlowStatsList: () => fc.array(nxFlowStatsArb(), small),
  nxFlowModBody: () =>
    fc.record({
      cookie: uintArb(64),
      command: fc.nat(0xffff),
      idle_timeout: fc.nat(0xffff),
      hard_timeout: fc.nat(0xffff),
      priority: fc.nat(0xffff),
      buffer_id: fc.nat(0xffffffff),
      out_port: fc.nat(0xffff),
      flags: fc.nat(0xffff),
      match: nxMatchArb,
      actions: arbOf(actions10),
    }),
};

const nxMatchArb = matchArb.filter((m) => !m.some((e) => e.field === 'IN_PORT'));
const nxFlowStatsArb = () =>
  fc.record({
    table_id: fc.nat(255),
    duration_sec: fc.nat(0xffffffff),
    duration_nsec: fc.nat(0xffffffff),
    priority: fc.nat(0xffff),
    idle_timeout: fc.nat(0xffff),
    hard_timeout: fc.nat(0xffff),
    idle_age: fc.nat(0xffff),
    hard_age: fc.nat(0xffff),
    cookie: uintArb(64),
    packet_count: uintArb(64),
    byte_count: uintArb(64),
    match: nxMatchArb,
    actions: arbOf(actions10),
  });

/** Per-field overrides where a declaration's value has a length rule of its parent. */
const fieldOverrides: Record<string, () => Arb> = {
  'nx_action_note.note': () => noteArb,
  'nx_action_nat.range': () => rangeArb,
  'onf_bundle_ctrl.properties': () => rangeArb,
  'nx_action_learn.specs': () => rangeArb,
  'onf_role_status.properties': () => rangeArb, // the message's length is a multiple of 8
};

const cache = new Map<Codec<unknown>, Arb>();
const depth = { n: 0 };

export function arbOf(c: Codec<unknown>): Arb {
  const hit = cache.get(c);
  if (hit) return hit;
  const a = build(c);
  cache.set(c, a);
  return a;
}

function build(c: Codec<unknown>): Arb {
  const meta = c.meta as CodecMeta | undefined;
  if (!meta) throw new Error('codec without meta');
  switch (meta.kind) {
    case 'uint':
      return uintArb(meta.bytes * 8);
    case 'bytes':
      return fc.uint8Array({ minLength: meta.n, maxLength: meta.n });
    case 'mac':
      return fc.uint8Array({ minLength: 6, maxLength: 6 }).map(formatMac);
    case 'str':
      return fc.string({ maxLength: Math.min(meta.n - 1, 12), unit: fc.constantFrom(...'abcXYZ019 -_'.split('')) });
    case 'rest':
      return fc.uint8Array(small);
    case 'array':
      return fc.array(arbOf(meta.item), small);
    case 'enum':
      return fc.constantFrom(...Object.keys(meta.values));
    case 'flags': {
      const bits = Object.values(meta.known);
      return fc.subarray(bits).map((b) => b.reduce((x, y) => x | y, 0));
    }
    case 'struct':
      return structArb(c as Struct<object>);
    case 'registry':
      return registryArb(c as Registry<unknown>);
    case 'list':
      return fc.array(
        fc.constant(null).chain(() => registryArb(meta.registry)),
        { maxLength: depth.n > 1 ? 0 : 2 },
      );
    case 'custom': {
      const f = custom[meta.name];
      if (!f) throw new Error(`no generator for ${meta.name}`);
      return f();
    }
  }
}

function structArb(s: Struct<object>): Arb {
  const rec: Record<string, Arb> = {};
  for (const [name, c] of s.fields) {
    if (name === '') continue;
    const o = fieldOverrides[`${s.name}.${name}`];
    rec[name] = o ? o() : arbOf(c);
  }
  return fc.record(rec);
}

function registryArb(reg: Registry<unknown>): Arb {
  return fc.oneof(...Object.entries(reg.rows).map(([name, row]) => rowArb(name, row)));
}

export function rowArb(name: string, row: Row): Arb {
  return structArb(row.body).map((v) => ({ type: name, ...(v as object) }));
}

/** A message of the named type. */
export function messageArb(type: string): fc.Arbitrary<Message> {
  return rowArb(type, messageRegistry.rows[type]!) as fc.Arbitrary<Message>;
}
export const messageTypes = Object.keys(messageRegistry.rows);
