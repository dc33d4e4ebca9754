// The BPF parser, run through BPF_PROG_RUN on frames crafted with scapy: the flow key
// it hands to userspace (in the upcall record) holds exactly the fields the frame has.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { Datapath } from '../../src/datapath/datapath.js';
import type { XswFlowKey, XswUpcall } from '../../src/datapath/gen/maps.js';
import { progRun, XdpAction } from '../../src/native/bpf.js';
import { scapyFrames } from '../harness/scapy.js';

const LO = 1; // the frames seem to arrive on lo; the port table maps it to ofport 7
const OFPORT = 7;

const mac = (b: Uint8Array) => [...b].map((x) => x.toString(16).padStart(2, '0')).join(':');
const ip4 = (be: number) => [24, 16, 8, 0].map((s) => (be >>> s) & 255).join('.');
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

/** The key as readable values (the codec already reads network-order fields), zeros left out. */
function readable(k: XswFlowKey): Record<string, string | number> {
  const out: Record<string, string | number> = {
    in_port: k.in_port,
    eth_dst: mac(k.eth_dst),
    eth_src: mac(k.eth_src),
    eth_type: k.eth_type,
    vlan_tci: k.vlan_tci,
    vlan_tpid: k.vlan_tpid,
    vlan2_tci: k.vlan2_tci,
    ip_proto: k.ip_proto,
    ip_tos: k.ip_tos,
    ip_ttl: k.ip_ttl,
    ip_frag: k.ip_frag,
    ipv4_src: ip4(k.ipv4_src),
    ipv4_dst: ip4(k.ipv4_dst),
    tp_src: k.tp_src,
    tp_dst: k.tp_dst,
    tcp_flags: k.tcp_flags,
    arp_op: k.arp_op,
    arp_sha: mac(k.arp_sha),
    arp_tha: mac(k.arp_tha),
    ipv6_label: k.ipv6_label,
    ipv6_src: hex(k.ipv6_src),
    ipv6_dst: hex(k.ipv6_dst),
    nd_target: hex(k.nd_target),
    mpls_lse: k.mpls_lse,
    ipv6_exthdr: k.ipv6_exthdr,
  };
  const zero = new Set(['0', '00:00:00:00:00:00', '0.0.0.0', '0'.repeat(32)]);
  return Object.fromEntries(Object.entries(out).filter(([, v]) => !zero.has(String(v))));
}

const A = '02:00:00:00:00:0a';
const B = '02:00:00:00:00:0b';
const L2 = { in_port: OFPORT, eth_dst: B, eth_src: A };
const v6 = (s: string) => Buffer.from(s.split(':').map((h) => h.padStart(4, '0')).join(''), 'hex').toString('hex');

const cases: { name: string; scapy: string; key: Record<string, string | number> }[] = [
  {
    name: 'IPv4 TCP with flags, TOS and TTL',
    scapy: `Ether(dst="${B}",src="${A}")/IP(src="10.1.2.3",dst="10.4.5.6",tos=0xb9,ttl=33)/TCP(sport=1234,dport=80,flags="SA")`,
    key: { ...L2, eth_type: 0x0800, ip_proto: 6, ip_tos: 0xb9, ip_ttl: 33, ipv4_src: '10.1.2.3', ipv4_dst: '10.4.5.6', tp_src: 1234, tp_dst: 80, tcp_flags: 0x012 },
  },
  {
    name: 'IPv4 with options, UDP after them',
    scapy: `Ether(dst="${B}",src="${A}")/IP(src="1.1.1.1",dst="2.2.2.2",ttl=64,options=[IPOption_RR()])/UDP(sport=53,dport=5353)`,
    key: { ...L2, eth_type: 0x0800, ip_proto: 17, ip_ttl: 64, ipv4_src: '1.1.1.1', ipv4_dst: '2.2.2.2', tp_src: 53, tp_dst: 5353 },
  },
  {
    name: 'two 802.1Q tags',
    scapy: `Ether(dst="${B}",src="${A}")/Dot1Q(vlan=10,prio=5)/Dot1Q(vlan=20)/IP(src="10.0.0.1",dst="10.0.0.2",ttl=1)/UDP(sport=1,dport=2)`,
    key: { ...L2, eth_type: 0x0800, vlan_tpid: 0x8100, vlan_tci: (5 << 13) | 0x1000 | 10, vlan2_tci: 0x1000 | 20, ip_proto: 17, ip_ttl: 1, ipv4_src: '10.0.0.1', ipv4_dst: '10.0.0.2', tp_src: 1, tp_dst: 2 },
  },
  {
    name: '802.1ad outer tag',
    scapy: `Ether(dst="${B}",src="${A}",type=0x88a8)/Dot1Q(vlan=100,type=0x8100)/Dot1Q(vlan=200)/ARP(op=2,psrc="10.0.0.9",pdst="10.0.0.8",hwsrc="${A}",hwdst="${B}")`,
    key: { ...L2, eth_type: 0x0806, vlan_tpid: 0x88a8, vlan_tci: 0x1000 | 100, vlan2_tci: 0x1000 | 200, arp_op: 2, ipv4_src: '10.0.0.9', ipv4_dst: '10.0.0.8', arp_sha: A, arp_tha: B },
  },
  {
    name: 'ICMPv4 echo request',
    scapy: `Ether(dst="${B}",src="${A}")/IP(src="10.0.0.1",dst="10.0.0.2",ttl=64)/ICMP(type=8,code=0)`,
    key: { ...L2, eth_type: 0x0800, ip_proto: 1, ip_ttl: 64, ipv4_src: '10.0.0.1', ipv4_dst: '10.0.0.2', tp_src: 8 },
  },
  {
    name: 'IPv4 later fragment: no L4 fields',
    scapy: `Ether(dst="${B}",src="${A}")/IP(src="10.0.0.1",dst="10.0.0.2",ttl=64,proto=17,frag=10)/Raw(b"x"*16)`,
    key: { ...L2, eth_type: 0x0800, ip_proto: 17, ip_ttl: 64, ip_frag: 3, ipv4_src: '10.0.0.1', ipv4_dst: '10.0.0.2' },
  },
  {
    name: 'IPv4 first fragment keeps its L4 header',
    scapy: `Ether(dst="${B}",src="${A}")/IP(src="10.0.0.1",dst="10.0.0.2",ttl=64,flags="MF")/UDP(sport=7,dport=9)`,
    key: { ...L2, eth_type: 0x0800, ip_proto: 17, ip_ttl: 64, ip_frag: 1, ipv4_src: '10.0.0.1', ipv4_dst: '10.0.0.2', tp_src: 7, tp_dst: 9 },
  },
  {
    name: 'SCTP ports',
    scapy: `Ether(dst="${B}",src="${A}")/IP(src="10.0.0.1",dst="10.0.0.2",ttl=64)/SCTP(sport=3868,dport=2905)`,
    key: { ...L2, eth_type: 0x0800, ip_proto: 132, ip_ttl: 64, ipv4_src: '10.0.0.1', ipv4_dst: '10.0.0.2', tp_src: 3868, tp_dst: 2905 },
  },
  {
    name: 'IPv6 neighbour solicitation with source link-layer option',
    scapy: `Ether(dst="${B}",src="${A}")/IPv6(src="fe80::1",dst="ff02::1:ff00:2",tc=0x48,fl=0x12345,hlim=255)/ICMPv6ND_NS(tgt="fe80::2")/ICMPv6NDOptSrcLLAddr(lladdr="${A}")`,
    key: { ...L2, eth_type: 0x86dd, ip_proto: 58, ip_tos: 0x48, ip_ttl: 255, ipv6_label: 0x12345, ipv6_src: v6('fe80:0:0:0:0:0:0:1'), ipv6_dst: v6('ff02:0:0:0:0:1:ff00:2'), tp_src: 135, nd_target: v6('fe80:0:0:0:0:0:0:2'), arp_sha: A },
  },
  {
    name: 'IPv6 neighbour advertisement with target link-layer option',
    scapy: `Ether(dst="${B}",src="${A}")/IPv6(src="fe80::2",dst="fe80::1",hlim=255)/ICMPv6ND_NA(tgt="fe80::2")/ICMPv6NDOptDstLLAddr(lladdr="${B}")`,
    key: { ...L2, eth_type: 0x86dd, ip_proto: 58, ip_ttl: 255, ipv6_src: v6('fe80:0:0:0:0:0:0:2'), ipv6_dst: v6('fe80:0:0:0:0:0:0:1'), tp_src: 136, nd_target: v6('fe80:0:0:0:0:0:0:2'), arp_tha: B },
  },
  {
    name: 'IPv6 hop-by-hop and first fragment, then UDP',
    scapy: `Ether(dst="${B}",src="${A}")/IPv6(src="2001:db8::1",dst="2001:db8::2",hlim=64)/IPv6ExtHdrHopByHop()/IPv6ExtHdrFragment(m=1,offset=0)/UDP(sport=4000,dport=4001)`,
    key: { ...L2, eth_type: 0x86dd, ip_proto: 17, ip_ttl: 64, ip_frag: 1, ipv6_exthdr: (1 << 6) | (1 << 4), ipv6_src: v6('2001:db8:0:0:0:0:0:1'), ipv6_dst: v6('2001:db8:0:0:0:0:0:2'), tp_src: 4000, tp_dst: 4001 },
  },
  {
    name: 'IPv6 later fragment: no L4 fields',
    scapy: `Ether(dst="${B}",src="${A}")/IPv6(src="2001:db8::1",dst="2001:db8::2",hlim=64)/IPv6ExtHdrFragment(nh=17,offset=8)/Raw(b"y"*16)`,
    key: { ...L2, eth_type: 0x86dd, ip_proto: 17, ip_ttl: 64, ip_frag: 3, ipv6_exthdr: 1 << 4, ipv6_src: v6('2001:db8:0:0:0:0:0:1'), ipv6_dst: v6('2001:db8:0:0:0:0:0:2') },
  },
  {
    name: 'MPLS: the top label stack entry',
    scapy: `Ether(dst="${B}",src="${A}")/MPLS(label=1000,cos=3,s=1,ttl=64)/IP(src="10.0.0.1",dst="10.0.0.2")`,
    key: { ...L2, eth_type: 0x8847, mpls_lse: (1000 << 12) | (3 << 9) | (1 << 8) | 64 },
  },
  {
    name: 'a frame cut inside the IPv4 header keeps the L2 fields only',
    scapy: `Raw(bytes(Ether(dst="${B}",src="${A}")/IP(src="10.0.0.1",dst="10.0.0.2"))[:24])`,
    key: { ...L2, eth_type: 0x0800 },
  },
  {
    name: '802.3 length field reads as ethertype 0x05ff',
    scapy: `Ether(dst="${B}",src="${A}",type=46)/Raw(b"z"*46)`,
    key: { ...L2, eth_type: 0x05ff },
  },
];

describe('BPF parser', () => {
  let dp: Datapath;
  const seen: XswUpcall[] = [];
  let frames: Buffer[];

  beforeAll(async () => {
    dp = Datapath.open(`t-parse-${randomBytes(4).toString('hex')}`, { vlanLimit: 2 });
    dp.setVerdict(LO, OFPORT, { action: 'upcall' });
    dp.onUpcall((u) => seen.push(u));
    frames = await scapyFrames(cases.map((c) => c.scapy));
  });

  afterAll(() => dp?.close({ unpin: true }));

  test.each(cases.map((c, i) => ({ ...c, i })))('$name', async ({ i, key }) => {
    const frame = frames[i]!;
    seen.length = 0;
    const r = await progRun(dp.xdpProgram, frame, { ingressIfindex: LO });
    expect(r.retval).toBe(XdpAction.PASS);
    dp.drainUpcalls();
    expect(seen).toHaveLength(1);
    const u = seen[0]!;
    expect(u.frame_len).toBe(frame.length);
    expect(Buffer.from(u.data.subarray(0, u.cap_len))).toEqual(frame.subarray(0, Math.min(frame.length, 128)));
    expect(readable(u.key)).toEqual(key);
  });
});
