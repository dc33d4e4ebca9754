// One subcommand of the `xdpswitch` binary. Each lives in src/cli/commands/<name>.ts
// and is listed (name, summary, lazy import) in src/cli/commands/index.ts; main.ts
// dispatches and prints help.
export interface Command {
  /** As typed after `xdpswitch`, e.g. "ovsdb-server". */
  name: string;
  /** One line for `xdpswitch --help`. */
  summary: string;
  /** Full usage text for `xdpswitch NAME --help`. */
  usage: string;
  /** Runs with the arguments after the command name; resolves to the exit status. */
  run(argv: string[]): Promise<number>;
}

/** Thrown for bad command lines: main prints the message and the usage, exits 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}
