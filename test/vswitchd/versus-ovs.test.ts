// test/vswitchd/versus-ovs.test.ts — one scenario, run against xdpswitch and against real
// Open vSwitch 3.1 (userspace datapath, its own namespace): what ovs-vsctl and ovs-ofctl
// print and what the Interface rows say must be the same once durations are normalised.
import { afterEach, expect, test } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { waitFor } from '../harness/exec.js';
import { Topology } from '../harness/topology.js';
import { OvsSwitch, XdpSwitch, type Switch } from './switch.js';

const switches: Switch[] = [];
afterEach(async () => {
  for (const s of switches.splice(0)) await s.close();
});

const normalise = (s: string) =>
  s
    .replace(/duration=[\d.]+s/g, 'duration=X')
    .replace(/The default log directory is ".*"/, 'The default log directory is "X"')
    .replace(/\(xid=0x[0-9a-f]+\)/g, '(xid=X)')
    .split('\n')
    .map((l) => l.trimEnd())
    .filter(Boolean);

async function scenario(sw: Switch, names: { br: string; br2: string; a: string; b: string; missing: string; pa: string; pb: string; tap: string }): Promise<Record<string, unknown>> {
  const { br, br2, a, b, missing, pa, pb, tap } = names;
  const out: Record<string, unknown> = {};
  for (const [x, y] of [[a, `${a}p`], [b, `${b}p`]]) {
    await sw.exec(['ip', 'link', 'add', x!, 'type', 'veth', 'peer', 'name', y!]);
    // No IPv6 neighbour discovery: the only frames are the ones a test sends.
    for (const d of [x!, y!]) await sw.exec(['sysctl', '-qw', `net.ipv6.conf.${d}.disable_ipv6=1`]);
    await sw.exec(['ip', 'link', 'set', x!, 'up']);
    await sw.exec(['ip', 'link', 'set', y!, 'up']);
  }
  const v = async (...args: string[]) => {
    const r = await sw.vsctl(...args);
    return { code: r.code, stdout: normalise(r.stdout), stderr: normalise(r.stderr) };
  };
  // An error's data is the request (OVS: all of it; xdpswitch: its first 64 bytes, as the
  // spec asks at least): compare up to the decoded request line.
  const f = async (...args: string[]) => {
    const r = await sw.ofctl('-O', 'OpenFlow13', ...args);
    return { code: r.code, stdout: normalise(r.stdout), stderr: normalise(r.stderr).slice(0, 1) };
  };
  out.addBr = await v('add-br', br, '--', 'set', 'Bridge', br, 'datapath_type=netdev', 'fail_mode=secure');
  out.addA = await v('add-port', br, a, '--', 'set', 'Interface', a, 'ofport_request=5');
  out.addB = await v('add-port', br, b);
  out.addMissing = await v('add-port', br, missing);
  for (const c of ['datapath_types', 'dpdk_initialized', 'dpdk_version', 'cur_cfg']) out[`ovs ${c}`] = await sw.get('Open_vSwitch', '.', c);
  for (const i of [br, a, b, missing]) {
    out[`iface ${i}`] = Object.fromEntries(await Promise.all(['ofport', 'error', 'admin_state', 'link_state', 'mtu', 'type', 'link_speed', 'duplex'].map(async (c) => [c, await sw.get('Interface', i, c)])));
  }
  // Patch ports: a port with no device; the error names a missing peer until it exists.
  out.addBr2 = await v('add-br', br2, '--', 'set', 'Bridge', br2, 'datapath_type=netdev');
  out.addPa = await v('add-port', br, pa, '--', 'set', 'Interface', pa, 'type=patch', `options:peer=${pb}`);
  out.paAlone = await sw.get('Interface', pa, 'error');
  out.addPb = await v('add-port', br2, pb, '--', 'set', 'Interface', pb, 'type=patch', `options:peer=${pa}`);
  out.addPatchNoPeer = await v('add-port', br2, `${pb}x`, '--', 'set', 'Interface', `${pb}x`, 'type=patch');
  // type=tap: a tap device the switch creates (down until someone brings it up).
  out.addTap = await v('add-port', br2, tap, '--', 'set', 'Interface', tap, 'type=tap');
  out.tap = Object.fromEntries(await Promise.all(['ofport', 'error', 'admin_state', 'link_state', 'type'].map(async (c) => [c, await sw.get('Interface', tap, c)])));
  out.tapDevice = (await sw.exec(['ip', '-o', 'link', 'show', tap])).stdout.includes(`${tap}: <BROADCAST,MULTICAST`);
  for (const i of [pa, pb, `${pb}x`]) {
    out[`patch ${i}`] = Object.fromEntries(await Promise.all(['ofport', 'error', 'admin_state', 'link_state', 'mtu', 'ifindex', 'statistics'].map(async (c) => [c, await sw.get('Interface', i, c)])));
  }
  out.flowsEmpty = await f('dump-flows', br);
  out.add1 = await f('add-flow', br, 'in_port=5,actions=output:1');
  out.add2 = await f('add-flow', br, 'priority=300,ip,nw_src=10.1.0.0/16,actions=drop');
  out.add3 = await f('add-flow', br, 'table=1,priority=7,udp,tp_dst=53,actions=output:5');
  out.addBadGroup = await f('add-flow', br, 'actions=group:9');
  out.flows = await f('--sort', 'dump-flows', br);
  out.delStrict = await f('--strict', 'del-flows', br, 'priority=300,ip,nw_src=10.1.0.0/16');
  out.flowsAfter = await f('--sort', 'dump-flows', br);
  // A bundle is all or nothing: an add, a modify and a delete, then a flow naming a
  // missing group; nothing of it may remain. The same bundle without the bad flow applies.
  const bundle = (bad: boolean) =>
    ['add priority=40,in_port=1,actions=drop', 'modify in_port=5,actions=output:2', 'delete table=1', ...(bad ? ['add priority=41,actions=group:99'] : [])].join('\n') + '\n';
  const file = join(sw.rundir, 'bundle.txt');
  writeFileSync(file, bundle(true));
  out.bundleBad = await f('--bundle', 'add-flows', br, file);
  out.flowsBundleBad = await f('--sort', 'dump-flows', br);
  writeFileSync(file, bundle(false));
  out.bundleGood = await f('--bundle', 'add-flows', br, file);
  out.flowsBundleGood = await f('--sort', 'dump-flows', br);
  // The peer of a goes down and up again: link_state follows, link_resets counts both.
  for (const [state, want] of [['down', 'down'], ['up', 'up']] as const) {
    await sw.exec(['ip', 'link', 'set', `${a}p`, state]);
    await waitFor(async () => (await sw.get('Interface', a, 'link_state')) === want, `${sw.kind}: link_state ${want}`, 10_000, 100);
  }
  out.linkResets = await sw.get('Interface', a, 'link_resets');
  out.delPort = await v('del-port', br, b);
  out.ports = (await f('dump-ports-desc', br)).stdout.map((l) => l.replace(/addr:[0-9a-f:]+/, 'addr:M'));
  // OVS flushes the flows when a bridge gains its first controller or loses its last,
  // and when fail_mode changes while it has none; standalone then gets NORMAL back.
  out.setCtl = await v('set-controller', br, 'tcp:127.0.0.1:1');
  out.flowsCtl = await f('dump-flows', br);
  out.isConnected = await sw.get('Controller', br, 'is_connected');
  out.addWithCtl = await f('add-flow', br, 'priority=9,actions=drop');
  out.delCtl = await v('del-controller', br);
  out.flowsNoCtl = await f('dump-flows', br);
  out.standalone = await v('set-fail-mode', br, 'standalone');
  out.flowsStandalone = await f('dump-flows', br);
  out.delBr = await v('del-br', br);
  out.delBr2 = await v('del-br', br2);
  return out;
}

test('bridges, ports, a missing device and flows print the same as with Open vSwitch 3.1', async () => {
  const topo = await Topology.create();
  const names = { br: topo.name('br'), br2: topo.name('br2'), a: topo.name('a'), b: topo.name('b'), missing: topo.name('m'), pa: topo.name('pa'), pb: topo.name('pb'), tap: topo.name('t') };
  topo.name('ap');
  topo.name('bp');
  const ovs = await OvsSwitch.start(topo);
  switches.push(ovs);
  const xdp = await XdpSwitch.start(topo);
  switches.push(xdp);
  const want = await scenario(ovs, names);
  const got = await scenario(xdp, names);
  expect(got).toEqual(want);
}, 60_000);
