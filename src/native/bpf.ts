// Typed BPF wrappers over the addon (raw-bpf.ts): objects, maps, programs, XDP and TC
// attachment, BPF_PROG_RUN and ring buffers. Policy lives here (hook and mode choice,
// pin paths, per-CPU splitting); the addon only makes the calls. netlink.ts is the twin.
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { native } from './addon.js';
import { NativeError } from './errors.js';
import type {
  RawGlobal,
  RawLinkHandle,
  RawMapHandle,
  RawMapInfo,
  RawObjectHandle,
  RawObjectMap,
  RawObjectProgram,
  RawProgHandle,
  RawProgInfo,
  RawRingBufferHandle,
} from './raw-bpf.js';

/** bpf_map_update_elem flags. */
export const BPF_ANY = 0;
export const BPF_NOEXIST = 1;
export const BPF_EXIST = 2;

/** BPF_MAP_TYPE_* values this project uses. */
export const MapType = {
  HASH: 1,
  ARRAY: 2,
  PERCPU_HASH: 5,
  PERCPU_ARRAY: 6,
  LRU_HASH: 9,
  LRU_PERCPU_HASH: 10,
  DEVMAP: 14,
  ARRAY_OF_MAPS: 12,
  HASH_OF_MAPS: 13,
  DEVMAP_HASH: 25,
  RINGBUF: 27,
} as const;

/** BPF_PROG_TYPE_* values this project uses. */
export const ProgType = { SCHED_CLS: 3, XDP: 6 } as const;

/** XDP verdicts (enum xdp_action). */
export const XdpAction = { ABORTED: 0, DROP: 1, PASS: 2, TX: 3, REDIRECT: 4 } as const;

/** TC verdicts (TC_ACT_*). */
export const TcAction = { OK: 0, SHOT: 2, REDIRECT: 7 } as const;

const XDP_FLAGS_UPDATE_IF_NOEXIST = 1 << 0;
const XDP_FLAGS_SKB_MODE = 1 << 1;
const XDP_FLAGS_DRV_MODE = 1 << 2;
const BPF_F_TEST_XDP_LIVE_FRAMES = 1 << 1;
/** Not in Debian 12's 6.1 uapi headers: tcx arrived in Linux 6.6. */
const BPF_TCX_INGRESS = 46;
const BPF_TCX_EGRESS = 47;

/** Where pinned objects live unless told otherwise. */
export const BPFFS_ROOT = '/sys/fs/bpf';

/**
 * Makes sure `path` (default /sys/fs/bpf) is a bpffs mount, mounting one if it is not.
 * Returns true when it had to mount.
 */
export function ensureBpffs(path = BPFFS_ROOT): boolean {
  return native().mountBpffs(path);
}

/** Number of possible CPUs: the number of slots in a per-CPU value. */
export function possibleCpus(): number {
  return native().possibleCpus();
}

/** Feature probes, for choosing a tier at start (and logging the choice). */
export const probe = {
  mapType: (type: number): boolean => native().probeMapType(type),
  progType: (type: number): boolean => native().probeProgType(type),
  /**
   * Whether the kernel knows helper number `helperId` (enum bpf_func_id) for `progType`.
   * libbpf 1.1 only spots unknown helpers: one known but refused for the type reads true.
   */
  helper: (progType: number, helperId: number): boolean => native().probeHelper(progType, helperId),
  /** A function (kfunc) in the kernel's BTF, or in a loaded module's (e.g. 'nf_conntrack'). */
  kernelFunc: (name: string, module?: string): boolean => native().kernelHasFunc(name, module),
  /** tcx hooks (Linux ≥ 6.6): querying the loopback device's tcx ingress works. */
  tcx: (): boolean => {
    try {
      native().tcxQuery(1, BPF_TCX_INGRESS);
      return true;
    } catch (e) {
      if (e instanceof NativeError && e.code === 'EINVAL') return false;
      throw e;
    }
  },
};

export interface OpenOptions {
  /**
   * A directory on bpffs: each map (or those in `pinMaps`) is pinned there under its own
   * name, and an object opened later with the same directory reuses the pinned maps, so
   * their contents survive a restart.
   */
  pinDir?: string;
  /** Maps to pin when `pinDir` is set (default: all but .rodata/.bss/.data/.kconfig). */
  pinMaps?: readonly string[];
  /** Overrides of max_entries, applied before load. */
  maxEntries?: Readonly<Record<string, number>>;
  /**
   * Initial values of global variables, set before load: `const volatile` load-time facts
   * in .rodata that the verifier then treats as constants. Each exactly the variable's size.
   */
  globals?: Readonly<Record<string, Buffer>>;
  /** Programs to load or skip, overriding their section (SEC("?xdp") starts skipped). */
  autoload?: Readonly<Record<string, boolean>>;
}

/** An ELF BPF object: open, adjust, load, then take maps and programs out of it. */
export class BpfObject {
  private loaded = false;

  private constructor(
    private readonly raw: RawObjectHandle,
    readonly path: string,
    private readonly opts: OpenOptions,
  ) {}

  static open(path: string, opts: OpenOptions = {}): BpfObject {
    const raw = new (native().ObjectHandle)(path);
    const obj = new BpfObject(raw, path, opts);
    try {
      for (const [name, n] of Object.entries(opts.maxEntries ?? {})) raw.setMapMaxEntries(name, n);
      for (const [name, v] of Object.entries(opts.globals ?? {})) raw.setGlobal(name, v);
      for (const [name, on] of Object.entries(opts.autoload ?? {})) raw.setAutoload(name, on);
      if (opts.pinDir !== undefined) obj.preparePins(opts.pinDir);
    } catch (e) {
      raw.close();
      throw e;
    }
    return obj;
  }

  /** Opens and loads in one step. */
  static load(path: string, opts: OpenOptions = {}): BpfObject {
    const obj = BpfObject.open(path, opts);
    try {
      obj.load();
    } catch (e) {
      obj.close();
      throw e;
    }
    return obj;
  }

  private preparePins(dir: string): void {
    ensureBpffsFor(dir);
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const wanted = this.opts.pinMaps ? new Set(this.opts.pinMaps) : undefined;
    for (const m of this.raw.maps()) {
      if (wanted ? !wanted.has(m.name) : m.name.includes('.')) continue; // .rodata and friends
      this.raw.setMapPinPath(m.name, `${dir}/${m.name}`);
    }
  }

  /**
   * Verifies and loads every program, creating (or reusing pinned) maps. A verifier
   * rejection's NativeError carries the log's last lines (see verifierLog()).
   */
  load(): void {
    this.raw.load();
    this.loaded = true;
  }

  get isLoaded(): boolean {
    return this.loaded;
  }

  maps(): RawObjectMap[] {
    return this.raw.maps();
  }

  programs(): RawObjectProgram[] {
    return this.raw.programs();
  }

  /** Global variables with their section, offset and size (from the object's BTF). */
  globals(): RawGlobal[] {
    return this.raw.globals();
  }

  /** Sets a global's initial value; only before load. */
  setGlobal(name: string, value: Buffer): void {
    this.raw.setGlobal(name, value);
  }

  /** A map of the loaded object; the handle stays valid after the object is closed. */
  map(name: string): BpfMap {
    return new BpfMap(new (native().MapHandle)({ object: this.raw, name }));
  }

  /** A program of the loaded object; the handle stays valid after the object is closed. */
  program(name: string): BpfProgram {
    return new BpfProgram(new (native().ProgHandle)({ object: this.raw, name }));
  }

  /** Frees the object. Maps and programs still referenced by handles, pins or attachments live on. */
  close(): void {
    this.raw.close();
  }
}

/** The verifier's last words, when a load failed because a program was refused. */
export function verifierLog(e: unknown): string | undefined {
  if (!(e instanceof NativeError)) return undefined;
  const log = (e as NativeError & { verifierLog?: unknown }).verifierLog;
  return typeof log === 'string' ? log : undefined;
}

function ensureBpffsFor(dir: string): void {
  // Pins must land on bpffs; only the conventional root is mounted on demand.
  if (dir === BPFFS_ROOT || dir.startsWith(BPFFS_ROOT + '/')) ensureBpffs(BPFFS_ROOT);
  else mkdirSync(dirname(dir), { recursive: true });
}

/** Result of a whole-map batch lookup: entries packed back to back. */
export class MapDump {
  constructor(
    readonly count: number,
    /** count × keySize bytes. */
    readonly keys: Buffer,
    /** count × valueLength bytes. */
    readonly values: Buffer,
    private readonly map: BpfMap,
  ) {}

  key(i: number): Buffer {
    const k = this.map.keySize;
    return this.keys.subarray(i * k, (i + 1) * k);
  }

  value(i: number): Buffer {
    const v = this.map.valueLength;
    return this.values.subarray(i * v, (i + 1) * v);
  }

  /** For per-CPU maps: the value of entry i, one Buffer per CPU. */
  valuePerCpu(i: number): Buffer[] {
    return this.map.splitPerCpu(this.value(i));
  }

  *entries(): Generator<[Buffer, Buffer]> {
    for (let i = 0; i < this.count; i++) yield [this.key(i), this.value(i)];
  }
}

/** Keys or values for a batch: one Buffer per entry, or all of them packed. */
export type BatchInput = readonly Buffer[] | Buffer;

/** A map fd with its kernel-reported layout. Values of per-CPU maps are per CPU. */
export class BpfMap {
  readonly name: string;
  readonly id: number;
  readonly type: number;
  readonly keySize: number;
  readonly valueSize: number;
  readonly maxEntries: number;
  readonly perCpu: boolean;
  /** Bytes of a whole value as the syscalls see it: valueSize, or per CPU 8-aligned slots. */
  readonly valueLength: number;
  private readonly slot: number;

  constructor(private readonly raw: RawMapHandle) {
    const i = raw.info();
    this.name = i.name;
    this.id = i.id;
    this.type = i.type;
    this.keySize = i.keySize;
    this.valueSize = i.valueSize;
    this.maxEntries = i.maxEntries;
    this.perCpu = i.perCpu;
    this.valueLength = i.valueLength;
    this.slot = Math.ceil(i.valueSize / 8) * 8;
  }

  /** Reopens a map pinned on bpffs (for example after a restart). */
  static fromPinned(path: string): BpfMap {
    return new BpfMap(new (native().MapHandle)({ path }));
  }

  static fromId(id: number): BpfMap {
    return new BpfMap(new (native().MapHandle)({ id }));
  }

  /**
   * Creates a map outside any object, e.g. an inner map to put into an ARRAY_OF_MAPS /
   * HASH_OF_MAPS (whose value is the inner map's fd on update, its id on lookup).
   */
  static create(spec: {
    type: number;
    keySize: number;
    valueSize: number;
    maxEntries: number;
    name?: string;
    flags?: number;
    innerMap?: BpfMap;
  }): BpfMap {
    const { innerMap, ...rest } = spec;
    return new BpfMap(new (native().MapHandle)({ create: { ...rest, innerMap: innerMap?.handle } }));
  }

  /** @internal for RingBuffer */
  get handle(): RawMapHandle {
    return this.raw;
  }

  /** The fd number (valid until close()), for values that hold one, e.g. map-in-map. */
  get fd(): number {
    return this.raw.fd();
  }

  info(): RawMapInfo {
    return this.raw.info();
  }

  /** The value (all CPUs' slots for a per-CPU map), or undefined when the key is absent. */
  lookup(key: Buffer): Buffer | undefined {
    const out = Buffer.alloc(this.valueLength);
    return this.raw.lookup(key, out) ? out : undefined;
  }

  /** A per-CPU map's value, one Buffer of valueSize bytes per possible CPU. */
  lookupPerCpu(key: Buffer): Buffer[] | undefined {
    const v = this.lookup(key);
    return v && this.splitPerCpu(v);
  }

  /** Sets key to value; a per-CPU value may be given as one Buffer per CPU. */
  update(key: Buffer, value: Buffer | readonly Buffer[], flags: number = BPF_ANY): void {
    this.raw.update(key, Buffer.isBuffer(value) ? value : this.joinPerCpu(value), flags);
  }

  delete(key: Buffer): boolean {
    return this.raw.delete(key);
  }

  /** Every key, one get_next_key call each (a snapshot only if nobody writes meanwhile). */
  *keys(): Generator<Buffer> {
    let cur: Buffer | null = null;
    for (;;) {
      const next = Buffer.alloc(this.keySize);
      if (!this.raw.nextKey(cur, next)) return;
      yield next;
      cur = next;
    }
  }

  /** Every entry, key by key. For large maps prefer lookupBatch. */
  *entries(): Generator<[Buffer, Buffer]> {
    for (const k of this.keys()) {
      const v = this.lookup(k);
      if (v) yield [k, v];
    }
  }

  /** Writes all entries in one syscall, off the JS thread; resolves to the count written. */
  updateBatch(keys: BatchInput, values: BatchInput, flags: number = BPF_ANY): Promise<number> {
    const k = pack(keys);
    const v = pack(values);
    return this.raw.updateBatch(k, v, this.count(k, this.keySize, 'keys'), flags);
  }

  /** Reads the whole map (or up to maxCount entries) in batches, off the JS thread. */
  async lookupBatch(maxCount?: number): Promise<MapDump> {
    const r = await this.raw.lookupBatch(maxCount);
    return new MapDump(r.count, r.keys, r.values, this);
  }

  /** Deletes the keys in one syscall, off the JS thread; resolves to the count deleted. */
  deleteBatch(keys: BatchInput): Promise<number> {
    const k = pack(keys);
    return this.raw.deleteBatch(k, this.count(k, this.keySize, 'keys'));
  }

  /** Pins the map at a bpffs path. */
  pin(path: string): void {
    this.raw.pin(path);
  }

  close(): void {
    this.raw.close();
  }

  /** Splits a per-CPU value into one Buffer per CPU (each valueSize bytes). */
  splitPerCpu(v: Buffer): Buffer[] {
    const out: Buffer[] = [];
    for (let off = 0; off + this.slot <= v.length; off += this.slot) out.push(v.subarray(off, off + this.valueSize));
    return out;
  }

  private joinPerCpu(values: readonly Buffer[]): Buffer {
    const out = Buffer.alloc(this.valueLength);
    const cpus = this.valueLength / this.slot;
    if (values.length !== cpus) throw new TypeError(`map ${this.name}: ${cpus} per-CPU values expected, got ${values.length}`);
    values.forEach((b, i) => {
      if (b.length !== this.valueSize) throw new TypeError(`map ${this.name}: per-CPU value must be ${this.valueSize} bytes`);
      b.copy(out, i * this.slot);
    });
    return out;
  }

  private count(packed: Buffer, size: number, what: string): number {
    if (size === 0 || packed.length % size !== 0)
      throw new TypeError(`map ${this.name}: ${what} must be a multiple of ${size} bytes, got ${packed.length}`);
    return packed.length / size;
  }
}

function pack(x: BatchInput): Buffer {
  return Buffer.isBuffer(x) ? x : Buffer.concat(x as readonly Buffer[]);
}

/** A loaded program fd. */
export class BpfProgram {
  readonly name: string;
  readonly id: number;
  readonly type: number;
  readonly tag: string;

  constructor(readonly raw: RawProgHandle) {
    const i: RawProgInfo = raw.info();
    this.name = i.name;
    this.id = i.id;
    this.type = i.type;
    this.tag = i.tag;
  }

  /** The fd number (valid until close()), e.g. for a devmap entry's egress program. */
  get fd(): number {
    return this.raw.fd();
  }

  static fromPinned(path: string): BpfProgram {
    return new BpfProgram(new (native().ProgHandle)({ path }));
  }

  static fromId(id: number): BpfProgram {
    return new BpfProgram(new (native().ProgHandle)({ id }));
  }

  pin(path: string): void {
    this.raw.pin(path);
  }

  close(): void {
    this.raw.close();
  }
}

// ---- XDP ------------------------------------------------------------------------------

export type XdpMode = 'native' | 'generic';

export interface XdpAttachment {
  ifindex: number;
  mode: XdpMode;
  progId: number;
}

/**
 * Attaches an XDP program in native (driver) mode, or in generic mode only when asked:
 * generic XDP runs after the stack has built an skb, so the caller logs that choice.
 * Replaces whatever runs there in that mode unless `exclusive` is set.
 */
export function attachXdp(
  ifindex: number,
  prog: BpfProgram,
  opts: { mode?: XdpMode; exclusive?: boolean; replace?: BpfProgram } = {},
): XdpAttachment {
  const mode = opts.mode ?? 'native';
  let flags = mode === 'native' ? XDP_FLAGS_DRV_MODE : XDP_FLAGS_SKB_MODE;
  if (opts.exclusive) flags |= XDP_FLAGS_UPDATE_IF_NOEXIST;
  native().xdpAttach(ifindex, prog.raw, flags, opts.replace?.raw);
  return { ifindex, mode, progId: prog.id };
}

/** Detaches the XDP program of that mode; with `prog`, only if it is the one attached. */
export function detachXdp(ifindex: number, opts: { mode?: XdpMode; prog?: BpfProgram } = {}): void {
  const flags = (opts.mode ?? 'native') === 'native' ? XDP_FLAGS_DRV_MODE : XDP_FLAGS_SKB_MODE;
  native().xdpDetach(ifindex, flags, opts.prog?.raw);
}

export interface XdpQuery {
  /** 'none' when nothing is attached; 'multi' when programs run in several modes. */
  mode: 'none' | XdpMode | 'offload' | 'multi';
  /** The single attached program (0 when none or several). */
  progId: number;
  nativeProgId: number;
  genericProgId: number;
}

export function queryXdp(ifindex: number): XdpQuery {
  const q = native().xdpQuery(ifindex);
  const modes = ['none', 'native', 'generic', 'offload', 'multi'] as const;
  return { mode: modes[q.attachMode] ?? 'multi', progId: q.progId, nativeProgId: q.drvProgId, genericProgId: q.skbProgId };
}

// ---- TC ---------------------------------------------------------------------------------

export type TcDirection = 'ingress' | 'egress';
/** tcx: a BPF link on the device (Linux ≥ 6.6); clsact: a cls_bpf filter under a clsact qdisc. */
export type TcHook = 'tcx' | 'clsact';

export interface TcOptions {
  /** 'auto' (default) uses tcx where the kernel has it and clsact otherwise. */
  hook?: TcHook | 'auto';
  /** clsact filter handle and priority (default 1 and 1). */
  handle?: number;
  priority?: number;
}

/** A TC program attached by attachTc; `hook` says which mechanism was used. */
export class TcAttachment {
  constructor(
    readonly ifindex: number,
    readonly direction: TcDirection,
    readonly hook: TcHook,
    readonly progId: number,
    private readonly link: RawLinkHandle | undefined,
    readonly handle: number,
    readonly priority: number,
  ) {}

  /** tcx only: pins the link so the program stays attached after this process exits. */
  pin(path: string): void {
    if (!this.link) throw new TypeError('only a tcx attachment is a link that can be pinned');
    this.link.pin(path);
  }

  /**
   * A tcx attachment pinned by an earlier process, if it still holds `ifindex` (a link
   * whose device went away is left pinned but attached to nothing).
   */
  static fromPinned(path: string, ifindex: number, direction: TcDirection): TcAttachment | undefined {
    const link = new (native().LinkHandle)({ path });
    const i = link.info();
    if (i.ifindex !== ifindex) {
      link.close();
      return undefined;
    }
    return new TcAttachment(ifindex, direction, 'tcx', i.progId, link, 1, 1);
  }

  /** tcx only: runs `prog` from now on, atomically (no packet sees neither program). */
  update(prog: BpfProgram): TcAttachment {
    if (!this.link) throw new TypeError('only a tcx attachment is a link that can be updated');
    this.link.update(prog.raw);
    return new TcAttachment(this.ifindex, this.direction, this.hook, prog.id, this.link, this.handle, this.priority);
  }

  /** Closes this process's handle; a pinned link stays attached. */
  release(): void {
    this.link?.close();
  }

  detach(): void {
    if (this.link) {
      this.link.detach();
      this.link.close();
    } else {
      native().tcDetach(this.ifindex, this.direction, this.handle, this.priority);
    }
  }
}

/** Attaches a TC (SCHED_CLS) program to a device's ingress or egress. */
export function attachTc(ifindex: number, prog: BpfProgram, direction: TcDirection, opts: TcOptions = {}): TcAttachment {
  const hook = opts.hook ?? 'auto';
  const handle = opts.handle ?? 1;
  const priority = opts.priority ?? 1;
  if (hook !== 'clsact') {
    try {
      const attachType = direction === 'ingress' ? BPF_TCX_INGRESS : BPF_TCX_EGRESS;
      const link = new (native().LinkHandle)({ prog: prog.raw, target: ifindex, attachType });
      return new TcAttachment(ifindex, direction, 'tcx', prog.id, link, handle, priority);
    } catch (e) {
      // EINVAL from link_create with an unknown attach type: this kernel predates tcx.
      if (hook === 'tcx' || !(e instanceof NativeError) || e.code !== 'EINVAL') throw e;
    }
  }
  const progId = native().tcAttach(ifindex, direction, prog.raw, handle, priority);
  return new TcAttachment(ifindex, direction, 'clsact', progId, undefined, handle, priority);
}

/** Detaches what attachTc attached. */
export function detachTc(att: TcAttachment): void {
  att.detach();
}

export interface TcQuery {
  /** Programs on the device's tcx hook, in run order (empty without tcx support). */
  tcx: number[];
  /** The program in the clsact filter at handle/priority (default 1/1), 0 when none. */
  clsact: number;
}

export function queryTc(ifindex: number, direction: TcDirection, opts: { handle?: number; priority?: number } = {}): TcQuery {
  let tcx: number[] = [];
  try {
    tcx = native().tcxQuery(ifindex, direction === 'ingress' ? BPF_TCX_INGRESS : BPF_TCX_EGRESS);
  } catch (e) {
    if (!(e instanceof NativeError) || e.code !== 'EINVAL') throw e;
  }
  const clsact = native().tcQuery(ifindex, direction, opts.handle ?? 1, opts.priority ?? 1);
  return { tcx, clsact };
}

/** Removes a device's clsact qdisc with all its filters (a no-op when there is none). */
export function removeClsact(ifindex: number): void {
  native().tcHookDestroy(ifindex);
}

/** A pinned BPF link (e.g. a pinned tcx attachment), reopened to detach it. */
export class BpfLink {
  private constructor(private readonly raw: RawLinkHandle) {}

  static fromPinned(path: string): BpfLink {
    return new BpfLink(new (native().LinkHandle)({ path }));
  }

  info(): { id: number; type: number; progId: number; ifindex: number } {
    return this.raw.info();
  }

  detach(): void {
    this.raw.detach();
  }

  close(): void {
    this.raw.close();
  }
}

// ---- BPF_PROG_RUN -----------------------------------------------------------------------

export interface ProgRunOptions {
  repeat?: number;
  /** XDP: the device the frame seems to arrive on (xdp_md.ingress_ifindex), queue 0. */
  ingressIfindex?: number;
  /** TC: the device the skb arrives on (__sk_buff.ifindex); its redirects and clones really send. */
  skbIfindex?: number;
}

export interface ProgRunResult {
  /** The program's return value (an XdpAction for XDP). */
  retval: number;
  /** The frame as the program left it. */
  data: Buffer;
  /** Average nanoseconds per run. */
  duration: number;
}

/** struct xdp_md as BPF_PROG_RUN takes it: data, data_end, data_meta, ingress_ifindex, rx_queue, egress. */
function xdpCtx(frameLen: number, ingressIfindex: number): Buffer {
  const ctx = Buffer.alloc(24);
  ctx.writeUInt32LE(0, 0); // data: offset of the frame after metadata (none)
  ctx.writeUInt32LE(frameLen, 4); // data_end
  ctx.writeUInt32LE(ingressIfindex, 12);
  return ctx;
}

/**
 * A struct __sk_buff with only ifindex (offset 40) set, zero-padded past the struct's
 * size on any kernel (the kernel accepts zero tail bytes and copies the context back).
 */
function skbCtx(ifindex: number): Buffer {
  const ctx = Buffer.alloc(256);
  ctx.writeUInt32LE(ifindex, 40);
  return ctx;
}

/** Runs a program once (or `repeat` times) on a frame: verdict and frame out. */
export async function progRun(prog: BpfProgram, frame: Buffer, opts: ProgRunOptions = {}): Promise<ProgRunResult> {
  const r = await native().progTestRun(prog.raw, frame, {
    repeat: opts.repeat ?? 1,
    ctx: opts.ingressIfindex !== undefined ? xdpCtx(frame.length, opts.ingressIfindex) : opts.skbIfindex !== undefined ? skbCtx(opts.skbIfindex) : undefined,
  });
  return { retval: r.retval, data: r.data, duration: r.duration };
}

/**
 * Runs a program once on the JS thread and returns its verdict: for a small program whose
 * work is in maps (a request in, an answer out), where the syscall takes microseconds
 * and progRun's worker-thread round trip would cost more.
 */
export function progRunSync(prog: BpfProgram, frame: Buffer): number {
  return native().progTestRunSync(prog.raw, frame);
}

export interface LiveFramesOptions {
  /** Frames to send (the frame is re-run this many times). */
  repeat: number;
  /** Frames per batch the kernel sends at once (default 64). */
  batchSize?: number;
  ingressIfindex?: number;
}

/**
 * Runs an XDP program in live-frames mode (Linux ≥ 5.18): each run's XDP_TX or
 * XDP_REDIRECT really transmits the frame. Resolves when all runs are done.
 */
export async function progRunLiveFrames(prog: BpfProgram, frame: Buffer, opts: LiveFramesOptions): Promise<{ duration: number }> {
  const r = await native().progTestRun(prog.raw, frame, {
    repeat: opts.repeat,
    flags: BPF_F_TEST_XDP_LIVE_FRAMES,
    batchSize: opts.batchSize ?? 0,
    ctx: opts.ingressIfindex !== undefined ? xdpCtx(frame.length, opts.ingressIfindex) : undefined,
  });
  return { duration: r.duration };
}

// ---- ring buffer ------------------------------------------------------------------------

/**
 * Consumes a BPF_MAP_TYPE_RINGBUF map on the event loop: `onRecord` gets each record as
 * it is submitted. Keeps the process alive until close() (or unref()).
 */
export class RingBuffer {
  private readonly raw: RawRingBufferHandle;

  constructor(map: BpfMap, onRecord: (record: Buffer) => void) {
    this.raw = new (native().RingBufferHandle)(map.handle, onRecord);
  }

  /** Delivers what is queued now, without waiting for the event loop; returns the count. */
  consume(): number {
    return this.raw.consume();
  }

  ref(): void {
    this.raw.ref();
  }

  unref(): void {
    this.raw.unref();
  }

  close(): void {
    this.raw.close();
  }
}
