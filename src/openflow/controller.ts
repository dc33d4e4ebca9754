// src/openflow/controller.ts — the controller side, for Node programs that drive a
// switch (a controller, a test, a benchmark): dial `tcp:`/`unix:` (a bridge's .mgmt
// socket) or accept switches on `ptcp:`/`punix:`, negotiate 1.3, answer echoes, and
// match replies to requests by xid, multipart replies gathered whole.
import { EventEmitter } from 'node:events';
import { existsSync, lstatSync, unlinkSync } from 'node:fs';
import net from 'node:net';
import { decodeMessage, encodeMessage } from '../../proto/openflow/codec.js';
import { OFP_VERSION } from '../../proto/openflow/constants.js';
import { OfpError, ofpErrorByWire, type OfpErrorName } from '../../proto/openflow/errors.js';
import type { Message, MessageOf } from '../../proto/openflow/messages.js';
import { Framer } from './framing.js';
import { parseTarget } from './target.js';

/** The switch answered a request with OFPT_ERROR. */
export class OfpRemoteError extends Error {
  /** The error's name in proto/openflow/errors.ts, when known. */
  readonly error: OfpErrorName | undefined;
  constructor(readonly reply: MessageOf<'ERROR'>) {
    const exp = reply.err_type === 0xffff && reply.data.length >= 4 ? new DataView(reply.data.buffer, reply.data.byteOffset).getUint32(0) : 0;
    const name = ofpErrorByWire(reply.err_type, reply.code, exp);
    super(`switch replied ${name ?? `error type ${reply.err_type} code ${reply.code}`} to xid ${reply.xid}`);
    this.error = name;
  }
}

interface Pending {
  parts: Message[];
  resolve(m: Message[]): void;
  reject(e: Error): void;
}

export interface ControllerConnectionEvents {
  /** A message that answers no pending request: PACKET_IN, PORT_STATUS, errors for send(). */
  message: [Message];
  close: [string];
}

export class ControllerConnection extends EventEmitter<ControllerConnectionEvents> {
  private framer = new Framer();
  private pending = new Map<number, Pending>();
  private xid = 0;
  private isClosed = false;

  private constructor(private readonly socket: net.Socket) {
    super();
    socket.setNoDelay(true);
  }

  /** Dials a switch at `tcp:IP[:PORT]` or `unix:PATH` and completes the handshake. */
  static async connect(target: string): Promise<ControllerConnection> {
    const t = parseTarget(target);
    if (t.kind !== 'tcp' && t.kind !== 'unix') throw new Error(`${target}: not an active target (tcp: or unix:)`);
    const s = t.kind === 'unix' ? net.connect(t.path) : net.connect(t.port, t.host);
    await new Promise<void>((res, rej) => s.once('connect', res).once('error', rej));
    return ControllerConnection.handshake(s);
  }

  /** Completes the handshake on a socket a switch opened to us. */
  static async handshake(s: net.Socket): Promise<ControllerConnection> {
    const c = new ControllerConnection(s);
    const hello = new Promise<void>((resolve, reject) => {
      let done = false;
      s.on('data', (chunk) => {
        let frames: Uint8Array[];
        try {
          frames = c.framer.push(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength));
        } catch (e) {
          c.close((e as Error).message);
          return;
        }
        for (const f of frames) {
          if (!done) {
            done = true;
            if (f[1] !== 0 || f[0]! < OFP_VERSION) {
              c.close('switch did not negotiate OpenFlow 1.3');
              reject(new Error('switch did not negotiate OpenFlow 1.3'));
              return;
            }
            resolve();
            continue;
          }
          c.onFrame(f);
        }
      });
      s.on('close', () => {
        if (!done) reject(new Error('switch closed the connection during the handshake'));
        c.close('switch closed the connection');
      });
      s.on('error', (e) => c.close(`transport error: ${e.message}`));
    });
    c.send({ type: 'HELLO', xid: c.nextXid(), elements: [{ type: 'VERSIONBITMAP', bitmaps: [1 << OFP_VERSION] }] });
    await hello;
    return c;
  }

  get closed(): boolean {
    return this.isClosed;
  }

  nextXid(): number {
    this.xid = (this.xid + 1) >>> 0 || 1;
    return this.xid;
  }

  /** Sends without waiting; a later error for it arrives as a 'message' event. */
  send(m: Message): void {
    if (this.isClosed) throw new Error('connection closed');
    this.socket.write(encodeMessage(m));
  }

  /**
   * Sends `m` under a fresh xid and resolves with its reply (all parts of a multipart
   * reply); rejects with OfpRemoteError when the switch answers OFPT_ERROR.
   */
  request(m: Message): Promise<Message[]> {
    const xid = this.nextXid();
    const p = new Promise<Message[]>((resolve, reject) => this.pending.set(xid, { parts: [], resolve, reject }));
    this.send({ ...m, xid } as Message);
    return p;
  }

  /** Resolves once the switch has processed everything sent before. */
  async barrier(): Promise<void> {
    await this.request({ type: 'BARRIER_REQUEST', xid: 0 });
  }

  /**
   * Sends many messages that get no reply on success (flow mods), then a barrier;
   * resolves with the errors the switch sent for them, in order.
   */
  async transact(msgs: Iterable<Message>): Promise<MessageOf<'ERROR'>[]> {
    const errors: MessageOf<'ERROR'>[] = [];
    const mine = new Set<number>();
    const listener = (m: Message) => {
      if (m.type === 'ERROR' && mine.has(m.xid)) errors.push(m);
    };
    this.on('message', listener);
    try {
      // Batched into ~64 KB writes: one write per message costs more than encoding it.
      let batch: Uint8Array[] = [];
      let size = 0;
      const flush = async () => {
        if (!batch.length) return;
        const ok = this.socket.write(batch.length === 1 ? batch[0]! : Buffer.concat(batch, size));
        batch = [];
        size = 0;
        if (!ok) await new Promise((r) => this.socket.once('drain', r));
      };
      for (const m of msgs) {
        const xid = this.nextXid();
        mine.add(xid);
        const b = encodeMessage({ ...m, xid } as Message);
        batch.push(b);
        size += b.length;
        if (size >= 65536) await flush();
      }
      await flush();
      await this.barrier();
    } finally {
      this.off('message', listener);
    }
    return errors;
  }

  close(why = 'closed by the controller'): void {
    if (this.isClosed) return;
    this.isClosed = true;
    this.socket.destroy();
    for (const p of this.pending.values()) p.reject(new Error(`connection closed: ${why}`));
    this.pending.clear();
    this.emit('close', why);
  }

  private onFrame(f: Uint8Array): void {
    const m = decodeMessage(f);
    if (m instanceof OfpError) {
      this.close(`switch sent an undecodable message: ${m.message}`);
      return;
    }
    if (m.type === 'ECHO_REQUEST') {
      this.send({ type: 'ECHO_REPLY', xid: m.xid, data: m.data });
      return;
    }
    const p = this.pending.get(m.xid);
    if (!p) {
      this.emit('message', m);
      return;
    }
    if (m.type === 'ERROR') {
      this.pending.delete(m.xid);
      p.reject(new OfpRemoteError(m));
      return;
    }
    p.parts.push(m);
    if (m.type === 'MULTIPART_REPLY' && m.body.flags & 1) return;
    this.pending.delete(m.xid);
    p.resolve(p.parts);
  }
}

/** Accepts switches on `ptcp:[PORT][:IP]` or `punix:PATH`; each handshaken connection goes to `onSwitch`. */
export async function listenForSwitches(target: string, onSwitch: (c: ControllerConnection) => void): Promise<{ port: number | undefined; close(): Promise<void> }> {
  const t = parseTarget(target);
  if (t.kind !== 'ptcp' && t.kind !== 'punix') throw new Error(`${target}: not a passive target (ptcp: or punix:)`);
  const server = net.createServer((s) => {
    ControllerConnection.handshake(s).then(onSwitch, () => s.destroy());
  });
  if (t.kind === 'punix' && existsSync(t.path) && lstatSync(t.path).isSocket()) unlinkSync(t.path);
  await new Promise<void>((res, rej) => {
    server.once('error', rej);
    if (t.kind === 'punix') server.listen(t.path, res);
    else server.listen(t.port, t.host, res);
  });
  return {
    port: t.kind === 'ptcp' ? (server.address() as net.AddressInfo).port : undefined,
    close: () => new Promise<void>((res) => server.close(() => res())),
  };
}
