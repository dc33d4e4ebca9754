// src/kdp/format.ts — megaflows as `ovs-dpctl dump-flows` prints them (lib/odp-util.c's
// format), for `appctl dpctl/dump-flows`: a field whose mask is all ones prints its
// value, a partial mask value/mask, an all-zero mask nothing (eth() excepted, as OVS).
// Keys and actions outside this subset print as the attribute name with `(...)`.
import type { DumpedFlow } from './datapath.js';
import { OVS_CS_F, type OvsAction, type OvsKey } from './ovs.js';

/** C's %#x: "0" for zero, else 0x-prefixed. */
const hex = (n: number): string => (n ? `0x${n.toString(16)}` : '0');
const frag = ['no', 'first', 'later'];
const fragMasked = (v: number, m: number): string => (m === 0xff ? (frag[v] ?? String(v)) : m === 0 ? '' : v ? 'yes' : 'no');

function ctState(v: number, m: number): string {
  let out = '';
  for (const [name, bit] of Object.entries(OVS_CS_F)) if (m & bit) out += `${v & bit ? '+' : '-'}${name}`;
  return out;
}

/** "k=v" pairs of a struct, each under its own mask; omitted where the mask is zero. */
function fields(v: Record<string, unknown>, m: Record<string, unknown> | undefined, render: Record<string, (x: unknown, mask: unknown) => string | undefined>): string {
  const parts: string[] = [];
  for (const [name, fn] of Object.entries(render)) {
    const s = fn(v[name], m ? m[name] : undefined);
    if (s !== undefined) parts.push(`${name}=${s}`);
  }
  return parts.join(',');
}

const allOnes = (x: unknown): boolean => x === '255.255.255.255' || x === 'ff:ff:ff:ff:ff:ff' || x === 0xff || x === 0xffff || x === 0xffffffff;
const isZero = (x: unknown): boolean => x === undefined || x === 0 || x === '0.0.0.0' || x === '00:00:00:00:00:00';

/** A value under a mask: plain when exact (or unmasked), value/mask when partial (numeric masks in hex), nothing when wildcarded. */
function masked(fmt: (x: unknown) => string, full?: (m: unknown) => boolean) {
  return (x: unknown, mask: unknown): string | undefined => {
    if (mask === undefined || (full ? full(mask) : allOnes(mask))) return fmt(x);
    if (isZero(mask)) return undefined;
    return `${fmt(x)}/${typeof mask === 'number' ? hex(mask) : String(mask)}`;
  };
}
const plain = masked(String);
const hexed = masked((x) => hex(Number(x)));

function formatKey(k: OvsKey, m: OvsKey | undefined): string {
  const out: string[] = [];
  const scalar = (name: keyof OvsKey, fmt: (x: number) => string, maskAll: number): void => {
    const v = k[name] as number | undefined;
    if (v === undefined) return;
    const mk = m ? ((m[name] as number | undefined) ?? 0) : maskAll;
    if (mk === 0) return;
    out.push(mk === maskAll ? `${name}(${fmt(v)})` : `${name}(${fmt(v)}/${hex(mk)})`);
  };
  scalar('recirc_id', (x) => (x ? hex(x) : '0'), 0xffffffff);
  scalar('dp_hash', (x) => (x ? hex(x) : '0'), 0xffffffff);
  scalar('skb_priority', (x) => (x ? hex(x) : '0'), 0xffffffff);
  scalar('in_port', String, 0xffffffff);
  scalar('skb_mark', (x) => (x ? hex(x) : '0'), 0xffffffff);
  if (k.ct_state !== undefined) {
    const mk = m ? (m.ct_state ?? 0) : 0xff;
    if (mk) out.push(`ct_state(${ctState(k.ct_state, mk)})`);
  }
  scalar('ct_zone', (x) => (x ? hex(x) : '0'), 0xffff);
  scalar('ct_mark', (x) => (x ? hex(x) : '0'), 0xffffffff);
  if (k.ct_label) {
    const mk = m?.ct_label;
    if (!mk || mk.some((b) => b)) {
      const v = BigInt(`0x${Buffer.from(k.ct_label).reverse().toString('hex')}`);
      out.push(`ct_label(${v ? `0x${v.toString(16)}` : '0'})`);
    }
  }
  if (k.eth) {
    out.push(`eth(${fields(k.eth, m?.eth, { src: masked(String), dst: masked(String) })})`);
  }
  if (k.eth_type !== undefined) {
    const mk = m ? (m.eth_type ?? 0) : 0xffff;
    if (mk) out.push(`eth_type(0x${k.eth_type.toString(16).padStart(4, '0')})`);
  }
  // With a mask, an attribute the mask lacks is wildcarded whole: not printed.
  const shown = (name: keyof OvsKey): boolean => !m || m[name] !== undefined;
  if (k.ipv4 && shown('ipv4')) {
    const s = fields(k.ipv4, m?.ipv4, {
      src: plain,
      dst: plain,
      proto: plain,
      tos: hexed,
      ttl: plain,
      frag: (x, mk) => {
        const r = fragMasked(Number(x), mk === undefined ? 0xff : Number(mk));
        return r || undefined;
      },
    });
    if (s || !m) out.push(`ipv4(${s})`);
  }
  if (k.arp && shown('arp')) {
    const s = fields(k.arp, m?.arp, { sip: plain, tip: plain, op: masked(String, (x) => x === 0xffff), sha: plain, tha: plain });
    if (s || !m) out.push(`arp(${s})`);
  }
  for (const l4 of ['tcp', 'udp', 'sctp'] as const) {
    const v = k[l4];
    if (v && shown(l4)) {
      const s = fields(v, m?.[l4], { src: plain, dst: plain });
      if (s || !m) out.push(`${l4}(${s})`);
    }
  }
  if (k.icmp && shown('icmp')) {
    const s = fields(k.icmp, m?.icmp, { type: plain, code: plain });
    if (s || !m) out.push(`icmp(${s})`);
  }
  return out.join(',');
}

function formatCt(ct: Extract<OvsAction, { ct: unknown }>['ct']): string {
  const parts: string[] = [];
  if (ct.commit) parts.push('commit');
  if (ct.force_commit) parts.push('force_commit');
  if (ct.zone !== undefined) parts.push(`zone=${ct.zone}`);
  if (ct.mark) parts.push(`mark=${hex(ct.mark.value)}/${hex(ct.mark.mask)}`);
  if (ct.helper) parts.push(`helper=${ct.helper}`);
  if (ct.nat) {
    const n = ct.nat;
    const kind = n.src ? 'src' : n.dst ? 'dst' : '';
    let range = '';
    if (n.ip_min) range = n.ip_min + (n.ip_max && n.ip_max !== n.ip_min ? `-${n.ip_max}` : '');
    if (n.proto_min) range += `:${n.proto_min}` + (n.proto_max && n.proto_max !== n.proto_min ? `-${n.proto_max}` : '');
    parts.push(kind ? `nat(${kind}${range ? `=${range}` : ''})` : 'nat');
  }
  return parts.length ? `ct(${parts.join(',')})` : 'ct';
}

export function formatActions(actions: readonly OvsAction[]): string {
  if (!actions.length) return 'drop';
  return actions
    .map((a) => {
      if ('output' in a) return String(a.output);
      if ('recirc' in a) return `recirc(${hex(a.recirc)})`;
      if ('ct' in a) return formatCt(a.ct);
      if ('ct_clear' in a) return 'ct_clear';
      if ('meter' in a) return `meter(${a.meter})`;
      if ('pop_vlan' in a) return 'pop_vlan';
      if ('push_vlan' in a) return `push_vlan(vid=${a.push_vlan.vlan_tci & 0xfff},pcp=${a.push_vlan.vlan_tci >> 13})`;
      if ('userspace' in a) return `userspace(pid=${a.userspace.pid ?? 0})`;
      if ('set' in a) return `set(${formatKey(a.set, undefined)})`;
      if ('set_masked' in a) return `set(${formatKey(a.set_masked.value, a.set_masked.mask)})`;
      return `${Object.keys(a)[0] ?? '?'}(...)`;
    })
    .join(',');
}

/** One line as ovs-dpctl dump-flows prints it; `nowMs` (CLOCK_MONOTONIC) gives "used". */
export function formatFlow(f: DumpedFlow, nowMs?: bigint): string {
  const used = f.used === undefined ? 'never' : nowMs === undefined ? `${f.used}ms` : `${(Number(nowMs - f.used) / 1000).toFixed(3)}s`;
  return `${formatKey(f.key, f.mask)}, packets:${f.packets}, bytes:${f.bytes}, used:${used}, actions:${formatActions(f.actions)}`;
}
