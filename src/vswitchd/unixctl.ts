// src/vswitchd/unixctl.ts — a control socket for ovs-appctl (lib/unixctl.c): JSON-RPC on
// `<rundir>/xdpswitch.ctl`, reached with `ovs-appctl -t <rundir>/xdpswitch.ctl CMD`; each
// command answers text, or an error text. (`-t ovs-vswitchd` would need an OVS pid file,
// which ovs-appctl trusts only while its owner holds an fcntl lock on it.)
import { existsSync, unlinkSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import type { Json } from '../ovsdb/json.js';
import { Connection, errorJson, replyJson } from '../ovsdb/jsonrpc.js';
import type { Log } from './log.js';

/** Thrown by a command to answer with an error (ovs-appctl prints it and exits 2). */
export class UnixctlError extends Error {}

interface UnixctlCommand {
  usage: string;
  min: number;
  max: number;
  run(args: string[]): string | Promise<string>;
}

export class UnixctlServer {
  private readonly commands = new Map<string, UnixctlCommand>();
  private readonly conns = new Set<Connection>();

  private constructor(
    private readonly server: net.Server,
    readonly socketPath: string,
  ) {
    this.register('list-commands', '', 0, 0, () =>
      ['The available commands are:', ...[...this.commands].sort(([a], [b]) => (a < b ? -1 : 1)).map(([n, c]) => `  ${n.padEnd(23)} ${c.usage}`.trimEnd())].join('\n') + '\n',
    );
  }

  /** Serves `<rundir>/<name>.ctl` (a socket left by a killed daemon is replaced). */
  static async listen(rundir: string, name: string, log: Log): Promise<UnixctlServer> {
    const socketPath = join(rundir, `${name}.ctl`);
    if (existsSync(socketPath)) unlinkSync(socketPath);
    const made: { self?: UnixctlServer } = {};
    const server = net.createServer((s) => made.self?.accept(s));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(socketPath, resolve);
    });
    server.on('error', (e) => log.err(`${socketPath}: ${e.message}`));
    made.self = new UnixctlServer(server, socketPath);
    return made.self;
  }

  register(name: string, usage: string, min: number, max: number, run: UnixctlCommand['run']): void {
    this.commands.set(name, { usage, min, max, run });
  }

  private accept(socket: net.Socket): void {
    const conn = new Connection(socket, 'unixctl', 0);
    this.conns.add(conn);
    conn.on('close', () => this.conns.delete(conn));
    conn.on('message', (m) => {
      if (m.type !== 'request' || m.method === undefined) return;
      const id = m.id as Json;
      const args = (m.params ?? []).map((p) => String(p));
      // As unixctl_command_reply__(): a non-empty body ends with a newline.
      const body = (t: string) => (t && !t.endsWith('\n') ? `${t}\n` : t);
      void this.run(m.method, args).then(
        (text) => conn.send(replyJson(body(text), id)),
        (e: unknown) => conn.send(errorJson(body(e instanceof Error ? e.message : String(e)), id)),
      );
    });
  }

  private async run(name: string, args: string[]): Promise<string> {
    const c = this.commands.get(name);
    // The texts of lib/unixctl.c.
    if (!c) throw new UnixctlError(`"${name}" is not a valid command (use "list-commands" to see a list of valid commands)`);
    if (args.length < c.min) throw new UnixctlError(`"${name}" command requires at least ${c.min} arguments`);
    if (args.length > c.max) throw new UnixctlError(`"${name}" command takes at most ${c.max} arguments`);
    return c.run(args);
  }

  async close(): Promise<void> {
    for (const c of [...this.conns]) c.close();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    if (existsSync(this.socketPath)) unlinkSync(this.socketPath);
  }
}
