// Every subcommand of the binary, in the order `xdpswitch --help` lists them.
import type { Command } from '../command.js';

export const commands: Command[] = [];
