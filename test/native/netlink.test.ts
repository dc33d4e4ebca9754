// Links through the addon's rtnetlink and tap facilities, checked against what `ip` sees
// on the real kernel: veth create/delete (peer in a namespace), up/down, MTU, MAC,
// statistics, taps, and failures as NativeErrors with errno names.
import { randomInt } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { run } from '../harness/exec.js';
import { Topology } from '../harness/topology.js';
import { native } from '../../src/native/addon.js';
import { NativeError } from '../../src/native/errors.js';
import {
  configureLink,
  createTap,
  createVeth,
  deleteLink,
  deleteTap,
  findLink,
  getLink,
  linkStats,
  listLinks,
  setLinkMac,
  setLinkMtu,
  setLinkUp,
} from '../../src/native/netlink.js';

interface IpLink {
  ifindex: number;
  ifname: string;
  flags: string[];
  mtu: number;
  operstate: string;
  address: string;
  link?: string;
  link_netnsid?: number;
  linkinfo?: { info_kind: string; info_data?: { type?: string; pi?: boolean } };
}

async function ipLink(name: string, netns?: string): Promise<IpLink> {
  const ns = netns ? ['-n', netns] : [];
  const out = JSON.parse((await run(['ip', ...ns, '-j', '-d', 'link', 'show', 'dev', name])).stdout) as IpLink[];
  return out[0]!;
}

async function ipHas(name: string, netns?: string): Promise<boolean> {
  const ns = netns ? ['-n', netns] : [];
  return (await run(['ip', ...ns, 'link', 'show', 'dev', name], { allowFail: true })).code === 0;
}

/** Resolves to the NativeError the promise rejects with (fails if it resolves). */
async function nativeErrorOf(p: Promise<unknown>): Promise<NativeError> {
  const e: unknown = await p.then(
    () => new Error('expected a NativeError, the call succeeded'),
    (err: unknown) => err,
  );
  if (!(e instanceof NativeError)) throw e;
  return e;
}

describe('veth pairs', () => {
  test('created from TS, seen by ip with its peer; deleted from TS', async () => {
    const topo = await Topology.create();
    const a = topo.name('a');
    const b = topo.name('b');
    const link = await createVeth(a, b);

    const ipA = await ipLink(a);
    const ipB = await ipLink(b);
    expect(ipA.linkinfo?.info_kind).toBe('veth');
    expect(link).toMatchObject({ name: a, ifindex: ipA.ifindex, kind: 'veth', peerIfindex: ipB.ifindex, mac: ipA.address, mtu: ipA.mtu, up: false });
    expect(ipA.link).toBe(b); // ip names a same-namespace peer

    const listed = await listLinks();
    expect(listed.find((l) => l.name === b)).toMatchObject({ ifindex: ipB.ifindex, kind: 'veth', peerIfindex: ipA.ifindex });
    expect(listed.find((l) => l.name === 'lo')).toMatchObject({ ifindex: 1, arphrd: 772 });
    expect(await getLink(ipB.ifindex)).toMatchObject({ name: b });

    await deleteLink(a);
    expect(await ipHas(a)).toBe(false);
    expect(await ipHas(b)).toBe(false); // the peer goes with it
    expect(await findLink(a)).toBeUndefined();
  });

  test('peer created inside a named network namespace', async () => {
    const topo = await Topology.create();
    const [h] = await topo.hosts(1, `10.${randomInt(200, 250)}.${randomInt(0, 255)}.0/24`, { napi: false });
    const a = topo.name('a');
    const link = await createVeth(a, 'xswpeer0', { peerNetns: h!.ns });

    expect(await ipHas('xswpeer0', h!.ns)).toBe(true);
    expect(await ipHas('xswpeer0')).toBe(false);
    const peer = await ipLink('xswpeer0', h!.ns);
    const ipA = await ipLink(a);
    // The root end names the namespace holding its peer by netnsid, as ip does.
    expect(link.peerNetnsid).toBe(ipA.link_netnsid);
    expect(link.peerNetnsid).toBeGreaterThanOrEqual(0);
    expect(link.peerIfindex).toBe(peer.ifindex);

    const err = await nativeErrorOf(createVeth(topo.name('c'), 'p', { peerNetns: `${topo.prefix}none` }));
    expect(err).toMatchObject({ code: 'ENOENT', op: 'rtnl_newlink veth' });
    expect(err.detail).toContain(`${topo.prefix}none`);
  });

  test('up/down, MTU and MAC set from TS, read back with ip and getLink', async () => {
    const topo = await Topology.create();
    const a = topo.name('a');
    const b = topo.name('b');
    await createVeth(a, b);

    await setLinkUp(a, true);
    await setLinkUp(b, true);
    expect((await ipLink(a)).flags).toContain('UP');
    await setLinkMtu(a, 1400);
    expect((await ipLink(a)).mtu).toBe(1400);
    await setLinkMac(a, '02:12:34:56:78:9a');
    expect((await ipLink(a)).address).toBe('02:12:34:56:78:9a');
    const got = await getLink(a);
    expect(got).toMatchObject({ up: true, mtu: 1400, mac: '02:12:34:56:78:9a' });

    await configureLink(a, { up: false, mtu: 9000 });
    const ipA = await ipLink(a);
    expect(ipA.flags).not.toContain('UP');
    expect(ipA.mtu).toBe(9000);
    expect(await getLink(a)).toMatchObject({ up: false, running: false, operstate: 'down' });
  });

  test('link statistics grow after a ping', async () => {
    const topo = await Topology.create();
    const net = `10.${randomInt(200, 250)}.${randomInt(0, 255)}`;
    const [h] = await topo.hosts(1, `${net}.0/24`, { napi: false });
    // The host pings the root-namespace end of its veth.
    await run(['ip', 'addr', 'add', `${net}.254/24`, 'dev', h!.port]);
    const before = await linkStats(h!.port);
    expect(await h!.ping(`${net}.254`, { count: 3 })).toMatchObject({ received: 3 });
    const after = await linkStats(h!.port);
    expect(after.rxPackets - before.rxPackets).toBeGreaterThanOrEqual(3n);
    expect(after.txPackets - before.txPackets).toBeGreaterThanOrEqual(3n);
    expect(after.rxBytes - before.rxBytes).toBeGreaterThanOrEqual(3n * 98n);
    // Same counters as the kernel shows through ip -s.
    const ip = JSON.parse((await run(['ip', '-j', '-s', 'link', 'show', 'dev', h!.port])).stdout) as Array<{ stats64: { rx: { packets: number } } }>;
    expect(BigInt(ip[0]!.stats64.rx.packets)).toBeGreaterThanOrEqual(after.rxPackets);
  });
});

describe('taps', () => {
  test('created persistent, seen by ip as a tap without packet info; deleted', async () => {
    const topo = await Topology.create();
    const t = topo.name('t');
    expect(await createTap(t)).toBe(t);
    const ipT = await ipLink(t);
    expect(ipT.linkinfo).toMatchObject({ info_kind: 'tun', info_data: { type: 'tap', pi: false } });
    expect(await getLink(t)).toMatchObject({ kind: 'tun', arphrd: 1 });
    expect(await nativeErrorOf(createTap(t))).toMatchObject({ code: 'EEXIST' });

    await deleteTap(t);
    expect(await ipHas(t)).toBe(false);
    expect(await nativeErrorOf(deleteTap(t))).toMatchObject({ code: 'ENODEV', op: 'tap delete', detail: t });
  });

  test('deleting something that is not a tap is refused', async () => {
    const topo = await Topology.create();
    const [a] = await topo.vethPair('a', 'b');
    expect(await nativeErrorOf(deleteTap(a))).toMatchObject({ code: 'EINVAL' });
    expect(await ipHas(a)).toBe(true);
  });
});

describe('failures are NativeErrors with errno names; the process carries on', () => {
  test('bad ifindex, duplicate name, name too long, bad MTU', async () => {
    const topo = await Topology.create();
    const a = topo.name('a');
    const b = topo.name('b');

    let e = await nativeErrorOf(getLink(0x7ffffff0));
    expect(e).toMatchObject({ code: 'ENODEV', op: 'rtnl_getlink', detail: `ifindex ${0x7ffffff0}` });
    expect(e.errno).toBe(19);
    expect(e.message).toContain('ENODEV');
    expect(await nativeErrorOf(deleteLink(0x7ffffff0))).toMatchObject({ code: 'ENODEV', op: 'rtnl_dellink' });
    expect(await nativeErrorOf(setLinkUp(`${topo.prefix}zz`, true))).toMatchObject({ code: 'ENODEV', op: 'rtnl_setlink' });

    await createVeth(a, b);
    e = await nativeErrorOf(createVeth(a, `${topo.prefix}c`));
    expect(e).toMatchObject({ code: 'EEXIST', op: 'rtnl_newlink veth' });
    expect(e.detail).toContain(a);

    // IFNAMSIZ: the kernel's policy check answers ERANGE, its reason in the detail.
    e = await nativeErrorOf(createVeth('x'.repeat(16), `${topo.prefix}c`));
    expect(e.code).toBe('ERANGE');
    expect(e.detail).toMatch(/policy/);
    expect(await nativeErrorOf(createTap('x'.repeat(16)))).toMatchObject({ code: 'ENAMETOOLONG' });

    e = await nativeErrorOf(setLinkMtu(a, 1_000_000));
    expect(e.code).toBe('EINVAL');
    expect(e.detail).toContain('mtu 1000000');
    expect((await ipLink(a)).mtu).toBe(1500);

    expect(await ipHas(`${topo.prefix}c`)).toBe(false);
    expect((await getLink(a)).name).toBe(a); // still working
  });

  test('bad arguments are TypeErrors, never a crash', async () => {
    const raw = native();
    const bad = raw as unknown as Record<string, (...args: unknown[]) => unknown>;
    expect(() => bad.rtnlGetLink!('lo', 1)).toThrow(TypeError);
    expect(() => bad.rtnlGetLink!(0, '')).toThrow(TypeError);
    expect(() => bad.rtnlGetLink!(-1, 'lo')).toThrow(TypeError);
    expect(() => bad.rtnlSetLink!(1, '', { mtu: 'big' })).toThrow(TypeError);
    expect(() => bad.rtnlSetLink!(1, '', { mac: 'aa' })).toThrow(TypeError);
    expect(() => bad.rtnlSetLink!(1, '')).toThrow(TypeError);
    expect(() => bad.rtnlCreateVeth!('a')).toThrow(TypeError);
    expect(() => bad.rtnlMonitor!(42)).toThrow(TypeError);
    expect(() => bad.ethtoolSetFeatures!('lo', { 'tx-checksum-ip-generic': 1 })).toThrow(TypeError);
    expect(() => bad.tapCreate!()).toThrow(TypeError);
    // A NUL would end the C string early and name another device.
    expect(() => bad.rtnlDeleteLink!(0, 'lo\0x')).toThrow(TypeError);
    expect(() => bad.tapDelete!('lo\0x')).toThrow(TypeError);
    await expect(setLinkMac('lo', 'not-a-mac')).rejects.toThrow(TypeError);
    await expect(getLink(0)).rejects.toThrow(TypeError);
    expect(await nativeErrorOf(raw.rtnlCreateVeth('xswbad0', 'xswbad1', '../x'))).toMatchObject({ code: 'EINVAL' });
    expect((await getLink(1)).name).toBe('lo');
  });
});

test('any value passed to the read-only calls gives a result or an error, never a crash', async () => {
  const raw = native() as unknown as Record<string, (...args: unknown[]) => unknown>;
  await fc.assert(
    fc.asyncProperty(fc.constantFrom('rtnlGetLink', 'ethtoolGetFeatures'), fc.array(fc.anything(), { maxLength: 3 }), async (fn, args) => {
      try {
        await raw[fn]!(...args);
      } catch (e) {
        expect(e instanceof TypeError || e instanceof NativeError, String(e)).toBe(true);
      }
    }),
    { numRuns: 300 },
  );
  expect((await getLink(1)).name).toBe('lo');
});
