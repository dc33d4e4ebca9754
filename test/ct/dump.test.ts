// test/ct/dump.test.ts — dpctl/dump-conntrack's reading of /proc/net/nf_conntrack lines, and
// OVS's format for what it prints (the firewall test compares a live dump with OVS's).
import { expect, test } from 'vitest';
import { formatRow, parseProcLine } from '../../src/ct/dump.js';

const cases: [string, string][] = [
  [
    'ipv4     2 tcp      6 431999 ESTABLISHED src=10.0.0.1 dst=10.0.0.2 sport=40000 dport=80 src=10.0.0.2 dst=10.0.0.1 sport=80 dport=40000 [ASSURED] mark=7 zone=5 use=2',
    'tcp,orig=(src=10.0.0.1,dst=10.0.0.2,sport=40000,dport=80),reply=(src=10.0.0.2,dst=10.0.0.1,sport=80,dport=40000),zone=5,mark=7,protoinfo=(state=ESTABLISHED)',
  ],
  [
    'ipv4     2 udp      17 29 src=10.0.0.1 dst=10.0.0.2 sport=5000 dport=53 [UNREPLIED] src=10.0.0.2 dst=192.0.2.1 sport=53 dport=5000 mark=0 use=2',
    'udp,orig=(src=10.0.0.1,dst=10.0.0.2,sport=5000,dport=53),reply=(src=10.0.0.2,dst=192.0.2.1,sport=53,dport=5000)',
  ],
  [
    'ipv6     10 udp      17 29 src=2001:0db8:0000:0000:0000:0000:0000:0001 dst=2001:0db8:0000:0000:0000:0000:0000:0002 sport=5000 dport=53 src=2001:0db8:0000:0000:0000:0000:0000:0002 dst=2001:0db8:0000:0000:0000:0000:0000:0001 sport=53 dport=5000 mark=0 zone=9 use=2',
    'udp,orig=(src=2001:db8::1,dst=2001:db8::2,sport=5000,dport=53),reply=(src=2001:db8::2,dst=2001:db8::1,sport=53,dport=5000),zone=9',
  ],
  [
    'ipv4     2 icmp     1 29 src=10.0.0.1 dst=10.0.0.2 type=8 code=0 id=77 src=10.0.0.2 dst=10.0.0.1 type=0 code=0 id=77 mark=0 use=1',
    'icmp,orig=(src=10.0.0.1,dst=10.0.0.2,id=77,type=8,code=0),reply=(src=10.0.0.2,dst=10.0.0.1,id=77,type=0,code=0)',
  ],
];

test.each(cases)('%s', (line, ovs) => {
  expect(formatRow(parseProcLine(line)!)).toBe(ovs);
});

test('lines that are no entry are skipped', () => {
  expect(parseProcLine('')).toBeUndefined();
  expect(parseProcLine('ipv4 2 udp 17')).toBeUndefined();
});
