// test/ofproto/requests.test.ts — the requests the real ovs-ofctl sends (captured in
// test/openflow/fixtures/ovs-ofctl.txt) go through handleRequest; every reply the model
// produces is encoded by the codec and read back by the real `ovs-ofctl ofp-print`.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { decodeMessage, encodeMessage } from '../../proto/openflow/codec.js';
import { OfpError } from '../../proto/openflow/errors.js';
import type { Message } from '../../proto/openflow/messages.js';
import { createPipeline } from '../../src/ofproto/pipeline.js';
import { addPort } from '../../src/ofproto/port.js';
import { handleRequest, type RequestMessage } from '../../src/ofproto/requests.js';

const text = readFileSync(new URL('../openflow/fixtures/ovs-ofctl.txt', import.meta.url), 'utf8');
const blocks: { command: string; msgs: Message[] }[] = [];
for (const line of text.split('\n')) {
  if (line.startsWith('# ovs-ofctl')) blocks.push({ command: line.slice(2), msgs: [] });
  else if (line.startsWith('rx ') && blocks.length) {
    const m = decodeMessage(Buffer.from(line.slice(3), 'hex'));
    if (!(m instanceof OfpError)) blocks.at(-1)!.msgs.push(m);
  }
}
const HANDLED = new Set(['FLOW_MOD', 'GROUP_MOD', 'PORT_MOD', 'TABLE_MOD', 'METER_MOD', 'PACKET_OUT', 'MULTIPART_REQUEST', 'QUEUE_GET_CONFIG_REQUEST']);
/** The endpoint splits multipart replies past 64 KB; here the 255 tables' features are cut to three. */
const fit = (m: Message): Message => (m.type === 'MULTIPART_REPLY' && m.body.type === 'TABLE_FEATURES' ? { ...m, body: { ...m.body, tables: m.body.tables.slice(0, 3) } } : m);
const ofpPrint = (m: Message) => execFileSync('ovs-ofctl', ['ofp-print', Buffer.from(encodeMessage(fit(m))).toString('hex')], { encoding: 'utf8' });

describe('ovs-ofctl requests through handleRequest', () => {
  const p = createPipeline(0);
  for (const n of [1, 2, 3]) addPort(p, { port_no: n, name: `p${n}`, hw_addr: `02:00:00:00:00:0${n}` });
  // Groups and meters first, so flows naming group 1 and meter 1 are valid.
  // Then the other mods, then the dumps; deletions are left out so the dumps have content.
  const phase = (c: string) => (/add-group|add-meter/.test(c) ? 0 : /del-|replace-flows|mod-group/.test(c) ? 3 : /dump|show|stats|monitor/.test(c) ? 2 : 1);
  const order = blocks.filter((b) => phase(b.command) < 3).sort((a, b) => phase(a.command) - phase(b.command));
  const outcome = new Map<string, string[]>();
  const replies: { command: string; reply: Message }[] = [];
  for (const b of order) {
    for (const m of b.msgs) {
      if (!HANDLED.has(m.type)) continue;
      const r = handleRequest(p, m as RequestMessage, 1000);
      if (m.type !== 'MULTIPART_REQUEST') outcome.set(b.command, [...(outcome.get(b.command) ?? []), r.error ? r.error.name : 'ok']);
      for (const reply of r.replies) replies.push({ command: b.command, reply });
    }
  }
  const result = (cmd: string) => [...outcome].find(([c]) => c.includes(cmd))?.[1];

  test('mods the model implements are applied; what it does not is refused by name', () => {
    expect(result("'priority=10,ip,nw_dst=10.0.0.0/8")).toEqual(['ok']);
    expect(result('dl_vlan=10,dl_src')).toEqual(['ok']);
    expect(result('meter:1,clear_actions')).toEqual(['ok']);
    expect(result('type=select')).toEqual(['ok']);
    expect(result('type=fast_failover')).toEqual(['ok']);
    expect(result('meter=2,pktps')).toEqual(['ok']);
    // resubmit, load, move and ct run; a NAT range without commit is refused, as OVS does.
    expect(result('resubmit(,2)')).toEqual(['ok']);
    expect(result('ct(commit,zone=5')).toEqual(['ok']);
    expect(result('ct(nat(src=')).toEqual(['OFPBAC_BAD_ARGUMENT']);
    expect(result('udp,actions=normal')).toBeUndefined(); // --bundle: the endpoint's job
    expect(result('queue-get-config')).toEqual(['ok']);
  });

  test('every reply encodes and the real ovs-ofctl prints it', () => {
    expect(replies.length).toBeGreaterThan(10);
    for (const { command, reply } of replies) {
      const out = ofpPrint(reply);
      expect(out, command).not.toMatch(/decode error|\*\*\*/);
    }
    const flows = replies.find((r) => r.command.endsWith('dump-flows TARGET'))!;
    const printed = ofpPrint(flows.reply);
    // mod-flows 'ip,actions=drop' is non-strict: it rewrote the ip flow, not the others.
    expect(printed).toContain('priority=10,ip,nw_dst=10.0.0.0/8 actions=drop');
    expect(printed).toContain('priority=9 actions=meter:1,clear_actions,write_actions(output:3)');
    expect(printed).toContain('priority=5,dl_vlan=10,dl_src=00:11:22:00:00:00/ff:ff:ff:00:00:00 actions=pop_vlan,set_field:00:00:00:00:00:01->eth_dst,group:1');
    expect(ofpPrint(replies.find((r) => r.command.includes('dump-groups'))!.reply)).toContain('group_id=1,type=select,bucket=weight:10,actions=output:1,bucket=weight:20,actions=output:2\n group_id=2,type=ff,bucket=watch_port:1,actions=output:1,bucket=watch_port:2,actions=output:2');
    expect(ofpPrint(replies.find((r) => r.command.includes('dump-meters'))!.reply)).toContain('meter=1 kbps burst bands=\ntype=drop rate=1000 burst_size=100');
  });
});
