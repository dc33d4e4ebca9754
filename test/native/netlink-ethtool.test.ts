// ethtool features through the addon's SIOCETHTOOL calls, checked with `ethtool -k`:
// TX checksum offload and RX VLAN offload off and on, refusals reported, errors named.
import { expect, test } from 'vitest';
import { run } from '../harness/exec.js';
import { Topology } from '../harness/topology.js';
import { NativeError } from '../../src/native/errors.js';
import { createTap, getFeatures, setFeatures, setRxVlanOffload, setTxChecksum } from '../../src/native/netlink.js';

/** `ethtool -k` as { feature: "on" | "off" | "on [fixed]" | ... }. */
async function ethtoolK(ifname: string): Promise<Record<string, string>> {
  const out = (await run(['ethtool', '-k', ifname])).stdout;
  const m: Record<string, string> = {};
  for (const line of out.split('\n').slice(1)) {
    const i = line.indexOf(':');
    if (i > 0) m[line.slice(0, i).trim()] = line.slice(i + 1).trim();
  }
  return m;
}

test('TX checksum offload off and on, as ethtool -k shows it', async () => {
  const topo = await Topology.create();
  const [a] = await topo.vethPair('a', 'b');
  expect((await ethtoolK(a))['tx-checksumming']).toBe('on');

  const off = await setTxChecksum(a, false);
  const k = await ethtoolK(a);
  expect(k['tx-checksumming']).toBe('off');
  expect(k['tx-checksum-ip-generic']).toBe('off');
  expect(off.changed).toContain('tx-checksum-ip-generic');
  expect(off.refused).toEqual([]);
  expect(off.features.get('tx-checksum-ip-generic')).toMatchObject({ active: false, changeable: true });

  const on = await setTxChecksum(a, true);
  expect((await ethtoolK(a))['tx-checksumming']).toBe('on');
  expect(on.changed).toContain('tx-checksum-ip-generic');
  expect(on.refused).toEqual([]);
  // Asking again changes nothing and refuses nothing.
  expect(await setTxChecksum(a, true)).toMatchObject({ changed: [], refused: [] });
});

test('RX VLAN offload off and on; what the driver cannot change is reported refused', async () => {
  const topo = await Topology.create();
  const [a] = await topo.vethPair('a', 'b');
  expect((await ethtoolK(a))['rx-vlan-offload']).toBe('on');
  expect(await setRxVlanOffload(a, false)).toMatchObject({ changed: ['rx-vlan-hw-parse'], refused: [] });
  expect((await ethtoolK(a))['rx-vlan-offload']).toBe('off');
  expect(await setRxVlanOffload(a, true)).toMatchObject({ changed: ['rx-vlan-hw-parse'], refused: [] });
  expect((await ethtoolK(a))['rx-vlan-offload']).toBe('on');

  // A tap has no VLAN offload: "off [fixed]".
  const t = topo.name('t');
  await createTap(t);
  expect((await ethtoolK(t))['rx-vlan-offload']).toBe('off [fixed]');
  const r = await setRxVlanOffload(t, true);
  expect(r).toMatchObject({ changed: [], refused: ['rx-vlan-hw-parse'] });
  expect(r.features.get('rx-vlan-hw-parse')).toMatchObject({ active: false, changeable: false });
  // Fixed features read as not changeable (loopback's checksum is "on [fixed]").
  const lo = await getFeatures('lo');
  expect(lo.get('tx-checksum-ip-generic')).toMatchObject({ active: true, changeable: false });
});

test('features read by name match ethtool -k; errors are NativeErrors', async () => {
  const topo = await Topology.create();
  const [a] = await topo.vethPair('a', 'b');
  const feats = await getFeatures(a);
  const k = await ethtoolK(a);
  // Kernel names; ethtool prints a few under legacy names.
  const shown: Record<string, string> = { 'rx-gro': 'generic-receive-offload', 'rx-vlan-hw-parse': 'rx-vlan-offload' };
  for (const name of ['tx-checksum-ip-generic', 'tx-scatter-gather', 'tx-tcp-segmentation', 'rx-vlan-stag-hw-parse', 'rx-gro', 'rx-vlan-hw-parse']) {
    expect(k[shown[name] ?? name], name).toBeDefined();
    expect(feats.get(name)?.active, name).toBe(k[shown[name] ?? name]!.startsWith('on'));
    expect(feats.get(name)?.changeable, name).toBe(!k[shown[name] ?? name]!.includes('[fixed]'));
  }

  const noDev = await setFeatures(`${topo.prefix}zz`, { 'rx-vlan-hw-parse': false }).catch((e: unknown) => e);
  expect(noDev).toBeInstanceOf(NativeError);
  expect(noDev).toMatchObject({ code: 'ENODEV', detail: `${topo.prefix}zz` });
  const noFeature = await setFeatures(a, { 'no-such-feature': true }).catch((e: unknown) => e);
  expect(noFeature).toMatchObject({ code: 'ENOENT', detail: `${a} feature no-such-feature` });
  await expect(getFeatures('x'.repeat(16))).rejects.toMatchObject({ code: 'ENAMETOOLONG' });
  expect((await ethtoolK(a))['rx-vlan-offload']).toBe('on'); // nothing applied
});
