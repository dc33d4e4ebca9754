// test/openflow/capture-ovs-ofctl.ts — records the bytes the real `ovs-ofctl -O
// OpenFlow13` sends for each command in `commands`, as hex under the command line.
// Run `npx tsx test/openflow/capture-ovs-ofctl.ts > test/openflow/fixtures/ovs-ofctl.txt`;
// ovs-ofctl.test.ts checks the file still matches what ovs-ofctl sends.
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
  ['--bundle', 'add-flow', 'TARGET', 'priority=30,udp,actions=normal'],
  ['del-flows', 'TARGET'],
];

export interface Capture {
  command: string;
  rx: string[];
}

/** Runs each command against a fresh TestSwitch; returns the messages the switch received. */
export async function capture(): Promise<Capture[]> {
  const out: Capture[] = [];
  for (const cmd of commands) {
    const rx: string[] = [];
    const ep = new OpenFlowEndpoint({ handler: new TestSwitch(), log: silentLogger, trace: (d, b) => d === 'rx' && rx.push(Buffer.from(b).toString('hex')) });
    const l = await ep.listen('ptcp:0:127.0.0.1');
    await ofctl(cmd.map((a) => (a === 'TARGET' ? `tcp:127.0.0.1:${l.port}` : a)));
    await ep.close();
    out.push({ command: `ovs-ofctl -O OpenFlow13 ${cmd.map((a) => (/[ ,()=>]/.test(a) ? `'${a}'` : a)).join(' ')}`, rx });
  }
  return out;
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
