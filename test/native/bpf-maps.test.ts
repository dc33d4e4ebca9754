// Maps on the real kernel through the addon: single and batch operations, per-CPU values,
// pinning and reopening, and every failure surfacing as a JS error with its errno name.
import { mkdtempSync, readdirSync, readlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, test } from 'vitest';
import {
  attachXdp,
  BPF_NOEXIST,
  BpfMap,
  BpfObject,
  BpfProgram,
  ensureBpffs,
  MapType,
  possibleCpus,
  probe,
  progRun,
  ProgType,
  verifierLog,
  XdpAction,
} from '../../src/native/bpf.js';
import { NativeError } from '../../src/native/errors.js';
import { run } from '../harness/exec.js';
import { counter, loadSelftest, SELFTEST, tempPinDir, u32, u64 } from './bpf-helpers.js';

/** struct st_big_key { u32 id; u32 tag; } */
function bigKey(id: number, tag = 7): Buffer {
  const b = Buffer.alloc(8);
  b.writeUInt32LE(id, 0);
  b.writeUInt32LE(tag, 4);
  return b;
}

function counterValue(packets: number, bytes: number): Buffer {
  return Buffer.concat([u64(packets), u64(bytes)]);
}

async function expectNativeError(p: Promise<unknown> | (() => unknown), code: string, op?: string): Promise<NativeError> {
  let err: unknown;
  try {
    await (typeof p === 'function' ? p() : p);
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(NativeError);
  const ne = err as NativeError;
  expect(ne.code).toBe(code);
  if (op) expect(ne.op).toBe(op);
  return ne;
}

setFlagsFromString('--expose-gc');

describe('BPF maps', () => {
  test('single-element update, lookup, delete and iteration', () => {
    const obj = loadSelftest();
    const m = obj.map('st_tiny');
    expect([m.keySize, m.valueSize, m.maxEntries, m.perCpu]).toEqual([4, 8, 4, false]);
    expect(m.lookup(u32(1))).toBeUndefined();
    m.update(u32(1), u64(100));
    m.update(u32(2), u64(200));
    expect(m.lookup(u32(1))?.readBigUInt64LE(0)).toBe(100n);
    expect([...m.keys()].map((k) => k.readUInt32LE(0)).sort()).toEqual([1, 2]);
    expect(new Map([...m.entries()].map(([k, v]) => [k.readUInt32LE(0), v.readBigUInt64LE(0)]))).toEqual(
      new Map([
        [1, 100n],
        [2, 200n],
      ]),
    );
    expect(m.delete(u32(1))).toBe(true);
    expect(m.delete(u32(1))).toBe(false);
    expect([...m.keys()].map((k) => k.readUInt32LE(0))).toEqual([2]);
  });

  test('100,000 entries written by one batch call and read back by batch lookup', async () => {
    const m = loadSelftest().map('st_big');
    const n = 100_000;
    const keys = Buffer.alloc(n * m.keySize);
    const values = Buffer.alloc(n * m.valueLength);
    for (let i = 0; i < n; i++) {
      keys.writeUInt32LE(i, i * 8);
      keys.writeUInt32LE(7, i * 8 + 4);
      values.writeBigUInt64LE(BigInt(i), i * 16);
      values.writeBigUInt64LE(BigInt(i * 3), i * 16 + 8);
    }
    expect(await m.updateBatch(keys, values)).toBe(n);
    expect(m.lookup(bigKey(99_999))).toEqual(counterValue(99_999, 299_997));

    const dump = await m.lookupBatch();
    expect(dump.count).toBe(n);
    const seen = new Set<number>();
    let wrong = 0;
    for (let i = 0; i < dump.count; i++) {
      const id = dump.keys.readUInt32LE(i * 8);
      const v = dump.values.subarray(i * 16);
      if (v.readBigUInt64LE(0) !== BigInt(id) || v.readBigUInt64LE(8) !== BigInt(id * 3)) wrong++;
      seen.add(id);
    }
    expect({ wrong, distinct: seen.size }).toEqual({ wrong: 0, distinct: n });

    const gone = Array.from({ length: 1000 }, (_, i) => bigKey(i * 100));
    expect(await m.deleteBatch(gone)).toBe(1000);
    expect(m.lookup(bigKey(500))).toBeUndefined();
    expect((await m.lookupBatch()).count).toBe(n - 1000);
  });

  test('per-CPU values come back as one Buffer per possible CPU', async () => {
    const m = loadSelftest().map('st_counts');
    const cpus = possibleCpus();
    expect(m.perCpu).toBe(true);
    expect(m.valueLength).toBe(16 * cpus);
    const perCpu = Array.from({ length: cpus }, (_, c) => counterValue(c + 1, 10 * (c + 1)));
    m.update(u32(6), perCpu);
    const back = m.lookupPerCpu(u32(6));
    expect(back).toHaveLength(cpus);
    expect(back!.map(counter)).toEqual(perCpu.map(counter));
    const dump = await m.lookupBatch();
    expect(dump.count).toBe(m.maxEntries); // arrays always hold max_entries
    const i = [...dump.entries()].findIndex(([k]) => k.readUInt32LE(0) === 6);
    expect(dump.valuePerCpu(i).map(counter)).toEqual(perCpu.map(counter));
  });

  test('pinned maps and programs reopen by path after the object is gone', async () => {
    const dir = tempPinDir();
    const first = BpfObject.load(SELFTEST, { pinDir: dir });
    first.map('st_tiny').update(u32(3), u64(33));
    const prog = first.program('xsw_st_count');
    prog.pin(`${dir}/xsw_st_count`);
    prog.close();
    first.close();

    // A "restart": the pinned map keeps its contents, whether reopened alone...
    const m = BpfMap.fromPinned(`${dir}/st_tiny`);
    expect(m.lookup(u32(3))?.readBigUInt64LE(0)).toBe(33n);
    // ...or reused by a new object loaded with the same pin directory.
    const second = BpfObject.load(SELFTEST, { pinDir: dir });
    expect(second.map('st_tiny').id).toBe(m.id);
    expect(second.map('st_tiny').lookup(u32(3))?.readBigUInt64LE(0)).toBe(33n);
    second.close();
    m.close();

    const p = BpfProgram.fromPinned(`${dir}/xsw_st_count`);
    expect(p.name).toBe('xsw_st_count');
    const r = await progRun(p, Buffer.alloc(64));
    expect(r.retval).toBe(XdpAction.PASS);
    p.close();
  });
});

describe('BPF errors reach JS with errno names, the process alive', () => {
  test('a full map refuses inserts with E2BIG; NOEXIST on an existing key is EEXIST', async () => {
    const m = loadSelftest().map('st_tiny');
    for (let i = 0; i < 4; i++) m.update(u32(i), u64(i));
    const e = await expectNativeError(() => m.update(u32(99), u64(0)), 'E2BIG', 'bpf_map_update_elem');
    expect(e.detail).toBe('st_tiny');
    await expectNativeError(() => m.update(u32(1), u64(0), BPF_NOEXIST), 'EEXIST');
    // A batch into the full map fails the same way and says how far it got.
    await expectNativeError(m.updateBatch([u32(1), u32(100)], [u64(1), u64(2)]), 'E2BIG', 'bpf_map_update_batch');
  });

  test('wrong key and value sizes are TypeErrors checked before the syscall', async () => {
    const obj = loadSelftest();
    const tiny = obj.map('st_tiny');
    expect(() => tiny.update(Buffer.alloc(3), u64(1))).toThrow(TypeError);
    expect(() => tiny.update(u32(1), Buffer.alloc(7))).toThrow(/must be 8 bytes for map st_tiny/);
    expect(() => tiny.lookup(Buffer.alloc(64))).toThrow(TypeError);
    expect(() => tiny.delete(Buffer.alloc(0))).toThrow(TypeError);
    expect(() => tiny.updateBatch(Buffer.alloc(12), Buffer.alloc(16))).toThrow(TypeError);
    expect(() => obj.map('st_counts').update(u32(0), Buffer.alloc(16))).toThrow(TypeError); // not per CPU
    expect(() => obj.map('st_counts').update(u32(0), [Buffer.alloc(16)])).toThrow(TypeError);
    // The raw layer checks too: nothing JS passes reaches libbpf unchecked.
    const raw = obj.map('st_big').handle;
    expect(() => raw.update(u32(1) as Buffer, Buffer.alloc(16))).toThrow(TypeError);
    expect(() => raw.updateBatch(Buffer.alloc(8), Buffer.alloc(16), 1000)).toThrow(TypeError);
    expect(() => raw.lookup('key' as unknown as Buffer, Buffer.alloc(16))).toThrow(TypeError);
    // An array index past max_entries is simply absent.
    expect(obj.map('st_counts').lookup(u32(1 << 20))).toBeUndefined();
  });

  test('missing object file, missing map, bad ifindex and closed or bogus program handles', async () => {
    await expectNativeError(() => BpfObject.open('/nonexistent/xsw.bpf.o'), 'ENOENT', 'bpf_object__open_file');
    const obj = loadSelftest();
    await expectNativeError(() => obj.map('no_such_map'), 'ENOENT');
    const prog = obj.program('xsw_st_count');
    await expectNativeError(() => attachXdp(0x7ffffff0, prog), 'ENODEV', 'bpf_xdp_attach');
    await expectNativeError(() => BpfProgram.fromId(0x7ffffff0), 'ENOENT');
    const dir = tempPinDir();
    obj.map('st_tiny').pin(`${dir}/st_tiny`);
    await expectNativeError(() => BpfProgram.fromPinned(`${dir}/st_tiny`), 'EINVAL'); // a map, not a program
    prog.close();
    await expectNativeError(progRun(prog, Buffer.alloc(64)), 'EBADF');
    await expectNativeError(() => attachXdp(1, prog), 'EBADF');
    const m = obj.map('st_tiny');
    m.close();
    await expectNativeError(() => m.lookup(u32(0)), 'EBADF');
    // A map handle where a program belongs is a TypeError, not a crash.
    expect(() => attachXdp(1, { raw: m.handle } as unknown as BpfProgram)).toThrow(TypeError);
  });

  test('handles release their fds on close() and when garbage-collected', async () => {
    const obj = loadSelftest();
    // BPF map and program fds of this process (others come and go with the test runner).
    const fds = () =>
      readdirSync('/proc/self/fd').filter((fd) => {
        try {
          return /^anon_inode:bpf-(map|prog)$/.test(readlinkSync(`/proc/self/fd/${fd}`));
        } catch {
          return false;
        }
      }).length;
    const gc = runInNewContext('gc') as () => void;
    // Let handles dropped by earlier tests go first.
    for (let i = 0; i < 3; i++) {
      gc();
      await new Promise((r) => setTimeout(r, 10));
    }
    const before = fds();
    const held = Array.from({ length: 100 }, () => obj.map('st_tiny'));
    expect(fds()).toBe(before + 100);
    for (const m of held) m.close();
    expect(fds()).toBe(before);
    (() => {
      for (let i = 0; i < 100; i++) obj.program('xsw_st_count');
    })();
    for (let i = 0; i < 20 && fds() > before; i++) {
      gc();
      await new Promise((r) => setTimeout(r, 10));
    }
    expect(fds()).toBe(before);
  });

  test('bpffs is mounted where it is missing, and pins land there', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'xsw-bpffs-'));
    try {
      expect(ensureBpffs(dir)).toBe(true);
      expect(ensureBpffs(dir)).toBe(false); // already there
      const m = loadSelftest().map('st_tiny');
      m.pin(`${dir}/st_tiny`);
      expect(BpfMap.fromPinned(`${dir}/st_tiny`).id).toBe(m.id);
    } finally {
      await run(['umount', dir], { allowFail: true });
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('const volatile globals are set before load and the verifier sees them', async () => {
    const opened = BpfObject.open(SELFTEST);
    expect(opened.globals()).toContainEqual({ name: 'st_verdict', section: '.rodata', offset: 0, size: 4 });
    opened.close();
    const drop = loadSelftest({ globals: { st_verdict: u32(XdpAction.DROP) } });
    expect((await progRun(drop.program('xsw_st_verdict'), Buffer.alloc(64))).retval).toBe(XdpAction.DROP);
    const dflt = loadSelftest();
    expect((await progRun(dflt.program('xsw_st_verdict'), Buffer.alloc(64))).retval).toBe(XdpAction.PASS);
    expect(() => BpfObject.open(SELFTEST, { globals: { st_verdict: u64(1) } })).toThrow(/must be 4 bytes/);
    await expectNativeError(() => BpfObject.open(SELFTEST, { globals: { nope: u32(1) } }), 'ENOENT');
    await expectNativeError(() => dflt.setGlobal('st_verdict', u32(1)), 'EBUSY');
  });

  test('a program the verifier refuses fails the load with EACCES and the log', async () => {
    const e = await expectNativeError(() => BpfObject.load(SELFTEST, { autoload: { xsw_st_unsafe: true } }), 'EACCES', 'bpf_object__load');
    expect(verifierLog(e)).toMatch(/invalid access to packet/);
    expect(verifierLog(e)!.split('\n').length).toBeLessThanOrEqual(42);
    loadSelftest(); // skipped by default ("?xdp"), so the object loads
  });

  test('feature probes answer for this kernel; fds are real BPF fds', () => {
    expect(probe.mapType(MapType.DEVMAP_HASH)).toBe(true);
    expect(probe.mapType(MapType.RINGBUF)).toBe(true);
    expect(probe.progType(ProgType.XDP)).toBe(true);
    expect(probe.helper(ProgType.XDP, 51)).toBe(true); // bpf_redirect_map
    expect(probe.helper(ProgType.XDP, 100_000)).toBe(false); // no such helper
    expect(probe.kernelFunc('bpf_prog_test_run_xdp')).toBe(true);
    expect(probe.kernelFunc('xsw_no_such_function')).toBe(false);
    expect(probe.kernelFunc('bpf_xdp_ct_lookup', 'xsw_no_such_module')).toBe(false);
    expect(probe.tcx()).toBe(true); // Linux 6.18 here
    const obj = loadSelftest();
    expect(readlinkSync(`/proc/self/fd/${obj.map('st_tiny').fd}`)).toBe('anon_inode:bpf-map');
    expect(readlinkSync(`/proc/self/fd/${obj.program('xsw_st_count').fd}`)).toBe('anon_inode:bpf-prog');
  });

  test('maps created from TypeScript, inner maps of a map-in-map included', () => {
    const inner = BpfMap.create({ type: MapType.HASH, keySize: 4, valueSize: 8, maxEntries: 16, name: 'xsw_t_inner' });
    inner.update(u32(1), u64(11));
    expect(inner.name).toBe('xsw_t_inner');
    const outer = BpfMap.create({ type: MapType.ARRAY_OF_MAPS, keySize: 4, valueSize: 4, maxEntries: 4, innerMap: inner });
    outer.update(u32(2), u32(inner.fd)); // fd in...
    expect(outer.lookup(u32(2))?.readUInt32LE(0)).toBe(inner.id); // ...id out
    expect(BpfMap.fromId(inner.id).lookup(u32(1))?.readBigUInt64LE(0)).toBe(11n);
    // An inner map of another shape is refused by the kernel.
    const other = BpfMap.create({ type: MapType.HASH, keySize: 8, valueSize: 8, maxEntries: 16 });
    expect(() => outer.update(u32(3), u32(other.fd))).toThrow(/EINVAL/);
    expect(() => BpfMap.create({ type: MapType.HASH, keySize: 0, valueSize: 8, maxEntries: 1 })).toThrow(/EINVAL/);
    expect(() => BpfMap.create({ type: -1, keySize: 4, valueSize: 8, maxEntries: 1 })).toThrow(TypeError);
    for (const m of [inner, outer, other]) m.close();
  });
});
