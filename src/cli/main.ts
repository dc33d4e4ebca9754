// Entry of the `xdpswitch` binary: global flags, then dispatch to a subcommand.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { packageRoot } from '../native/paths.js';
import { UsageError } from './command.js';
import { commands } from './commands/index.js';

export function version(): string {
  const pkg = JSON.parse(readFileSync(join(packageRoot(), 'package.json'), 'utf8')) as { version: string };
  return pkg.version;
}

function help(): string {
  const width = Math.max(...commands.map((c) => c.name.length));
  return [
    'usage: xdpswitch COMMAND [ARG...]',
    '',
    'An Open vSwitch-compatible switch whose datapath is XDP.',
    '',
    'Commands:',
    ...commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    '',
    'Options:',
    '  -h, --help     show this help, or a command\'s with COMMAND --help',
    '  -V, --version  print the version',
  ].join('\n');
}

export async function main(argv: string[]): Promise<number> {
  const [first, ...rest] = argv;
  if (first === undefined || first === '-h' || first === '--help' || first === 'help') {
    const entry = first === 'help' ? commands.find((c) => c.name === rest[0]) : undefined;
    process.stdout.write((entry ? (await entry.load()).usage : help()) + '\n');
    return first === undefined ? 2 : 0;
  }
  if (first === '-V' || first === '--version') {
    process.stdout.write(`xdpswitch ${version()}\n`);
    return 0;
  }
  const entry = commands.find((c) => c.name === first);
  if (!entry) {
    process.stderr.write(`xdpswitch: unknown command "${first}" (see xdpswitch --help)\n`);
    return 2;
  }
  const cmd = await entry.load();
  if (rest.includes('--help') || rest.includes('-h')) {
    process.stdout.write(cmd.usage + '\n');
    return 0;
  }
  try {
    return await cmd.run(rest);
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`xdpswitch ${cmd.name}: ${err.message}\n${cmd.usage}\n`);
      return 2;
    }
    throw err;
  }
}

// Run directly too (`npx tsx src/cli/main.ts ovsdb-server ...`), not only through bin/.
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      process.stderr.write(`xdpswitch: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
      process.exitCode = 1;
    },
  );
}
