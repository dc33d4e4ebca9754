// The error every addon call throws on failure: what was attempted, the errno and its
// name. Defined here, handed to the addon at init, so `instanceof` works from JS.
export class NativeError extends Error {
  /** The call that failed, e.g. "bpf_map_update_elem". */
  declare op: string;
  /** errno name, e.g. "E2BIG". */
  declare code: string;
  declare errno: number;
  /** What the call was applied to (a map name, an interface), when known. */
  declare detail?: string;

  constructor(message: string) {
    super(message);
    this.name = 'NativeError';
  }
}
