// Every subcommand of the binary, in the order `xdpswitch --help` lists them.
import type { Command } from '../command.js';
import demo from './demo.js';
import dpctl from './dpctl.js';
import ovsdbServer from './ovsdb-server.js';
import start from './start.js';

export const commands: Command[] = [demo, dpctl, ovsdbServer, start];
