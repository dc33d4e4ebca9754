// test/kdp/vm.ts — what the guest tests of test/kdp share: the KVM guest of
// ../shared/vm (run-in-vm), why it can't run here (if so), and running a command in it.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const runner = resolve(root, '../shared/vm/run-in-vm');

/** Why the guest cannot run on this host, or undefined when it can. */
export function vmUnavailable(): string | undefined {
  if (!existsSync('/dev/kvm')) return 'no KVM (/dev/kvm missing)';
  if (!existsSync(runner)) return `no run-in-vm at ${runner}`;
  return undefined;
}

/**
 * run-in-vm, answering its stdout + stderr. The time limit is kept here, not with its
 * --timeout: that one's watchdog holds the output pipe open until it expires.
 */
export function runInVm(args: string[], ms: number): Promise<string> {
  return new Promise((done) => {
    const child = spawn(runner, args, { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    const timer = setTimeout(() => {
      out += `\nkilled after ${ms} ms`;
      child.kill('SIGTERM'); // run-in-vm kills its qemu by PID
    }, ms);
    child.stdout.on('data', (b: Buffer) => (out += b.toString()));
    child.stderr.on('data', (b: Buffer) => (out += b.toString()));
    child.on('close', (code) => {
      clearTimeout(timer);
      done(`${out}\nexit ${String(code)}`);
    });
  });
}
