// Every subcommand of the binary, in the order `xdpswitch --help` lists them. A command's
// module is imported only when it runs (or its --help is asked for): `xdpswitch
// ovsdb-server` then never loads the datapath, the native addon or the demo, which keeps
// its resident memory ~13 MB lower. The summary here must match the module's own.
import type { Command } from '../command.js';

export interface CommandEntry {
  name: string;
  summary: string;
  load(): Promise<Command>;
}

const entry = (name: string, summary: string, load: () => Promise<{ default: Command }>): CommandEntry => ({
  name,
  summary,
  load: async () => (await load()).default,
});

export const commands: CommandEntry[] = [
  entry('demo', 'four hosts on an xdpswitch bridge under an os-ken controller (or standalone): ping, TCP, flow counters', () => import('./demo.js')),
  entry('dpctl', 'show the kernel openvswitch datapath (tier 2): ports, megaflows, counters', () => import('./dpctl.js')),
  entry('ovsdb-server', 'serve OVSDB databases (compatible with ovsdb-server)', () => import('./ovsdb-server.js')),
  entry('start', 'run the switch (OVSDB server + bridges, ports, controllers)', () => import('./start.js')),
];
