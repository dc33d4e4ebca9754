// npm run bench: runs every benchmark section in one go, each beside its reference
// (a C loop over libbpf, a real ovsdb-server, ...), and keeps the output under
// bench/results/<timestamp>/. Sections print `name value unit` lines and a markdown
// table with ratios; `npm run bench -- maps` runs one section.
import { spawn } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const sections = [
  { name: 'maps', script: 'maps.ts', what: 'BPF map updates from TypeScript vs a C loop over libbpf' },
  { name: 'ovsdb', script: 'ovsdb.ts', what: 'OVSDB server vs ovsdb-server 3.1' },
  { name: 'fwd', script: 'fwd.sh', what: '64-byte forwarding at XDP vs bare XDP redirect, Linux bridge, OVS afxdp/system' },
  { name: 'flowmod', script: 'flowmod.ts', what: 'flow mods, bundles and dump-flows through the daemon vs ovs-vswitchd 3.1' },
  { name: 'switch', script: 'switch.ts', what: 'add-br + 100 add-port, memory, loss across a daemon restart vs OVS 3.1' },
  { name: 'ct', script: 'ct.ts', what: 'stateful firewall (conntrack) streams vs OVS afxdp and bare XDP redirect' },
];

const wanted = process.argv.slice(2);
const stamp = new Date().toISOString().replace(/[:.]/g, '-');
const outDir = join(here, 'results', stamp);
mkdirSync(outDir, { recursive: true });
const out = createWriteStream(join(outDir, 'results.txt'));

let failed = 0;
for (const s of sections) {
  if (wanted.length && !wanted.includes(s.name)) continue;
  const script = join(here, s.script);
  if (!existsSync(script)) {
    process.stderr.write(`bench: section ${s.name} has no ${s.script} yet, skipped\n`);
    continue;
  }
  process.stderr.write(`bench: ${s.name}: ${s.what}\n`);
  out.write(`## ${s.name}\n`);
  const code = await new Promise<number>((resolve) => {
    const [cmd, args] = script.endsWith('.sh') ? ['bash', [script]] : [join(here, '..', 'node_modules', '.bin', 'tsx'), [script]];
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'inherit'] });
    child.stdout.on('data', (d: Buffer) => {
      process.stdout.write(d);
      out.write(d);
    });
    child.on('exit', (c) => resolve(c ?? 1));
  });
  if (code !== 0) {
    failed++;
    process.stderr.write(`bench: section ${s.name} failed (exit ${code})\n`);
  }
}
out.end();
process.stderr.write(`bench: results in ${outDir}/results.txt\n`);
process.exitCode = failed ? 1 : 0;
