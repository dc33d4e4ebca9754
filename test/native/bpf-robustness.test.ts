// Nothing JS passes may crash the process: random arguments to the raw BPF surface give a
// result, a TypeError or a NativeError; a worker thread that ends with an open ring-buffer
// consumer and a batch in flight leaves the process running.
import { Worker } from 'node:worker_threads';
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { native } from '../../src/native/addon.js';
import { NativeError } from '../../src/native/errors.js';
import { addonPath } from '../../src/native/paths.js';
import { loadSelftest, SELFTEST, u32 } from './bpf-helpers.js';

const anyArg = fc.oneof(
  fc.constant(undefined),
  fc.constant(null),
  fc.integer({ min: -5, max: 1 << 20 }),
  fc.double(),
  fc.bigInt({ min: -1n, max: 1n << 70n }),
  fc.string({ maxLength: 8 }),
  fc.uint8Array({ maxLength: 80 }).map((a) => Buffer.from(a)),
  fc.constantFrom(0, 4, 8, 16, 32).map((n) => Buffer.alloc(n)),
  fc.constant({}),
  fc.constant(() => undefined),
);

function survives(fn: () => unknown): boolean {
  try {
    const r = fn();
    if (r instanceof Promise) r.catch(() => undefined);
    return true;
  } catch (e) {
    if (e instanceof TypeError || e instanceof NativeError) return true;
    throw e;
  }
}

describe('the BPF addon under hostile input', () => {
  test('random arguments to map, program and object calls never crash', async () => {
    const obj = loadSelftest();
    const names = ['st_tiny', 'st_big', 'st_counts', 'st_events', 'st_devmap'];
    const maps = names.map((n) => obj.map(n).handle);
    const progs = ['xsw_st_count', 'xsw_st_event', 'xsw_st_tc_redirect'].map((n) => obj.program(n).raw);
    const raw = native();
    const methods = ['lookup', 'update', 'delete', 'nextKey', 'updateBatch', 'lookupBatch', 'deleteBatch'] as const;
    fc.assert(
      fc.property(
        fc.nat(maps.length - 1),
        fc.constantFrom(...methods),
        fc.array(anyArg, { maxLength: 4 }),
        (mi, method, args) => {
          const m = maps[mi]! as unknown as Record<string, (...a: unknown[]) => unknown>;
          return survives(() => m[method]!.apply(maps[mi], args));
        },
      ),
      { numRuns: 1500 },
    );
    fc.assert(
      fc.property(fc.nat(progs.length - 1), anyArg, fc.oneof(fc.constant(undefined), fc.record({ repeat: anyArg, ctx: anyArg, dataOutSize: anyArg })), (pi, data, opts) =>
        survives(() => raw.progTestRun(progs[pi]!, data as Buffer, opts as never)),
      ),
      { numRuns: 300 },
    );
    fc.assert(
      fc.property(anyArg, anyArg, (a, b) => {
        survives(() => new raw.MapHandle(a as never));
        survives(() => new raw.MapHandle({ create: { type: 1, keySize: a, valueSize: b, maxEntries: 1, innerMap: b } } as never));
        survives(() => new raw.ProgHandle({ path: a } as never));
        if (typeof a !== 'string') survives(() => new raw.ObjectHandle(a as never)); // strings: paths, tested elsewhere
        survives(() => new raw.RingBufferHandle(a as never, b as never));
        survives(() => raw.xdpQuery(a as never));
        return true;
      }),
      { numRuns: 300 },
    );
    // Batches still run after all that, so the process and the maps are fine.
    await new Promise((r) => setTimeout(r, 100));
    const tiny = obj.map('st_tiny');
    tiny.update(u32(1), Buffer.alloc(8, 1));
    expect(tiny.lookup(u32(1))).toEqual(Buffer.alloc(8, 1));
  });

  test('a worker thread ending with an open ring buffer and a batch in flight', async () => {
    const code = `
      const { parentPort, workerData } = require('node:worker_threads');
      const addon = require(workerData.addon);
      addon.init({ NativeError: class NativeError extends Error {} });
      const obj = new addon.ObjectHandle(workerData.object);
      obj.load();
      const rb = new addon.RingBufferHandle(new addon.MapHandle({ object: obj, name: 'st_events' }), () => {});
      const big = new addon.MapHandle({ object: obj, name: 'st_big' });
      big.updateBatch(Buffer.alloc(8 * 50000), Buffer.alloc(16 * 50000), 50000);
      parentPort.postMessage('ready');
    `;
    for (const how of ['terminate', 'exit'] as const) {
      const w = new Worker(how === 'exit' ? code + 'process.exit(0);' : code, {
        eval: true,
        workerData: { addon: addonPath(), object: SELFTEST },
      });
      const exited = new Promise<number>((resolve) => w.once('exit', resolve));
      if (how === 'terminate') {
        await new Promise((resolve, reject) => {
          w.once('message', resolve);
          w.once('error', reject);
        });
        await w.terminate();
      }
      expect(typeof (await exited)).toBe('number');
    }
    expect(loadSelftest().map('st_tiny').lookup(u32(9))).toBeUndefined();
  });
});
