// JSON-RPC 1.0 over a byte stream (RFC 7047 §4; lib/jsonrpc.c): message validation as
// OVS does it, and a connection that reads concatenated JSON values across partial
// reads, counts its send backlog, and runs OVS's inactivity probe. Shared by the
// server's sessions and by the client library.
import { EventEmitter } from 'node:events';
import type { Socket } from 'node:net';
import { isObject, JsonStream, JsonSyntaxError, stringify, type Json, type JsonObject } from './json.js';

export type MessageType = 'request' | 'notify' | 'reply' | 'error';

export interface Message {
  type: MessageType;
  method?: string;
  params?: Json[];
  result?: Json;
  error?: Json;
  id?: Json;
}

/** jsonrpc_msg_from_json(): returns the message or the reason it is invalid. */
export function messageFromJson(json: Json): Message | string {
  if (!isObject(json)) return 'message is not a JSON object';
  let method: Json | undefined;
  let params: Json | undefined;
  let result: Json | undefined;
  let error: Json | undefined;
  let id: Json | undefined;
  let extra: string | undefined;
  for (const k in json) {
    const v = json[k] as Json;
    switch (k) {
      case 'method':
        method = v;
        break;
      case 'params':
        params = v === null ? undefined : v;
        break;
      case 'result':
        result = v === null ? undefined : v;
        break;
      case 'error':
        error = v === null ? undefined : v;
        break;
      case 'id':
        id = v === null ? undefined : v;
        break;
      default:
        extra ??= k;
    }
  }
  if (method !== undefined && method !== null && typeof method !== 'string') return 'method is not a JSON string';
  if (extra !== undefined) return `message has unexpected member "${extra}"`;
  const type: MessageType = result !== undefined ? 'reply' : error !== undefined ? 'error' : id !== undefined ? 'request' : 'notify';
  if (params !== undefined && !Array.isArray(params)) return '"params" must be JSON array';
  const m = typeof method === 'string' ? method : undefined;
  const want = PATTERNS[type];
  const have = [m, params, result, error, id];
  for (let i = 0; i < 5; i++) {
    if ((have[i] !== undefined) !== want[i]) {
      return `${type === 'notify' ? 'notification' : type} must${want[i] ? '' : ' not'} have "${MEMBERS[i] as string}"`;
    }
  }
  return { type, method: m, params: params as Json[] | undefined, result, error, id };
}

/** Which of method, params, result, error, id each message type carries (jsonrpc_msg_is_valid()). */
const PATTERNS: Record<MessageType, boolean[]> = {
  request: [true, true, false, false, true],
  notify: [true, true, false, false, false],
  reply: [false, false, true, false, true],
  error: [false, false, false, true, true],
};
const MEMBERS = ['method', 'params', 'result', 'error', 'id'];

export function replyJson(result: Json, id: Json): JsonObject {
  return { id, result, error: null };
}

/** jsonrpc_create_error(): an error reply, with no "result" member. */
export function errorJson(error: Json, id: Json): JsonObject {
  return { id, error };
}

export function notifyJson(method: string, params: Json[]): JsonObject {
  return { id: null, method, params };
}

export function requestJson(method: string, params: Json[], id: Json): JsonObject {
  return { id, method, params };
}

/** RECONNECT_DEFAULT_PROBE_INTERVAL. */
export const DEFAULT_PROBE_INTERVAL = 5000;

export interface ConnectionEvents {
  message: [Message];
  /** The peer sent something that is not JSON or not JSON-RPC; the connection closes. */
  protocolError: [string];
  close: [];
  drain: [];
}

/**
 * One JSON-RPC connection. Messages are delivered one at a time; while the send
 * backlog is non-zero, reading stops (as ovsdb-server does), so a client that never
 * reads cannot make the server buffer without bound on its behalf.
 */
export class Connection extends EventEmitter<ConnectionEvents> {
  private readonly stream = new JsonStream();
  private readonly queue: Json[] = [];
  private closed = false;
  private probeTimer: NodeJS.Timeout | null = null;
  private lastActivity = Date.now();
  private probeSent = 0;
  private pumpScheduled = false;
  /** Texts sent this tick, not yet written. */
  private out = '';
  bytesReceived = 0;

  constructor(
    readonly socket: Socket,
    readonly name: string,
    /** Inactivity probe interval in ms; 0 disables probing. */
    private probeInterval = 0,
  ) {
    super();
    socket.setNoDelay?.(true);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('drain', () => {
      this.emit('drain');
      this.pump();
    });
    socket.on('close', () => this.finish());
    socket.on('error', () => this.finish());
    this.armProbe();
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /**
   * Bytes queued for sending beyond what the socket buffers freely (its high-water
   * mark); non-zero means the peer is not keeping up.
   */
  get backlog(): number {
    return this.closed || !this.socket.writableNeedDrain ? 0 : this.socket.writableLength;
  }

  setProbeInterval(ms: number): void {
    this.probeInterval = ms;
    this.armProbe();
  }

  send(json: Json): void {
    this.sendText(stringify(json));
  }

  /**
   * Sends already serialized JSON. Texts sent within one tick are joined and go out
   * as one write at its end (a batch of replies: one string, one syscall).
   */
  sendText(text: string): void {
    if (this.closed) return;
    if (this.out === '') process.nextTick(this.flushOut);
    this.out += text;
  }

  private readonly flushOut = (): void => {
    const text = this.out;
    this.out = '';
    if (text && !this.closed) this.socket.write(text);
  };

  close(): void {
    if (this.closed) return;
    this.flushOut();
    this.socket.destroy();
    this.finish();
  }

  private finish(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.probeTimer) clearTimeout(this.probeTimer);
    this.queue.length = 0;
    this.emit('close');
  }

  private onData(chunk: Buffer): void {
    if (this.closed) return;
    this.lastActivity = Date.now();
    this.probeSent = 0;
    this.bytesReceived += chunk.length;
    try {
      this.stream.feed(chunk, this.queue);
    } catch (e) {
      const why = e instanceof JsonSyntaxError ? e.message : String(e);
      this.emit('protocolError', `error parsing stream: ${why}`);
      this.close();
      return;
    }
    this.pump();
  }

  private pump(): void {
    // Like ovsdb-server, take a bounded batch per turn so one busy peer cannot
    // starve the others; the rest continues on the next turn of the event loop.
    let budget = 50;
    while (this.queue.length && !this.closed && this.backlog === 0) {
      if (budget-- === 0) {
        if (!this.pumpScheduled) {
          this.pumpScheduled = true;
          setImmediate(() => {
            this.pumpScheduled = false;
            this.pump();
          });
        }
        break;
      }
      const json = this.queue.shift() as Json;
      const msg = messageFromJson(json);
      if (typeof msg === 'string') {
        this.emit('protocolError', `received bad JSON-RPC message: ${msg}`);
        this.close();
        return;
      }
      this.emit('message', msg);
    }
    // Stop reading while messages wait, so the kernel pushes back on the sender.
    if (!this.closed) {
      if (this.queue.length) this.socket.pause();
      else this.socket.resume();
    }
  }

  /** reconnect.c's probe: echo after `interval` idle, disconnect after another. */
  private armProbe(): void {
    if (this.probeTimer) clearTimeout(this.probeTimer);
    this.probeTimer = null;
    if (!this.probeInterval || this.closed) return;
    const check = (): void => {
      if (this.closed) return;
      const now = Date.now();
      if (this.probeSent) {
        if (now - this.probeSent >= this.probeInterval) {
          this.emit('protocolError', `no response to inactivity probe after ${this.probeInterval / 1000} seconds, disconnecting`);
          this.close();
          return;
        }
        this.probeTimer = setTimeout(check, this.probeSent + this.probeInterval - now);
        this.probeTimer.unref();
      } else if (now - this.lastActivity >= this.probeInterval) {
        this.probeSent = now;
        this.send(requestJson('echo', [], 'echo'));
        this.probeTimer = setTimeout(check, this.probeInterval);
        this.probeTimer.unref();
      } else {
        this.probeTimer = setTimeout(check, this.lastActivity + this.probeInterval - now);
        this.probeTimer.unref();
      }
    };
    this.probeTimer = setTimeout(check, this.probeInterval);
    this.probeTimer.unref();
  }
}
