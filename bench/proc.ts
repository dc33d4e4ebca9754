// Child processes and commands for the bench sections: run a command, track what was
// started so a section can end it on exit or Ctrl-C, wait for a file.
import { type ChildProcess, execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { promisify } from 'node:util';

const execP = promisify(execFile);

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Runs argv; throws with its stderr unless `allowFail`. */
export async function sh(argv: string[], opts: { env?: NodeJS.ProcessEnv; allowFail?: boolean; timeoutMs?: number } = {}): Promise<{ stdout: string; code: number }> {
  try {
    const r = await execP(argv[0]!, argv.slice(1), { env: opts.env ?? process.env, timeout: opts.timeoutMs ?? 60_000, maxBuffer: 16 << 20 });
    return { stdout: r.stdout, code: 0 };
  } catch (e) {
    const err = e as { code?: number; stdout?: string; stderr?: string };
    if (opts.allowFail) return { stdout: err.stdout ?? '', code: typeof err.code === 'number' ? err.code : 1 };
    throw new Error(`${argv.join(' ')} failed: ${err.stderr ?? String(e)}`);
  }
}

/** Processes started and still running (only these are ever ended). */
export const started = new Set<ChildProcess>();

export function track(c: ChildProcess): ChildProcess {
  started.add(c);
  c.once('exit', () => started.delete(c));
  return c;
}

/** Ends a process with `signal`, SIGKILL after 5 s. */
export async function end(c: ChildProcess, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (c.exitCode !== null || c.signalCode !== null) return;
  const exited = new Promise((r) => c.once('exit', r));
  c.kill(signal);
  const t = setTimeout(() => c.kill('SIGKILL'), 5000);
  await exited;
  clearTimeout(t);
}

export async function waitFile(path: string, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (!existsSync(path)) {
    if (Date.now() > deadline) throw new Error(`${path} did not appear within ${ms} ms`);
    await sleep(20);
  }
}
