// Where the build puts what the daemon loads: the addon and the BPF objects, found
// from the package root whether running from src/ (tests) or dist/src/ (installed).
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

let root: string | undefined;

export function packageRoot(): string {
  if (root) return root;
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json')) || !existsSync(join(dir, 'native', 'binding.gyp'))) {
    const up = dirname(dir);
    if (up === dir) throw new Error('xdpswitch: package root not found above ' + fileURLToPath(import.meta.url));
    dir = up;
  }
  root = dir;
  return dir;
}

/** Path of a compiled BPF object, e.g. bpfObjectPath('xdpswitch') → build/bpf/xdpswitch.bpf.o. */
export function bpfObjectPath(name: string): string {
  return join(packageRoot(), 'build', 'bpf', `${name}.bpf.o`);
}

export function addonPath(): string {
  return join(packageRoot(), 'native', 'build', 'Release', 'xdpswitch.node');
}
