// test/openflow/capture-ovs-ofctl.ts — records the bytes the real `ovs-ofctl -O
// OpenFlow13` sends for each command in `commands`, as hex under the command line.
// Run `npx tsx test/openflow/capture-ovs-ofctl.ts > test/openflow/fixtures/ovs-ofctl.txt`;
// ovs-ofctl.test.ts checks the file still matches what ovs-ofctl sends.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { OpenFlowEndpoint, silentLogger } from '../../src/openflow/index.js';
import { ofctl } from './ofctl.js';
import { TestSwitch } from './test-switch.js';

/** Each: the ovs-ofctl arguments after `-O OpenFlow13`, TARGET standing for the switch. */
export const commands: string[][] = [
  ['show', 'TARGET'],
  ['dump-flows', 'TARGET'],
  ['dump-flows', 'TARGET', 'table=1,ip,nw_src=10.1.0.0/16'],
  ['dump-tables', 'TARGET'],
  ['add-flow', 'TARGET', 'priority=10,ip,nw_dst=10.0.0.0/8,actions=output:2'],
  ['add-flow', 'TARGET', 'table=1,priority=20,tcp,tp_dst=80,actions=ct(commit,zone=5,table=3)'],
  ['add-flow', 'TARGET', 'priority=5,dl_vlan=10,dl_src=00:11:22:33:44:55/ff:ff:ff:00:00:00,actions=pop_vlan,set_field:00:00:00:00:00:01->eth_dst,group:1'],
  ['add-flow', 'TARGET', 'priority=7,ipv6,ipv6_src=fe80::1/64,actions=resubmit(,2),write_metadata:0x5/0xff,goto_table:4'],
  ['add-flow', 'TARGET', 'priority=9,ct_state=+trk+est,ct_zone=3,ct_mark=0x5/0xff,reg0=7,ip,actions=ct(commit,exec(set_field:1->ct_mark)),resubmit(,5)'],
  ['add-flow', 'TARGET', 'priority=9,tcp,actions=ct(nat(src=10.0.0.1-10.0.0.5:1000-2000)),ct_clear,load:0x5->NXM_NX_REG1[0..7],move:NXM_OF_ETH_SRC[]->NXM_OF_ETH_DST[]'],
  ['add-flow', 'TARGET', 'priority=9,actions=meter:1,clear_actions,write_actions(output:3)'],
  ['add-flow', 'TARGET', 'priority=9,arp,arp_tpa=10.0.0.1,actions=controller:100,dec_ttl,push_vlan:0x8100,set_field:4101->vlan_vid,set_queue:2'],
  ['add-flow', 'TARGET', 'priority=9,actions=learn(table=1,NXM_OF_ETH_DST[]=NXM_OF_ETH_SRC[],output:NXM_OF_IN_PORT[])'],
  ['add-flow', 'TARGET', 'priority=9,ip,actions=clone(ct(commit,zone=2),output:1),output:2'],
  ['add-flow', 'TARGET', 'priority=9,tcp,tcp_flags=+syn-ack,nw_ttl=5,nw_frag=first,pkt_mark=0x5/0xf,actions=exit'],
  ['--bundle', 'add-flow', 'TARGET', 'priority=30,udp,actions=normal'],
  ['mod-flows', 'TARGET', 'ip,actions=drop'],
  ['--strict', 'del-flows', 'TARGET', 'priority=5,ip'],
  ['del-flows', 'TARGET'],
  ['replace-flows', 'TARGET', 'FIXTURES/flows.txt'],
  ['dump-aggregate', 'TARGET', 'ip'],
  ['dump-ports', 'TARGET'],
  ['dump-ports-desc', 'TARGET'],
  ['dump-table-features', 'TARGET'],
  ['queue-get-config', 'TARGET', '1'],
  ['set-frags', 'TARGET', 'drop'],
  ['add-group', 'TARGET', 'group_id=1,type=select,bucket=weight:10,output:1,bucket=weight:20,output:2'],
  ['add-group', 'TARGET', 'group_id=2,type=fast_failover,bucket=watch_port:1,output:1,bucket=watch_port:2,output:2'],
  ['mod-group', 'TARGET', 'group_id=1,type=all,bucket=output:1'],
  ['del-groups', 'TARGET'],
  ['dump-groups', 'TARGET'],
  ['dump-group-stats', 'TARGET'],
  ['add-meter', 'TARGET', 'meter=1,kbps,burst,band=type=drop,rate=1000,burst_size=100'],
  ['add-meter', 'TARGET', 'meter=2,pktps,band=type=dscp_remark,rate=10,prec_level=1'],
  ['del-meters', 'TARGET'],
  ['dump-meters', 'TARGET'],
  ['meter-stats', 'TARGET'],
  ['packet-out', 'TARGET', 'in_port=1 packet=000000000002000000000001080045000014000000004000400000000a0000010a000002 actions=output:2'],
  ['monitor', 'TARGET', '65534', '--timeout=1'],
];
const fixtures = fileURLToPath(new URL('./fixtures', import.meta.url));

export interface Capture {
  command: string;
  rx: string[];
}

/** Runs each command against a fresh TestSwitch; returns the messages the switch received. */
export async function capture(): Promise<Capture[]> {
  const out: Capture[] = [];
  // ovs-ofctl monitor makes a control socket in $OVS_RUNDIR.
  const rundir = mkdtempSync(join(tmpdir(), 'xsw-of-'));
  try {
    for (const cmd of commands) out.push(await captureOne(cmd, rundir));
  } finally {
    rmSync(rundir, { recursive: true, force: true });
  }
  return out;
}

async function captureOne(cmd: string[], rundir: string): Promise<Capture> {
  {
    const rx: string[] = [];
    const ep = new OpenFlowEndpoint({ handler: new TestSwitch(), log: silentLogger, trace: (d, b) => d === 'rx' && rx.push(Buffer.from(b).toString('hex')) });
    const l = await ep.listen('ptcp:0:127.0.0.1');
    await ofctl(
      cmd.map((a) => (a === 'TARGET' ? `tcp:127.0.0.1:${l.port}` : a.replace('FIXTURES', fixtures))),
      { OVS_RUNDIR: rundir },
    );
    await ep.close();
    return { command: `ovs-ofctl -O OpenFlow13 ${cmd.map((a) => (/[ ,()=>]/.test(a) ? `'${a}'` : a)).join(' ')}`, rx };
  }
}

export function format(caps: Capture[]): string {
  return caps.map((c) => `# ${c.command}\n${c.rx.map((h) => `rx ${h}\n`).join('')}`).join('\n');
}

export function parse(text: string): Capture[] {
  const out: Capture[] = [];
  for (const line of text.split('\n')) {
    if (line.startsWith('# ovs-ofctl ')) out.push({ command: line.slice(2), rx: [] });
    else if (line.startsWith('rx ')) out.at(-1)!.rx.push(line.slice(3));
  }
  return out;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  process.stdout.write(`# Bytes the real ovs-ofctl sends, one message per rx line, under the command that\n# sent them (TARGET: a tcp: listener). Regenerate: npx tsx test/openflow/capture-ovs-ofctl.ts\n\n`);
  process.stdout.write(format(await capture()));
}
