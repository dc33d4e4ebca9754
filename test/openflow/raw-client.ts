// test/openflow/raw-client.ts — a bare OpenFlow peer for tests that need what
// ovs-ofctl cannot do: act as a controller, hold a session, split writes, stay silent.
import net from 'node:net';
import { decodeMessage, encodeMessage, Framer, OfpError, type Message } from '../../src/openflow/index.js';

export class RawClient {
  readonly received: Message[] = [];
  private framer = new Framer();
  private waiters: Array<() => void> = [];
  closed = false;

  private constructor(readonly socket: net.Socket) {
    socket.on('data', (chunk) => {
      for (const f of this.framer.push(new Uint8Array(chunk))) {
        // A switch offering newer versions too (OVS: 1.5) says so in the HELLO's header,
        // and answers a request of another version with an ERROR in that version.
        if ((f[1] === 0 || f[1] === 1) && f[0] !== 4) f[0] = 4;
        const m = decodeMessage(f);
        if (m instanceof OfpError) throw new Error(`switch sent an undecodable message: ${m.message}`);
        this.received.push(m);
      }
      this.wake();
    });
    socket.on('close', () => {
      this.closed = true;
      this.wake();
    });
    socket.on('error', () => undefined);
  }

  private wake(): void {
    for (const w of this.waiters.splice(0)) w();
  }

  /** Connects to `port` (TCP on 127.0.0.1) or a unix socket path. With `hello`, sends HELLO (1.3) first. */
  static async connect(to: number | string, hello = true): Promise<RawClient> {
    const s = typeof to === 'number' ? net.connect(to, '127.0.0.1') : net.connect(to);
    await new Promise<void>((res, rej) => s.once('connect', res).once('error', rej));
    const c = new RawClient(s);
    if (hello) {
      c.send({ type: 'HELLO', xid: 1, elements: [{ type: 'VERSIONBITMAP', bitmaps: [0x10] }] });
      await c.next('HELLO');
    }
    return c;
  }

  /** Wraps an accepted socket (the switch connected to us). */
  static accept(s: net.Socket): RawClient {
    return new RawClient(s);
  }

  send(m: Message): void {
    this.socket.write(encodeMessage(m));
  }

  sendBytes(b: Uint8Array): void {
    this.socket.write(b);
  }

  /** Waits for (and removes) the first received message matching `type` (and `pred`). */
  async next<T extends Message['type']>(type: T, pred: (m: Extract<Message, { type: T }>) => boolean = () => true, timeoutMs = 5000): Promise<Extract<Message, { type: T }>> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const i = this.received.findIndex((m) => m.type === type && pred(m as Extract<Message, { type: T }>));
      if (i >= 0) return this.received.splice(i, 1)[0] as Extract<Message, { type: T }>;
      if (this.closed) throw new Error(`connection closed while waiting for ${type}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no ${type} within ${timeoutMs} ms; got ${this.received.map((m) => m.type).join(', ') || 'nothing'}`);
      await new Promise<void>((res) => {
        const t = setTimeout(res, left);
        this.waiters.push(() => {
          clearTimeout(t);
          res();
        });
      });
    }
  }

  /** Waits until the switch closes the connection. */
  async waitClosed(timeoutMs = 5000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!this.closed) {
      if (Date.now() > deadline) throw new Error('connection still open');
      await new Promise<void>((res) => {
        const t = setTimeout(res, 50);
        this.waiters.push(() => {
          clearTimeout(t);
          res();
        });
      });
    }
  }

  close(): void {
    this.socket.destroy();
  }
}
