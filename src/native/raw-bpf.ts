// Raw bindings of object.cc, map.cc, link.cc, prog_run.cc, ringbuf.cc: the addon's BPF
// surface exactly as C++ exposes it. Policy and byte layouts live in bpf.ts.

export interface RawMapInfo {
  id: number;
  name: string;
  type: number;
  keySize: number;
  valueSize: number;
  maxEntries: number;
  flags: number;
}

export interface RawProgInfo {
  id: number;
  name: string;
  /** BPF_PROG_TYPE_*. */
  type: number;
  /** Hex digest of the instructions, as bpftool prints it. */
  tag: string;
}

export interface RawObjectMap {
  name: string;
  type: number;
  keySize: number;
  valueSize: number;
  maxEntries: number;
  pinPath?: string;
  pinned: boolean;
}

export interface RawObjectProgram {
  name: string;
  section: string;
  type: number;
}

export interface RawGlobal {
  name: string;
  /** '.rodata' (const volatile), '.data' or '.bss'. */
  section: string;
  offset: number;
  size: number;
}

export interface RawObjectHandle {
  load(): void;
  maps(): RawObjectMap[];
  programs(): RawObjectProgram[];
  /** Before load: reuse the map pinned there (if compatible), else create and pin it. */
  setMapPinPath(name: string, path: string): void;
  setMapMaxEntries(name: string, maxEntries: number): void;
  /** Global variables from the object's BTF: where each lives in its section's map. */
  globals(): RawGlobal[];
  /** Before load: whether a program is loaded (SEC("?...") programs start off). */
  setAutoload(name: string, on: boolean): void;
  /** Before load: sets a global's initial value (exactly its size). */
  setGlobal(name: string, value: Buffer): void;
  close(): void;
}

/** Where a map or program fd comes from. */
export type RawFdSource = { object: RawObjectHandle; name: string } | { path: string } | { id: number };

/** A new map (bpf_map_create). */
export interface RawMapCreate {
  type: number;
  keySize: number;
  valueSize: number;
  maxEntries: number;
  /** At most 15 characters. */
  name?: string;
  /** BPF_F_* map flags (BPF_F_NO_PREALLOC = 1, ...). */
  flags?: number;
  /** For ARRAY_OF_MAPS / HASH_OF_MAPS: a map of the kind every inner map must be. */
  innerMap?: RawMapHandle;
}

export interface RawMapHandle {
  info(): RawMapInfo & { valueLength: number; perCpu: boolean };
  fd(): number;
  lookup(key: Buffer, valueOut: Buffer, flags?: number | bigint): boolean;
  update(key: Buffer, value: Buffer, flags?: number | bigint): void;
  delete(key: Buffer): boolean;
  nextKey(key: Buffer | null, keyOut: Buffer): boolean;
  updateBatch(keys: Buffer, values: Buffer, count: number, elemFlags?: number | bigint): Promise<number>;
  lookupBatch(maxCount?: number): Promise<{ count: number; keys: Buffer; values: Buffer }>;
  deleteBatch(keys: Buffer, count: number): Promise<number>;
  pin(path: string): void;
  close(): void;
}

export interface RawProgHandle {
  info(): RawProgInfo;
  fd(): number;
  pin(path: string): void;
  close(): void;
}

export type RawLinkSource = { path: string } | { prog: RawProgHandle; target: number; attachType: number; flags?: number };

export interface RawLinkHandle {
  /** ifindex: the device of an XDP or tcx link, 0 once the device is gone. */
  info(): { id: number; type: number; progId: number; ifindex: number };
  pin(path: string): void;
  update(prog: RawProgHandle, oldProg?: RawProgHandle): void;
  detach(): void;
  close(): void;
}

export interface RawXdpQuery {
  progId: number;
  drvProgId: number;
  skbProgId: number;
  hwProgId: number;
  /** XDP_ATTACHED_* (0 none, 1 drv, 2 skb, 3 hw, 4 multi). */
  attachMode: number;
}

export interface RawProgRunOptions {
  repeat?: number;
  /** BPF_F_TEST_* flags. */
  flags?: number;
  batchSize?: number;
  cpu?: number;
  ctx?: Buffer;
  dataOutSize?: number;
}

export interface RawProgRunResult {
  retval: number;
  /** Average ns per repetition. */
  duration: number;
  data: Buffer;
  ctx?: Buffer;
}

export interface RawRingBufferHandle {
  consume(): number;
  ref(): void;
  unref(): void;
  close(): void;
}

export interface RawBpf {
  ObjectHandle: new (path: string) => RawObjectHandle;
  MapHandle: new (source: RawFdSource | { create: RawMapCreate }) => RawMapHandle;
  ProgHandle: new (source: RawFdSource) => RawProgHandle;
  LinkHandle: new (source: RawLinkSource) => RawLinkHandle;
  RingBufferHandle: new (map: RawMapHandle, callback: (record: Buffer) => void) => RawRingBufferHandle;
  mountBpffs(path: string): boolean;
  isBpffs(path: string): boolean;
  possibleCpus(): number;
  probeMapType(mapType: number): boolean;
  probeProgType(progType: number): boolean;
  probeHelper(progType: number, helperId: number): boolean;
  kernelHasFunc(name: string, module?: string): boolean;
  xdpAttach(ifindex: number, prog: RawProgHandle, flags: number, replaceProg?: RawProgHandle): void;
  xdpDetach(ifindex: number, flags: number, expectedProg?: RawProgHandle): void;
  xdpQuery(ifindex: number): RawXdpQuery;
  tcxQuery(ifindex: number, attachType: number): number[];
  tcAttach(ifindex: number, direction: 'ingress' | 'egress', prog: RawProgHandle, handle: number, priority: number): number;
  tcDetach(ifindex: number, direction: 'ingress' | 'egress', handle: number, priority: number): void;
  tcQuery(ifindex: number, direction: 'ingress' | 'egress', handle: number, priority: number): number;
  tcHookDestroy(ifindex: number): void;
  progTestRun(prog: RawProgHandle, data: Buffer, options?: RawProgRunOptions): Promise<RawProgRunResult>;
  /** One run on the JS thread, the verdict only: for small programs working on maps. */
  progTestRunSync(prog: RawProgHandle, data: Buffer): number;
}
