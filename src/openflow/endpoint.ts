// src/openflow/endpoint.ts — the switch side of OpenFlow for one bridge: passive
// listeners (ptcp:, punix: — the bridge's `<rundir>/<bridge>.mgmt` is one), active
// controller connections (tcp:, unix:) with reconnect back-off, several at once
// sharing roles, and async messages fanned out per role and async config.
import { existsSync, lstatSync, unlinkSync } from 'node:fs';
import net from 'node:net';
import type { Message, MessageOf } from '../../proto/openflow/messages.js';
import { Connection } from './connection.js';
import type { ConnectionInfo, ConnectionType, ControllerRole, OpenFlowHandler } from './handler.js';
import { stderrLogger, type Logger } from './log.js';
import { Roles } from './roles.js';
import { formatTarget, parseTarget } from './target.js';
import { formatVersions, SUPPORTED_VERSIONS } from './versions.js';

export interface EndpointOptions {
  handler: OpenFlowHandler;
  /** For log lines, e.g. the bridge name. */
  name?: string;
  log?: Logger;
  /**
   * Inactivity probe interval, ms; 0 disables. Default as OVS: 5 s for connections
   * the switch dials (Controller inactivity_probe), 60 s for those it accepts (.mgmt).
   */
  probeIntervalMs?: number;
  /** Reconnect back-off for active connections, ms: starts at min, doubles to max (OVS: 1 s to 8 s). */
  backoffMinMs?: number;
  backoffMaxMs?: number;
  /** A bundle untouched this long is dropped with OFPBFC_TIMEOUT, ms. Default 10000 (OVS bundle-idle-timeout). */
  bundleIdleTimeoutMs?: number;
  /** Sees every whole message received and sent, on every connection. */
  trace?(dir: 'rx' | 'tx', bytes: Uint8Array, conn: ConnectionInfo): void;
  /** OpenFlow versions allowed, a bitmap of 1 << version (OVS: the Bridge protocols column); default all this library speaks (1.0, 1.3). */
  versions?: number;
}

export interface Listener {
  /** The target as bound, with the actual port for `ptcp:0`. */
  readonly target: string;
  /** For ptcp: the bound TCP port. */
  readonly port: number | undefined;
  close(): Promise<void>;
}

export interface ActiveConnection {
  readonly target: string;
  /** Whether a session is up right now (OVS Controller is_connected). */
  readonly connected: boolean;
  /** The session's role while connected (OVS Controller role). */
  readonly role: ControllerRole | undefined;
  /** As OVS's Controller status:state. */
  readonly state: 'CONNECTING' | 'ACTIVE' | 'BACKOFF';
  /** Why the last attempt or session ended. */
  readonly lastError: string | undefined;
  readonly secondsInState: number;
  close(): void;
}

export interface ConnectOptions {
  /** Default 'primary' (OVS: a Controller row's type column can say 'service'). */
  type?: ConnectionType;
  /** Inactivity probe for this controller, ms (OVS inactivity_probe). */
  probeIntervalMs?: number;
  /** Longest reconnect back-off, ms (OVS max_backoff). */
  backoffMaxMs?: number;
}

/** Async messages a switch sends to controllers. */
export type AsyncMessage = MessageOf<'PACKET_IN'> | MessageOf<'FLOW_REMOVED'> | MessageOf<'PORT_STATUS'>;

export class OpenFlowEndpoint {
  readonly roles = new Roles();
  private readonly log: Logger;
  private readonly conns = new Set<Connection>();
  private readonly snoops = new Set<Connection>();
  private readonly listeners = new Set<Listener>();
  private readonly actives = new Set<ActiveConnection>();
  private nextId = 1;
  private readonly label: string;
  private versions: number;

  constructor(private readonly opts: EndpointOptions) {
    this.log = opts.log ?? stderrLogger();
    this.label = opts.name ? `${opts.name}: ` : '';
    this.versions = opts.versions ?? SUPPORTED_VERSIONS;
  }

  /** The versions allowed (bitmap of 1 << version). */
  get allowedVersions(): number {
    return this.versions;
  }

  /**
   * Changes the versions allowed: new sessions negotiate within them, and sessions
   * already up in a version no longer allowed are closed (OVS reconnects its
   * controllers when the bridge's protocols change).
   */
  setAllowedVersions(bitmap: number): void {
    if (bitmap === this.versions) return;
    this.versions = bitmap;
    this.log.info(`${this.label}OpenFlow versions allowed: ${formatVersions(bitmap & SUPPORTED_VERSIONS)}`);
    for (const c of [...this.conns, ...this.snoops]) if (c.state === 'ready' && !((bitmap >>> c.version) & 1)) c.close(`OpenFlow version 0x0${c.version} no longer allowed`);
  }

  /** Live connections that finished the handshake. */
  get connections(): ConnectionInfo[] {
    return [...this.conns].filter((c) => c.state === 'ready');
  }

  /** Snoop sessions that finished the handshake. */
  get snoopers(): ConnectionInfo[] {
    return [...this.snoops].filter((c) => c.state === 'ready');
  }

  /**
   * Listens on `ptcp:[PORT][:IP]` or `punix:PATH`; its sessions are service
   * connections unless `type` says otherwise (OVS: a Controller row's type), probed
   * every 60 s by default as OVS probes .mgmt sessions. With `snoop`, the sessions accepted
   * there watch: they get a copy of every message to and from the controllers this
   * endpoint dialed with connect() (OVS's `<bridge>.snoop`, read by `ovs-ofctl snoop`).
   */
  async listen(target: string, opts: { snoop?: boolean; type?: ConnectionType; probeIntervalMs?: number } = {}): Promise<Listener> {
    const t = parseTarget(target);
    if (t.kind !== 'ptcp' && t.kind !== 'punix') throw new Error(`${target}: not a passive target (ptcp: or punix:)`);
    const snoop = opts.snoop ?? false;
    const type = opts.type ?? 'service';
    const server = net.createServer((s) => this.accept(s, t.kind === 'punix' ? `unix:${t.path}` : `tcp:${s.remoteAddress}:${s.remotePort}`, { snoop, type, probeIntervalMs: opts.probeIntervalMs ?? this.opts.probeIntervalMs ?? 60_000 }));
    if (t.kind === 'punix') removeStaleSocket(t.path);
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      if (t.kind === 'punix') server.listen(t.path, resolve);
      else server.listen(t.port, t.host, resolve);
    });
    server.on('error', (e) => this.log.error(`${this.label}listener ${target} failed: ${e.message}`));
    const port = t.kind === 'ptcp' ? (server.address() as net.AddressInfo).port : undefined;
    const bound = t.kind === 'ptcp' ? formatTarget({ ...t, port: port! }) : target;
    this.log.info(`${this.label}listening on ${bound}${snoop ? ' (snoop)' : ''}`);
    const listener: Listener = {
      target: bound,
      port,
      close: () =>
        new Promise<void>((resolve) => {
          this.listeners.delete(listener);
          server.close(() => resolve());
          if (t.kind === 'punix') removeStaleSocket(t.path);
        }),
    };
    this.listeners.add(listener);
    return listener;
  }

  /**
   * Keeps a session up to `tcp:IP[:PORT]` or `unix:PATH`, reconnecting with back-off.
   * Per-controller settings (OVS Controller columns inactivity_probe, max_backoff)
   * override the endpoint's.
   */
  connect(target: string, opts: ConnectOptions = {}): ActiveConnection {
    const t = parseTarget(target);
    if (t.kind !== 'tcp' && t.kind !== 'unix') throw new Error(`${target}: not an active target (tcp: or unix:)`);
    const min = this.opts.backoffMinMs ?? 1000;
    const max = opts.backoffMaxMs ?? this.opts.backoffMaxMs ?? 8000;
    let backoff = min;
    let closed = false;
    let timer: NodeJS.Timeout | undefined;
    let current: Connection | undefined;
    let socket: net.Socket | undefined;
    let state: ActiveConnection['state'] = 'CONNECTING';
    let lastError: string | undefined;
    let since = Date.now();
    const enter = (s: ActiveConnection['state']) => {
      state = s;
      since = Date.now();
    };
    const attempt = () => {
      timer = undefined;
      if (closed) return;
      enter('CONNECTING');
      const s = t.kind === 'unix' ? net.connect(t.path) : net.connect(t.port, t.host);
      socket = s;
      const failed = (e: Error) => {
        lastError = e.message;
        this.log.info(`${this.label}${target}: connection attempt failed (${e.message}), retrying in ${backoff / 1000} s`);
        retry();
      };
      s.once('error', failed);
      s.once('connect', () => {
        s.off('error', failed);
        current = this.accept(s, target, {
          type: opts.type ?? 'primary',
          probeIntervalMs: opts.probeIntervalMs ?? this.opts.probeIntervalMs ?? 5000,
          onReady: () => {
            backoff = min;
            enter('ACTIVE');
          },
          onClose: (why) => {
            current = undefined;
            lastError = why;
            if (!closed) {
              this.log.info(`${this.label}${target}: disconnected (${why}), reconnecting in ${backoff / 1000} s`);
              retry();
            }
          },
        });
      });
    };
    const retry = () => {
      if (closed || timer) return;
      enter('BACKOFF');
      timer = setTimeout(attempt, backoff);
      timer.unref();
      backoff = Math.min(backoff * 2, max);
    };
    const active: ActiveConnection = {
      target,
      get connected() {
        return current?.state === 'ready';
      },
      get role() {
        return current?.state === 'ready' ? current.role : undefined;
      },
      get state() {
        return state;
      },
      get lastError() {
        return lastError;
      },
      get secondsInState() {
        return Math.floor((Date.now() - since) / 1000);
      },
      close: () => {
        closed = true;
        if (timer) clearTimeout(timer);
        current?.close('controller removed');
        socket?.destroy();
        this.actives.delete(active);
      },
    };
    this.actives.add(active);
    attempt();
    return active;
  }

  /** Sends an async message to every connection whose role and async config want it. */
  publish(m: AsyncMessage | ((c: ConnectionInfo) => AsyncMessage | undefined)): void {
    for (const c of this.conns) {
      const msg = typeof m === 'function' ? (c.state === 'ready' ? m(c) : undefined) : m;
      if (msg && c.wantsAsync(msg)) c.sendAsync({ ...msg, xid: 0 } as Message);
    }
  }

  /** Closes every listener and connection. */
  async close(): Promise<void> {
    for (const a of [...this.actives]) a.close();
    for (const c of [...this.conns, ...this.snoops]) c.close('endpoint closed');
    await Promise.all([...this.listeners].map((l) => l.close()));
  }

  private accept(
    socket: net.Socket,
    peer: string,
    hooks: { snoop?: boolean; type: ConnectionType; probeIntervalMs?: number; onReady?: () => void; onClose?: (why: string) => void },
  ): Connection {
    const trace = this.opts.trace;
    const mirror = hooks.type === 'primary'
      ? (dir: 'rx' | 'tx', b: Uint8Array, info: ConnectionInfo) => {
          trace?.(dir, b, info);
          for (const s of this.snoops) s.forward(b);
        }
      : trace;
    const c: Connection = new Connection(socket, {
      snoop: hooks.snoop,
      handler: this.opts.handler,
      roles: this.roles,
      log: prefixed(this.log, this.label),
      probeIntervalMs: hooks.probeIntervalMs ?? 5000,
      id: this.nextId++,
      peer,
      type: hooks.type,
      bundleIdleTimeoutMs: this.opts.bundleIdleTimeoutMs ?? 10_000,
      trace: mirror,
      versions: () => this.versions,
      onReady: () => hooks.onReady?.(),
      onClose: (_c, why) => {
        this.conns.delete(c);
        this.snoops.delete(c);
        hooks.onClose?.(why);
      },
    });
    if (hooks.snoop) this.snoops.add(c);
    else this.conns.add(c);
    return c;
  }
}

function prefixed(log: Logger, label: string): Logger {
  if (!label) return log;
  return {
    debug: (m) => log.debug(label + m),
    info: (m) => log.info(label + m),
    warn: (m) => log.warn(label + m),
    error: (m) => log.error(label + m),
  };
}

/** A unix socket left by a previous run would make listen fail with EADDRINUSE. */
function removeStaleSocket(path: string): void {
  if (existsSync(path) && lstatSync(path).isSocket()) unlinkSync(path);
}
