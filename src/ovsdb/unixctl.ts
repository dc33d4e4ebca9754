// The ovs-appctl control socket (lib/unixctl.c) and the commands ovsdb-server answers
// on it (ovsdb/ovsdb-server.c): JSON-RPC requests whose method is the command and
// whose params are its string arguments; the reply is text, or an error text that
// ovs-appctl prints before exiting with status 2. Generic enough for any daemon: the
// switch's own control socket can be this class with other commands.
import { existsSync, unlinkSync } from 'node:fs';
import net from 'node:net';
import type { Json } from './json.js';
import { Connection, errorJson, replyJson } from './jsonrpc.js';

/** Thrown by a command to answer with an error. */
export class UnixctlError extends Error {}

export interface UnixctlCommand {
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
      [
        'The available commands are:',
        ...[...this.commands]
          .sort(([a], [b]) => (a < b ? -1 : 1))
          .map(([n, c]) => `  ${n.padEnd(23)} ${c.usage}`.trimEnd()),
      ].join('\n') + '\n',
    );
  }

  /** Listens on `socketPath` (a socket left by a killed daemon is replaced); `onError` hears later socket errors. */
  static async listen(socketPath: string, onError?: (e: Error) => void): Promise<UnixctlServer> {
    if (existsSync(socketPath)) unlinkSync(socketPath);
    const made: { self?: UnixctlServer } = {};
    const server = net.createServer((s) => made.self?.accept(s));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(socketPath, resolve);
    });
    if (onError) server.on('error', onError);
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
      const body = (t: string): string => (t && !t.endsWith('\n') ? `${t}\n` : t);
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

/** What the ovsdb-server commands need from the server. */
export interface OvsdbServerControl {
  dbNames(): readonly string[];
  compact(name: string): Promise<void>;
  remoteNames(): string[];
  addRemote(name: string): Promise<void>;
  removeRemote(name: string): boolean;
  reconnect(): void;
  memoryUsage(): Record<string, number>;
}

/**
 * Registers ovsdb-server's commands (the standalone-database subset) on `u`;
 * `exit` is called by "exit" after its reply has gone out.
 */
export function addOvsdbServerCommands(u: UnixctlServer, server: OvsdbServerControl, version: string, exit: () => void): void {
  u.register('exit', '', 0, 0, () => {
    setImmediate(exit);
    return '';
  });
  u.register('version', '', 0, 0, () => `ovsdb-server (xdpswitch) ${version}`);
  u.register('memory/show', '', 0, 0, () =>
    Object.entries(server.memoryUsage())
      .map(([k, v]) => `${k}:${v}`)
      .join(' '),
  );
  u.register('ovsdb-server/list-dbs', '', 0, 0, () => server.dbNames().map((n) => `${n}\n`).join(''));
  u.register('ovsdb-server/compact', '', 0, 1, async (args) => {
    const name = args[0];
    if (name !== undefined && name.startsWith('_')) throw new UnixctlError('cannot compact built-in databases');
    const names = server.dbNames().filter((n) => (name === undefined ? !n.startsWith('_') : n === name));
    if (!names.length) throw new UnixctlError('no database by that name');
    for (const n of names) {
      try {
        await server.compact(n);
      } catch (e) {
        throw new UnixctlError(`${n}: ${e instanceof Error ? e.message : String(e)}`);
      }
    }
    return '';
  });
  u.register('ovsdb-server/list-remotes', '', 0, 0, () =>
    [...server.remoteNames()]
      .sort()
      .map((r) => `${r}\n`)
      .join(''),
  );
  u.register('ovsdb-server/add-remote', 'REMOTE', 1, 1, async (args) => {
    await server.addRemote(args[0] as string);
    return '';
  });
  u.register('ovsdb-server/remove-remote', 'REMOTE', 1, 1, (args) => {
    if (!server.removeRemote(args[0] as string)) throw new UnixctlError('no such remote');
    return '';
  });
  u.register('ovsdb-server/reconnect', '', 0, 0, () => {
    server.reconnect();
    return '';
  });
}
