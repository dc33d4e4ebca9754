// test/vswitchd/normal-config.test.ts — the Bridge columns that shape NORMAL, set with the
// stock ovs-vsctl: flood_vlans (no learning in those VLANs, every frame floods, the table
// flushed when the set changes), other_config:mac-table-size (the table never holds more)
// and mac-aging-time (into the fast path's NORMAL config, bounded as OVS bounds it); and a
// Controller's connection_mode=in-band, stored and run out-of-band with a log line.
import { afterEach, expect, test } from 'vitest';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { listenForSwitches, type ControllerConnection } from '../../src/openflow/index.js';
import { pinDirFor } from '../../src/datapath/datapath.js';
import { run, sleep, waitFor } from '../harness/exec.js';
import { type Host, Topology } from '../harness/topology.js';
import { ok, XdpSwitch } from './switch.js';

let sw: XdpSwitch | undefined;
afterEach(async () => {
  await sw?.close();
  sw = undefined;
});

test('flood_vlans, mac-table-size, mac-aging-time and connection_mode through ovs-vsctl', async () => {
  const topo = await Topology.create();
  const [a, b, c] = (await topo.hosts(3, '10.252.37.0/24')) as [Host, Host, Host];
  sw = await XdpSwitch.start(topo);
  const br = topo.name('br');
  const appctl = async (...args: string[]) => (await run(['ovs-appctl', '-t', join(sw!.rundir, 'xdpswitch.ctl'), ...args])).stdout;
  const macsKnown = async () => (await appctl('fdb/show', br)).split('\n').slice(1).filter((l) => l.trim()).length;
  await ok(sw.vsctl('add-br', br, '--', 'add-port', br, a.port, '--', 'add-port', br, b.port, '--', 'add-port', br, c.port));
  // Unicast a → b seen by c: none once both are learned; all of them in a flood VLAN.
  const seenByC = async (n: number): Promise<number> => {
    const cap = await c.capture(`icmp and dst host ${b.ip}`, { inbound: true });
    expect((await a.ping(b, { count: n, intervalS: 0.05 })).received).toBe(n);
    return (await cap.stop()).length;
  };
  expect(await seenByC(5)).toBeLessThanOrEqual(1); // the first, before b answered
  expect((await appctl('fdb/show', br)).toLowerCase()).toContain(a.mac.toLowerCase());

  await ok(sw.vsctl('set', 'Bridge', br, 'flood_vlans=0'));
  expect(await sw.get('Bridge', br, 'flood_vlans')).toBe('[0]');
  expect(await macsKnown()).toBe(0); // a new set flushes the table
  expect(await seenByC(5)).toBe(5);
  expect(await macsKnown()).toBe(0); // nothing learned in VLAN 0 now
  await ok(sw.vsctl('clear', 'Bridge', br, 'flood_vlans'));
  await seenByC(2);
  expect(await seenByC(5)).toBe(0);

  // mac-table-size (at least 10, as OVS): 30 sources from a, at most 10 entries kept.
  await ok(sw.vsctl('set', 'Bridge', br, 'other_config:mac-table-size=3'));
  await a.scapySend('Ether(src=RandMAC("02:*:*:*:*:*"),dst="ff:ff:ff:ff:ff:ff")/IP()/UDP()', 30);
  await sleep(1200); // the fast path's table is trimmed once a second
  expect(await macsKnown()).toBeLessThanOrEqual(10);
  expect(await macsKnown()).toBeGreaterThanOrEqual(5);

  // mac-aging-time: into the datapath's NORMAL config, bounded to 15..3600 s.
  const agingInDatapath = async (): Promise<number> => {
    const dir = pinDirFor(readdirSync(pinDirFor('')).find((d) => d.endsWith(`-${br}`))!);
    const dump = (await run(['bpftool', '-j', 'map', 'dump', 'pinned', join(dir, 'xsw_normal_config')])).stdout;
    const v = (JSON.parse(dump) as { formatted?: { value: { aging_sec: number } } }[])[0]!;
    return v.formatted!.value.aging_sec;
  };
  expect(await agingInDatapath()).toBe(300);
  await ok(sw.vsctl('set', 'Bridge', br, 'other_config:mac-aging-time=5'));
  expect(await agingInDatapath()).toBe(15);
  await ok(sw.vsctl('set', 'Bridge', br, 'other_config:mac-aging-time=120'));
  expect(await agingInDatapath()).toBe(120);

  // connection_mode=in-band: kept in the row, logged, and the controller connects out-of-band.
  const dialled: ControllerConnection[] = [];
  const listener = await listenForSwitches(`punix:${topo.dir}/ctl.sock`, (conn) => dialled.push(conn));
  try {
    await ok(sw.vsctl('set-controller', br, `unix:${topo.dir}/ctl.sock`, '--', 'set', 'Controller', br, 'connection_mode=in-band'));
    expect(await sw.get('Controller', br, 'connection_mode')).toBe('in-band');
    await waitFor(async () => (await sw!.get('Controller', br, 'is_connected')) === 'true', 'is_connected', 5000);
    expect(sw.log.join('\n')).toMatch(/in-band control is not supported; connecting out-of-band/);
  } finally {
    for (const conn of dialled) conn.close();
    await listener.close();
  }
});
