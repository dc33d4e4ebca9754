// Link events from the addon's RTNLGRP_LINK socket (uv_poll, no polling loop): links
// added, changed and deleted by `ip` from outside, with the up/down transitions TS derives.
import { spawnSync } from 'node:child_process';
import { expect, test } from 'vitest';
import { run, waitFor } from '../harness/exec.js';
import { Topology } from '../harness/topology.js';
import { getLink, type LinkEvent, listLinks, watchLinks, type LinkWatch } from '../../src/native/netlink.js';

/** Collects events of the given links; `next` waits for a matching event not taken yet. */
async function watch(names: string[]): Promise<{ w: LinkWatch; events: LinkEvent[]; errors: Error[]; next(pred: (e: LinkEvent) => boolean, what: string): Promise<LinkEvent> }> {
  const events: LinkEvent[] = [];
  const errors: Error[] = [];
  const taken = new Set<LinkEvent>();
  const w = await watchLinks({
    onEvent: (e) => {
      if (names.includes(e.link.name)) events.push(e);
    },
    onError: (e) => errors.push(e),
  });
  return {
    w,
    events,
    errors,
    async next(pred, what) {
      const e = await waitFor(() => events.find((x) => !taken.has(x) && pred(x)), what, 5000, 10);
      taken.add(e);
      return e;
    },
  };
}

test('add, link-up, link-down and delete events for a veth changed with ip', async () => {
  const topo = await Topology.create();
  const a = topo.name('a');
  const b = topo.name('b');
  const { w, events, errors, next } = await watch([a, b]);
  try {
    await run(['ip', 'link', 'add', a, 'type', 'veth', 'peer', 'name', b]);
    const addA = await next((e) => e.link.name === a, `add ${a}`);
    expect(addA).toMatchObject({ type: 'add', link: { name: a, kind: 'veth', running: false } });
    await next((e) => e.link.name === b && e.type === 'add', `add ${b}`);
    expect(w.links.get(addA.link.ifindex)?.name).toBe(a);

    await run(['ip', 'link', 'set', a, 'up']);
    await run(['ip', 'link', 'set', b, 'up']);
    const upA = await next((e) => e.link.name === a && e.transition !== undefined, `${a} up`);
    expect(upA).toMatchObject({ type: 'change', transition: 'up', link: { up: true, running: true } });

    await run(['ip', 'link', 'set', a, 'down']);
    const downA = await next((e) => e.link.name === a && e.transition !== undefined, `${a} down`);
    expect(downA).toMatchObject({ type: 'change', transition: 'down', link: { up: false, running: false } });
    // The peer loses its carrier with it.
    expect(await waitFor(() => events.find((e) => e.link.name === b && e.transition === 'down'), `${b} down`)).toBeDefined();

    await run(['ip', 'link', 'set', a, 'up']);
    await next((e) => e.link.name === a && e.transition === 'up', `${a} up again`);

    await run(['ip', 'link', 'del', a]);
    const del = await waitFor(() => {
      const d = events.filter((e) => e.type === 'delete');
      return d.length >= 2 ? d : undefined;
    }, 'delete events of both ends');
    expect(del.map((e) => e.link.name).sort()).toEqual([a, b].sort());
    // A running link going away reports it went down (the kernel closes it first).
    expect(events.filter((e) => e.link.name === a && e.transition).at(-1)?.transition).toBe('down');
    expect(w.links.get(addA.link.ifindex)).toBeUndefined();
    expect(errors).toEqual([]);
  } finally {
    w.close();
  }
});

test('no events after close, and the baseline needs no event', async () => {
  const topo = await Topology.create();
  const [a] = await topo.vethPair('a', 'b');
  const link = await waitFor(async () => {
    const l = await getLink(a);
    return l.running ? l : undefined;
  }, `${a} running`);
  const { w, events, next } = await watch([a]);
  // Known from the listing made at start: a change, never an add.
  expect(w.links.get(link.ifindex)).toMatchObject({ name: a, running: true });
  await run(['ip', 'link', 'set', a, 'mtu', '1400']);
  expect(await next((e) => e.link.mtu === 1400, 'mtu change')).toMatchObject({ type: 'change', link: { name: a } });
  expect(events.some((e) => e.type === 'add')).toBe(false);

  w.close();
  w.close(); // idempotent
  const count = events.length;
  await run(['ip', 'link', 'set', a, 'down']);
  await new Promise((r) => setTimeout(r, 200));
  expect(events.length).toBe(count);
});

test('events lost to a full socket buffer are recovered by re-listing', async () => {
  const topo = await Topology.create();
  const names = Array.from({ length: 24 }, (_, i) => topo.name(`o${i}`));
  const events: LinkEvent[] = [];
  const errors: Error[] = [];
  // The smallest buffer the kernel allows, so a burst overflows it.
  const w = await watchLinks({ onEvent: (e) => events.push(e), onError: (e) => errors.push(e) }, { rcvbuf: 1 });
  try {
    // Links appear while JS is blocked, as when the daemon is busy: the socket overflows.
    const script = names.filter((_, i) => i % 2 === 0).map((n, i) => `link add ${n} type veth peer name ${names[2 * i + 1]}`).join('\n');
    const r = spawnSync('ip', ['-batch', '-'], { input: script });
    expect(r.status).toBe(0);
    const added = await waitFor(() => {
      const got = new Set(events.filter((e) => e.type === 'add').map((e) => e.link.name));
      return names.every((n) => got.has(n)) ? got : undefined;
    }, 'add events for every link');
    expect(added.size).toBeGreaterThanOrEqual(names.length);
    expect(w.overruns).toBeGreaterThan(0);
    const listed = await listLinks();
    expect([...w.links.keys()].sort()).toEqual(listed.map((l) => l.ifindex).sort());
    expect(errors).toEqual([]);
  } finally {
    w.close();
  }
});
