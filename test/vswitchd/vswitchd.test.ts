// test/vswitchd/vswitchd.test.ts — the daemon as users drive it: the stock ovs-vsctl
// (never --no-wait, so each command returns once the change is live) and ovs-ofctl
// against xdpswitch; bridges, ports, status columns, errors, and what del-br leaves.
import { readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, test } from 'vitest';
import { queryTc } from '../../src/native/bpf.js';
import { XdpBridgeDatapath } from '../../src/datapath/xdp-bridge.js';
import { run, waitFor } from '../harness/exec.js';
import { Topology } from '../harness/topology.js';
import { XdpSwitch } from './switch.js';

let topo: Topology;
let sw: XdpSwitch;
afterEach(async () => {
  await sw?.close();
});

async function setup(): Promise<void> {
  topo = await Topology.create();
  sw = await XdpSwitch.start(topo);
}

const ok = (r: { code: number; stderr: string }) => {
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
};

/** Program ids attached to a device at XDP (bpftool net). */
async function xdpProgOf(dev: string): Promise<number | undefined> {
  const r = await run(['ip', '-j', '-d', 'link', 'show', dev], { allowFail: true });
  if (r.code) return undefined;
  const [l] = JSON.parse(r.stdout) as { xdp?: { prog?: { id: number } } }[];
  return l?.xdp?.prog?.id;
}

describe('xdpswitch start: bridges and ports from the database', () => {
  test('add-br returns once the bridge is live: device, OpenFlow socket, status and cur_cfg', async () => {
    await setup();
    const br = topo.name('br');
    ok(await sw.vsctl('add-br', br));
    // Live when ovs-vsctl returns: no polling below.
    expect((await run(['ip', '-j', 'link', 'show', br])).stdout).toContain(`"ifname":"${br}"`);
    expect(await sw.get('Interface', br, 'ofport')).toBe('65534');
    expect(await sw.get('Open_vSwitch', '.', 'cur_cfg')).toBe(await sw.get('Open_vSwitch', '.', 'next_cfg'));
    expect(await sw.get('Open_vSwitch', '.', 'db_version')).toMatch(/^\d+\.\d+\.\d+$/);
    expect(await sw.get('Open_vSwitch', '.', 'datapath_types')).toBe('[netdev, system]');
    const mac = (JSON.parse((await run(['ip', '-j', 'link', 'show', br])).stdout) as { address: string }[])[0]!.address;
    expect(await sw.get('Bridge', br, 'datapath_id')).toBe(`0000${mac.replace(/:/g, '')}`);
    const show = await sw.ofctl('-O', 'OpenFlow13', 'show', br);
    ok(show);
    expect(show.stdout).toContain(`dpid:0000${mac.replace(/:/g, '')}`);
    expect(show.stdout).toContain(`LOCAL(${br}): addr:${mac}`);
    // A standalone bridge without controllers forwards as a learning switch (OVS: connmgr_flushed).
    expect((await sw.ofctl('-O', 'OpenFlow13', 'dump-flows', br)).stdout).toMatch(/table=0, n_packets=0, n_bytes=0, priority=0 actions=NORMAL/);
    // other_config:datapath-id wins over the MAC.
    ok(await sw.vsctl('set', 'Bridge', br, 'other_config:datapath-id=00000000000000aa'));
    expect((await sw.ofctl('-O', 'OpenFlow13', 'show', br)).stdout).toContain('dpid:00000000000000aa');
  });

  test('add-port: ofport_request, Interface status columns; a second pass makes no calls', async () => {
    await setup();
    const br = topo.name('br');
    const [a] = await topo.vethPair('a0', 'a1');
    const [b] = await topo.vethPair('b0', 'b1');
    ok(await sw.vsctl('add-br', br, '--', 'set-fail-mode', br, 'secure'));
    ok(await sw.vsctl('add-port', br, a, '--', 'set', 'Interface', a, 'ofport_request=7'));
    ok(await sw.vsctl('add-port', br, b));
    expect(await sw.get('Interface', a, 'ofport')).toBe('7');
    expect(await sw.get('Interface', b, 'ofport')).toBe('1');
    const link = (JSON.parse((await run(['ip', '-j', 'link', 'show', a])).stdout) as { ifindex: number; address: string; mtu: number }[])[0]!;
    expect(await sw.get('Interface', a, 'ifindex')).toBe(String(link.ifindex));
    expect(await sw.get('Interface', a, 'mac_in_use')).toBe(link.address);
    expect(await sw.get('Interface', a, 'mtu')).toBe(String(link.mtu));
    expect(await sw.get('Interface', a, 'admin_state')).toBe('up');
    expect(await sw.get('Interface', a, 'link_state')).toBe('up');
    expect(await sw.get('Interface', a, 'error')).toBe('[]');
    expect(await sw.get('Interface', a, 'statistics')).toMatch(/rx_packets=\d+.*tx_packets=\d+/);
    // Nothing changed since: a pass compares and does nothing.
    expect(await sw.vswitchd.reconcileNow()).toBe(0);
    // A secure bridge starts with no flows.
    expect((await sw.ofctl('-O', 'OpenFlow13', 'dump-flows', br)).stdout.trim().split('\n')).toHaveLength(1);
    const ports = await sw.ofctl('-O', 'OpenFlow13', 'dump-ports-desc', br);
    expect(ports.stdout).toContain(` 7(${a}): addr:${link.address}`);
    expect(ports.stdout).toContain(` 1(${b}):`);
    // A request for a taken ofport gets a free one, and stays put (no churn on later passes).
    ok(await sw.vsctl('set', 'Interface', b, 'ofport_request=7'));
    expect(await sw.get('Interface', b, 'ofport')).toBe('1');
    expect(await sw.vswitchd.reconcileNow()).toBe(0);
    // Once 7 is free, the request is honoured.
    ok(await sw.vsctl('set', 'Interface', a, 'ofport_request=3'));
    expect(await sw.get('Interface', a, 'ofport')).toBe('3');
    expect(await sw.get('Interface', b, 'ofport')).toBe('7');
    expect(await sw.vswitchd.reconcileNow()).toBe(0);
  });

  test('a missing device: ovs-vsctl reports it, Interface error as OVS words it, added once it appears', async () => {
    await setup();
    const br = topo.name('br');
    const dev = topo.name('m0');
    ok(await sw.vsctl('add-br', br));
    const r = await sw.vsctl('add-port', br, dev);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain(`ovs-vsctl: Error detected while setting up '${dev}': could not open network device ${dev} (No such device).  See ovs-vswitchd log for details.`);
    expect(await sw.get('Interface', dev, 'ofport')).toBe('-1');
    expect(await sw.get('Interface', dev, 'error')).toBe(`could not open network device ${dev} (No such device)`);
    expect(await sw.vswitchd.reconcileNow()).toBe(0);
    await run(['ip', 'link', 'add', dev, 'type', 'veth', 'peer', 'name', topo.name('m1')]);
    await waitFor(async () => (await sw.get('Interface', dev, 'ofport')) === '1', `${dev} to get an ofport`, 3000);
    expect(await sw.get('Interface', dev, 'error')).toBe('[]');
  });

  test('ovs-ofctl add-flow, dump-flows, del-flows, dump-ports against the bridge socket', async () => {
    await setup();
    const br = topo.name('br');
    const [a] = await topo.vethPair('a0', 'a1');
    const [b] = await topo.vethPair('b0', 'b1');
    ok(await sw.vsctl('add-br', br, '--', 'set-fail-mode', br, 'secure', '--', 'add-port', br, a, '--', 'add-port', br, b));
    ok(await sw.ofctl('-O', 'OpenFlow13', 'add-flow', br, 'in_port=1,actions=output:2'));
    ok(await sw.ofctl('-O', 'OpenFlow13', 'add-flow', br, 'priority=200,ip,nw_dst=10.0.0.1,actions=drop'));
    const flows = (await sw.ofctl('-O', 'OpenFlow13', 'dump-flows', br)).stdout.replace(/duration=[\d.]+s/g, 'duration=X');
    expect(flows.trim().split('\n').slice(1).sort()).toEqual([
      ' cookie=0x0, duration=X, table=0, n_packets=0, n_bytes=0, in_port=1 actions=output:2',
      ' cookie=0x0, duration=X, table=0, n_packets=0, n_bytes=0, priority=200,ip,nw_dst=10.0.0.1 actions=drop',
    ]);
    ok(await sw.ofctl('-O', 'OpenFlow13', 'del-flows', br, 'in_port=1'));
    expect((await sw.ofctl('-O', 'OpenFlow13', 'dump-flows', br)).stdout).not.toContain('in_port=1');
    const bad = await sw.ofctl('-O', 'OpenFlow13', 'add-flow', br, 'actions=group:9');
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toContain('OFPBAC_BAD_OUT_GROUP');
    // Kernel counters of the devices, as OVS reports netdev statistics.
    const ports = await sw.ofctl('-O', 'OpenFlow13', 'dump-ports', br);
    expect(ports.stdout).toMatch(/OFPST_PORT reply \(OF1\.3\) \(xid=0x\w+\): 3 ports/);
    expect(ports.stdout).toMatch(/port {2}1: rx pkts=\d+/);
  });

  test('link down: link_state and PORT_STATUS within a second', async () => {
    await setup();
    const br = topo.name('br');
    const [a, peer] = await topo.vethPair('a0', 'a1');
    ok(await sw.vsctl('add-br', br, '--', 'add-port', br, a));
    expect(await sw.get('Interface', a, 'link_state')).toBe('up');
    await run(['ip', 'link', 'set', peer, 'down']);
    const t0 = Date.now();
    await waitFor(async () => (await sw.get('Interface', a, 'link_state')) === 'down', 'link_state down', 1000, 20);
    expect(Date.now() - t0).toBeLessThan(1000);
    expect((await sw.ofctl('-O', 'OpenFlow13', 'dump-ports-desc', br)).stdout).toMatch(new RegExp(`1\\(${a}\\)[^]*state: +LINK_DOWN`));
    await run(['ip', 'link', 'set', peer, 'up']);
    await waitFor(async () => (await sw.get('Interface', a, 'link_state')) === 'up', 'link_state up', 1000, 20);
    expect(await sw.get('Interface', a, 'link_resets')).toBe('2');
  });

  test('del-port and del-br leave nothing in ip link, bpftool prog or bpftool map', async () => {
    await setup();
    const br = topo.name('br');
    const [a] = await topo.vethPair('a0', 'a1');
    const internal = topo.name('i0');
    ok(await sw.vsctl('add-br', br, '--', 'add-port', br, a, '--', 'add-port', br, internal, '--', 'set', 'Interface', internal, 'type=internal'));
    expect((await run(['ip', 'link', 'show', internal])).code).toBe(0);
    // A veth runs the pipeline at TC by default (datapath-hook=auto).
    const ifindex = Number(await sw.get('Interface', a, 'ifindex'));
    const prog = queryTc(ifindex, 'ingress').tcx[0] ?? (await xdpProgOf(a));
    const maps: number[] = [];
    if (prog !== undefined) {
      const p = JSON.parse((await run(['bpftool', '-j', 'prog', 'show', 'id', String(prog)])).stdout) as { map_ids?: number[] };
      maps.push(...(p.map_ids ?? []));
      expect(maps.length).toBeGreaterThan(0);
    } else {
      expect(sw.log.join('\n')).toMatch(/cannot load the BPF datapath/);
    }
    ok(await sw.vsctl('del-port', br, internal));
    expect((await run(['ip', 'link', 'show', internal], { allowFail: true })).code).not.toBe(0);
    ok(await sw.vsctl('del-br', br));
    expect((await run(['ip', 'link', 'show', br], { allowFail: true })).code).not.toBe(0);
    expect(await xdpProgOf(a)).toBeUndefined();
    expect(queryTc(ifindex, 'ingress').tcx).toEqual([]);
    if (prog !== undefined) {
      expect((await run(['bpftool', 'prog', 'show', 'id', String(prog)], { allowFail: true })).code).not.toBe(0);
      for (const m of maps) expect((await run(['bpftool', 'map', 'show', 'id', String(m)], { allowFail: true })).code).not.toBe(0);
    }
    expect(await sw.vswitchd.reconcileNow()).toBe(0);
  });

  test('Manager rows are OVSDB remotes: set-manager ptcp: serves ovsdb-client, del-manager stops it', async () => {
    await setup();
    const probe = net.createServer();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
    const port = (probe.address() as net.AddressInfo).port;
    await new Promise((r) => probe.close(r));
    ok(await sw.vsctl('set-manager', `ptcp:${port}:127.0.0.1`));
    const dbs = await waitFor(async () => {
      const r = await run(['ovsdb-client', '--timeout=5', 'list-dbs', `tcp:127.0.0.1:${port}`], { allowFail: true });
      return r.code === 0 ? r.stdout : undefined;
    }, 'the manager remote to listen', 5000);
    expect(dbs.split('\n')).toContain('Open_vSwitch');
    ok(await sw.vsctl('del-manager'));
    await waitFor(async () => (await run(['ovsdb-client', '--timeout=2', 'list-dbs', `tcp:127.0.0.1:${port}`], { allowFail: true })).code !== 0, 'the remote to close', 5000);
  });

  test('a veth runs the pipeline at TC by default; datapath-hook=xdp moves it to XDP, and back', async (ctx) => {
    await setup();
    const br = topo.name('br');
    const [a] = await topo.vethPair('a0', 'a1');
    ok(await sw.vsctl('add-br', br, '--', 'add-port', br, a));
    expect(await sw.get('Interface', a, 'status')).toBe('{datapath_hook=tc}');
    const dp = sw.vswitchd.bridges.get(br)?.datapath;
    if (!(dp instanceof XdpBridgeDatapath)) ctx.skip('the BPF datapath did not load here (see the daemon log); nothing is attached');
    expect(await xdpProgOf(a)).toBeUndefined();
    const ifindex = Number(await sw.get('Interface', a, 'ifindex'));
    const tcProgs = () => {
      const q = queryTc(ifindex, 'ingress');
      return [...q.tcx, ...(q.clsact ? [q.clsact] : [])];
    };
    expect(tcProgs()).toHaveLength(1);
    // Changing the hook re-attaches the port.
    ok(await sw.vsctl('set', 'Interface', a, 'other_config:datapath-hook=xdp'));
    expect(await xdpProgOf(a)).toBeDefined();
    expect(tcProgs()).toHaveLength(0);
    expect(await sw.get('Interface', a, 'status')).toBe('{datapath_hook=xdp}');
    ok(await sw.vsctl('remove', 'Interface', a, 'other_config', 'datapath-hook'));
    expect(await xdpProgOf(a)).toBeUndefined();
    expect(tcProgs()).toHaveLength(1);
  });
});

test('a status value the database refuses does not keep ovs-vsctl waiting', async () => {
  topo = await Topology.create();
  // A schema whose Interface mtu cannot hold a real MTU: the status write is refused.
  const schema = JSON.parse(readFileSync('/usr/share/openvswitch/vswitch.ovsschema', 'utf8')) as { tables: Record<string, { columns: Record<string, unknown> }> };
  schema.tables.Interface!.columns.mtu = { type: { key: { type: 'integer', maxInteger: 100 }, min: 0, max: 1 }, ephemeral: true };
  const file = join(topo.dir, 'small-mtu.ovsschema');
  writeFileSync(file, JSON.stringify(schema));
  sw = await XdpSwitch.start(topo, { schema: file });
  const br = topo.name('br');
  const [a] = await topo.vethPair('a0', 'a1');
  // It returns (no ofport was written, so it says so) instead of waiting for cur_cfg forever.
  const r = await sw.vsctl('add-br', br, '--', 'add-port', br, a);
  expect(r.code).toBe(0);
  expect(r.stderr).toContain(`ovs-vsctl: Error detected while setting up '${a}'`);
  expect(await sw.get('Open_vSwitch', '.', 'cur_cfg')).toBe(await sw.get('Open_vSwitch', '.', 'next_cfg'));
  expect(sw.log.join('\n')).toMatch(/status update refused .*; writing cur_cfg alone/);
});

describe('ovs-appctl on <rundir>/xdpswitch.ctl', () => {
  test('version, list-commands, dpif/show, fdb/show, errors in unixctl words, vlog/set', async () => {
    await setup();
    const br = topo.name('br');
    const [a] = await topo.vethPair('a0', 'a1');
    ok(await sw.vsctl('add-br', br, '--', 'add-port', br, a, '--', 'set', 'Interface', a, 'ofport_request=4'));
    const appctl = (...args: string[]) => run(['ovs-appctl', '-t', `${sw.rundir}/xdpswitch.ctl`, ...args], { allowFail: true });
    expect((await appctl('version')).stdout).toBe('ovs-vswitchd (xdpswitch) test\n');
    expect((await appctl('list-commands')).stdout).toMatch(/^The available commands are:\n[^]* {2}dpif\/show\n[^]* {2}fdb\/show +bridge\n/);
    const ifindex = await sw.get('Interface', a, 'ifindex');
    const brIfindex = await sw.get('Interface', br, 'ifindex');
    expect((await appctl('dpif/show')).stdout).toBe(`xdp@xdpswitch: hit:0 missed:0\n  ${br}:\n    ${a} 4/${ifindex}: (system)\n    ${br} 65534/${brIfindex}: (internal)\n`);
    expect((await appctl('fdb/show', br)).stdout).toBe(' port  VLAN  MAC                Age\n');
    const none = await appctl('fdb/show', 'nope');
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/^no such bridge\novs-appctl: .*: server returned an error\n$/);
    const bogus = await appctl('bogus');
    expect(bogus.stderr).toContain('"bogus" is not a valid command (use "list-commands" to see a list of valid commands)\n');
    expect((await appctl('fdb/show')).stderr).toContain('"fdb/show" command requires at least 1 arguments');
    // ofproto/trace runs a frame through the model without counting it.
    const [b] = await topo.vethPair('b0', 'b1');
    ok(await sw.vsctl('add-port', br, b, '--', 'set', 'Interface', b, 'ofport_request=5'));
    ok(await sw.ofctl('-O', 'OpenFlow13', 'add-flow', br, 'priority=10,in_port=4,actions=output:5'));
    const frame = 'ffffffffffff' + '020000000001' + '0806' + '00'.repeat(46);
    const tr = await appctl('ofproto/trace', br, 'in_port=4', frame);
    expect(tr.stdout).toBe(`Bridge: ${br}\nFrame: in_port=4, 60 bytes\n\n table 0: priority=10,in_port=4 cookie=0x0\n\nFinal: output:5 (60 bytes)\n`);
    expect((await sw.ofctl('-O', 'OpenFlow13', 'dump-flows', br, 'in_port=4')).stdout).toContain('n_packets=0');
    // The LOCAL port is administratively down, so NORMAL's flood leaves it out.
    expect((await appctl('ofproto/trace', br, 'in_port=5', frame)).stdout).toMatch(/ table 0: priority=0 cookie=0x0\n\nFinal: output:4 \(60 bytes\)\n/);
    expect((await appctl('ofproto/trace', br, 'port=4', frame)).stderr).toContain('port=4: expected in_port=PORT');
    // The in-process test sink has fixed levels: the command says so.
    expect((await appctl('vlog/set', 'dbg')).stderr).toContain('log levels are fixed in this process');
  });
});
