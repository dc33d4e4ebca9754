// src/ct/shared.ts — the one connection tracker of the process: the kernel's table
// through the XDP kfuncs when the running kernel has them (probed once), else none, and
// the slow path tracks in userspace. Shared by every bridge, as the kernel's table is.
import { KernelConntrack, probeKfuncs } from './kernel.js';

let tracker: KernelConntrack | undefined;
let why: string | undefined;

/** The tracker if one was opened (nothing is loaded to answer this). */
export function currentConntrack(): KernelConntrack | undefined {
  return tracker;
}

/** What conntrack runs on here, in one line for the log. */
export function conntrackDescription(): string {
  return why ?? 'not probed yet';
}

/**
 * The kernel-backed tracker, opened on first use; undefined where the kfuncs are
 * missing or the object does not load (`warn` hears why, once).
 */
export function kernelConntrack(warn: (text: string) => void): KernelConntrack | undefined {
  if (why !== undefined) return tracker;
  const p = probeKfuncs();
  if (p.missing.length) {
    why = `conntrack in userspace only: the kernel lacks ${p.missing.join(', ')}`;
    warn(why);
    return undefined;
  }
  try {
    tracker = KernelConntrack.open();
    why = `conntrack in the kernel's table through ${p.have.join(', ')}${p.zones ? ' (zones)' : ' (zone 0 only)'}; ICMP and other protocols in userspace`;
  } catch (e) {
    why = `conntrack in userspace only: bpf/ct.bpf.o does not load (${e instanceof Error ? e.message : String(e)})`;
    warn(why);
  }
  return tracker;
}
