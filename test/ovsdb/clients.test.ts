// The stock ovs-vsctl and ovsdb-client against xdpswitch and the real ovsdb-server on
// copies of one database: the same command sequence, the same output once UUIDs and
// dates are normalized (and, where ovsdb-server orders rows by UUID hash, sorted).
import { spawn } from 'node:child_process';
import { describe, expect, test } from 'vitest';
import { client, maskUuids, normalizeDates, outcome, usePair, vsctl, type Side } from './pair.js';

type Step = ['vsctl' | 'client', string[], 'sort'?];
const v = (...a: string[]): Step => ['vsctl', a];
const vs = (...a: string[]): Step => ['vsctl', a, 'sort'];
const c = (...a: string[]): Step => ['client', a];

const steps: Step[] = [
  v('init'),
  v('add-br', 'br0'),
  v('add-br', 'br1'),
  v('add-port', 'br0', 'p1'),
  v('add-port', 'br0', 'p2', 'tag=10'),
  v('add-bond', 'br0', 'bond0', 'a', 'b', 'c'),
  v('add-port', 'br0', 'p1'),
  v('add-port', 'nobr', 'p9'),
  v('--may-exist', 'add-port', 'br0', 'p1'),
  v('--if-exists', 'del-port', 'br0', 'zz'),
  v('del-port', 'br0', 'zz'),
  v('set', 'port', 'p1', 'tag=5', 'trunks=1,2,3'),
  v('get', 'port', 'p1', 'tag', 'trunks'),
  v('get', 'port', 'p1', 'nope'),
  v('set', 'interface', 'p1', 'type=internal', 'options:key=val'),
  v('get', 'interface', 'p1', 'options:key'),
  v('get', 'interface', 'p1', 'options:missing'),
  v('--if-exists', 'get', 'interface', 'p1', 'options:missing'),
  v('add', 'port', 'p1', 'trunks', '4', '5'),
  v('remove', 'port', 'p1', 'trunks', '2'),
  v('get', 'port', 'p1', 'trunks'),
  v('clear', 'port', 'p1', 'trunks'),
  v('set', 'port', 'p1', 'tag=9999'),
  v('set', 'port', 'p1', 'vlan_mode=bogus'),
  v('set', 'bridge', 'br0', 'flood_vlans=1,1'),
  vs('list', 'port'),
  vs('find', 'port', 'tag=5'),
  v('find', 'port', 'tag=10'),
  v('list', 'interface', 'p1'),
  v('--columns=name,tag', 'list', 'port', 'p2'),
  v('--format=json', 'list', 'bridge', 'br1'),
  vs('--format=csv', '--columns=name', 'list', 'bridge'),
  v('--id=@q', 'create', 'qos', 'type=linux-htb', '--', 'set', 'port', 'p1', 'qos=@q'),
  v('get', 'port', 'p1', 'qos'),
  v('list', 'qos'),
  v('--', '--id=@c', 'create', 'controller', 'target=tcp:1.2.3.4', '--', 'set', 'bridge', 'br0', 'controller=@c'),
  v('get-controller', 'br0'),
  v('set-controller', 'br1', 'tcp:127.0.0.1:6653'),
  v('get-controller', 'br1'),
  v('del-controller', 'br0'),
  v('set-fail-mode', 'br0', 'secure'),
  v('get-fail-mode', 'br0'),
  v('del-fail-mode', 'br0'),
  v('br-set-external-id', 'br0', 'k', 'v'),
  v('br-get-external-id', 'br0'),
  v('br-exists', 'br0'),
  v('br-exists', 'nope'),
  v('list-br'),
  v('list-ports', 'br0'),
  v('list-ifaces', 'br0'),
  v('port-to-br', 'p1'),
  v('iface-to-br', 'a'),
  v('wait-until', 'bridge', 'br0', 'fail_mode=[]'),
  v('del-br', 'br0'),
  vs('show'),
  v('list', 'port'),
  v('--if-exists', 'del-br', 'br0'),
  v('del-br', 'br0'),
  v('emer-reset'),
  vs('show'),
  v('list', 'qos'),
  c('list-dbs'),
  c('get-schema', 'Open_vSwitch'),
  c('get-schema-version', 'Open_vSwitch'),
  c('list-tables', 'Open_vSwitch'),
  c('list-columns', 'Open_vSwitch', 'Port'),
  c('query', '["Open_vSwitch",{"op":"select","table":"Bridge","where":[],"columns":["name"]}]'),
  c('query', '["Open_vSwitch",{"op":"insert","table":"Bridge","row":{"name":"zz"}}]'),
  c('transact', '["Open_vSwitch",{"op":"select","table":"Bridge","where":[]}]'),
  c('dump', 'Open_vSwitch', 'Open_vSwitch'),
  c('dump', 'Open_vSwitch'),
  c('get-schema', '_Server'),
  c('transact', '["_Server",{"op":"insert","table":"Database","row":{"name":"x"}}]'),
  c('transact', '["Nope",{"op":"select","table":"Bridge","where":[]}]'),
  c('transact', '[]'),
  c('transact', '["Open_vSwitch"]'),
  c('get-schema', 'Nope'),
  c('needs-conversion', 'Open_vSwitch'),
];

describe('ovs-vsctl and ovsdb-client see the same server', () => {
  const pair = usePair({ init: false });

  test.each(steps.map((s) => [s[1].join(' '), s] as const))('%s', async (_n, [kind, args, sort]) => {
    const p = pair();
    const f = kind === 'vsctl' ? vsctl : client;
    const a = outcome(await f(p.ovs, args), sort === 'sort');
    const b = outcome(await f(p.xdp, args), sort === 'sort');
    expect(b).toBe(a);
  });

  /** Runs a long-lived ovsdb-client command while ovs-vsctl makes changes. */
  async function watch(s: Side, args: string[]): Promise<string> {
    const [cmd, ...rest] = args;
    const child = spawn('ovsdb-client', [cmd as string, s.remote, ...rest], { env: s.env });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    await new Promise((r) => setTimeout(r, 400));
    await vsctl(s, ['add-br', 'brm']);
    await vsctl(s, ['set', 'bridge', 'brm', 'external_ids:a=b', 'stp_enable=true']);
    await vsctl(s, ['add-port', 'brm', 'pm']);
    await vsctl(s, ['del-br', 'brm']);
    await new Promise((r) => setTimeout(r, 300));
    child.kill();
    await new Promise((r) => child.once('exit', r));
    // Sets of UUIDs, and rows within one update, print in UUID (hash) order, which
    // differs between the two servers: mask UUIDs, sort lines within each block.
    return normalizeDates(maskUuids(out))
      .split('\n\n')
      .map((block) => block.split('\n').sort().join('\n'))
      .join('\n\n');
  }

  test.each([
    ['monitor', 'Open_vSwitch', 'Bridge', 'name,stp_enable,external_ids'],
    ['monitor', 'Open_vSwitch', 'Bridge'],
    ['monitor', 'Open_vSwitch', 'ALL'],
    ['monitor', '--format=json', 'Open_vSwitch', 'Bridge', 'name'],
    ['monitor-cond', 'Open_vSwitch', '[["name","==","brm"]]', 'Bridge', 'name,external_ids'],
    ['monitor-cond-since', 'Open_vSwitch', '[["name","==","brm"]]', 'Bridge', 'name'],
    ['lock', 'mylock'],
  ])('ovsdb-client %s %s %s', async (...args) => {
    const p = pair();
    const a = await watch(p.ovs, args);
    const b = await watch(p.xdp, args);
    expect(b).toBe(a);
    expect(a.length).toBeGreaterThan(0);
  });
});
