// test/openflow/ofctl.ts — runs the real `ovs-ofctl -O OpenFlow13` against a target and
// collects its output, exit status and (through the endpoint's trace) the bytes it sent.
import { execFile } from 'node:child_process';

export interface OfctlResult {
  code: number;
  stdout: string;
  stderr: string;
}

export function ofctl(args: string[], env: Record<string, string> = {}, version = 'OpenFlow13'): Promise<OfctlResult> {
  return new Promise((resolve) => {
    execFile('ovs-ofctl', ['-O', version, ...args], { env: { ...process.env, ...env }, timeout: 60_000, maxBuffer: 256 << 20 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

/** ovs-ofctl's log lines carry timestamps; keep only the message part. */
export function stripLogPrefix(s: string): string {
  return s.replace(/^\S+\|\d+\|(\S+)\|(\S+)\|/gm, '$1|$2|');
}
