// Every subcommand of the binary, in the order `xdpswitch --help` lists them.
import type { Command } from '../command.js';
import demo from './demo.js';
import ovsdbServer from './ovsdb-server.js';
import start from './start.js';

export const commands: Command[] = [demo, ovsdbServer, start];
