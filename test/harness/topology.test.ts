// The harness itself: hosts reach each other only when something joins their ports,
// captured bytes are the sent bytes, and nothing is left behind afterwards.
import { describe, expect, test } from 'vitest';
import { run } from './exec.js';
import { Topology } from './topology.js';

async function netnsList(): Promise<string> {
  return (await run(['ip', 'netns', 'list'])).stdout;
}

describe('Topology', () => {
  test('two hosts reach each other through a Linux bridge on their ports', async () => {
    const topo = await Topology.create();
    const [a, b] = await topo.hosts(2, '10.251.1.0/24');
    expect((await a.ping(b, { count: 1, timeoutS: 0.5 })).received).toBe(0);
    const br = topo.name('br');
    await run(['ip', 'link', 'add', br, 'type', 'bridge']);
    await run(['ip', 'link', 'set', br, 'up']);
    for (const h of [a!, b!]) await run(['ip', 'link', 'set', h.port, 'master', br]);
    expect(await a!.ping(b!, { count: 3 })).toEqual({ transmitted: 3, received: 3 });
  });

  test('a frame sent raw arrives byte for byte in a capture', async () => {
    const topo = await Topology.create();
    const [a, b] = await topo.hosts(2, '10.251.2.0/24');
    const br = topo.name('br');
    await run(['ip', 'link', 'add', br, 'type', 'bridge']);
    await run(['ip', 'link', 'set', br, 'up']);
    for (const h of [a!, b!]) await run(['ip', 'link', 'set', h.port, 'master', br]);
    const frame = Buffer.concat([
      Buffer.from(b!.mac.replaceAll(':', ''), 'hex'),
      Buffer.from(a!.mac.replaceAll(':', ''), 'hex'),
      Buffer.from('88b5', 'hex'), // local experimental ethertype
      Buffer.from('xdpswitch harness test payload, padded to 60 bytes'),
    ]);
    const cap = await b!.capture('ether proto 0x88b5');
    await a!.sendFrames([frame]);
    await new Promise((r) => setTimeout(r, 300));
    const frames = await cap.stop();
    expect(frames.map((f) => f.data.toString('hex'))).toEqual([frame.toString('hex')]);
  });

  test('destroy removes namespaces and links, even after a failing body', async () => {
    const topo = await Topology.create();
    await topo.hosts(1, '10.251.3.0/24');
    expect(await netnsList()).toContain(`${topo.prefix}h1`);
    await topo.destroy();
    expect(await netnsList()).not.toContain(topo.prefix);
    expect((await run(['ip', 'link', 'show', `${topo.prefix}h1`], { allowFail: true })).code).not.toBe(0);
  });
});
