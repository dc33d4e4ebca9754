// src/openflow/connection.ts — one OpenFlow session on the switch side: framing,
// HELLO/version negotiation, echo and the inactivity probe, config, async masks,
// roles, barriers and bundles; everything else goes to the handler, in order.
// An OpenFlow 1.0 session is translated to and from the 1.3 model here (of10.ts).
// Protocol errors get an OFPT_ERROR and the session stays up; transport errors end it.
import type { Socket } from 'node:net';
import { OFP_VERSION, OFPCRR, OFPG, OFPP } from '../../proto/openflow/constants.js';
import { decodeMessage, encodeMessage, errorReply, peekHeader } from '../../proto/openflow/codec.js';
import { OfpError, ofpErrorByWire, ofpErrors } from '../../proto/openflow/errors.js';
import { helloElemRegistry, type Message, type MessageOf } from '../../proto/openflow/messages.js';
import { Reader } from '../../proto/openflow/struct.js';
import { decodeMessage10, encodeMessage10, errorReply10 } from '../../proto/openflow/of10-codec.js';
import { OFP10_VERSION, NXFF, type Message10 } from '../../proto/openflow/of10-messages.js';
import { Bundles } from './bundles.js';
import { Framer, FramingError } from './framing.js';
import type { ConnectionInfo, ConnectionType, ControllerRole, HandledMessage, HandlerResult, OpenFlowHandler } from './handler.js';
import type { Logger } from './log.js';
import { encodeMultipartReply } from './multipart-split.js';
import { encodeStatsReply10, featuresReply10, messageTo10, modifyPlan10, nxStatsReply10, requestFrom10 } from './of10.js';
import { formatVersions, SUPPORTED_VERSIONS } from './versions.js';
import { defaultAsyncConfig, type AsyncConfig, type Roles } from './roles.js';

const EMPTY = new Uint8Array(0);
/** Frames queued behind a slow request before the socket stops being read. */
const MAX_QUEUED = 10_000;

/**
 * Bytes waiting in a connection's socket past which async messages are dropped (and
 * counted), so a slow controller cannot make the switch buffer without bound (OVS
 * caps its packet-in queue the same way, max_pktq_size).
 */
const ASYNC_BACKLOG_MAX = 4 << 20;

/** OVS's default miss_send_len. */
const OFP_DEFAULT_MISS_SEND_LEN = 128;
/** OVS's ofpmp_assembler: a multipart request sent in pieces must finish within 1 s of its last piece. */
const MULTIPART_TIMEOUT_MS = 1000;

/** Messages that change switch state: a slave sending one gets OFPBRC_IS_SLAVE. */
const writes = new Set(['FLOW_MOD', 'GROUP_MOD', 'PORT_MOD', 'TABLE_MOD', 'METER_MOD', 'PACKET_OUT', 'BUNDLE_CONTROL', 'BUNDLE_ADD_MESSAGE']);
/** Messages only a switch sends: receiving one is OFPBRC_BAD_TYPE. */
const switchOnly = new Set([
  'ROLE_STATUS',
  'FEATURES_REPLY',
  'GET_CONFIG_REPLY',
  'PACKET_IN',
  'FLOW_REMOVED',
  'PORT_STATUS',
  'MULTIPART_REPLY',
  'BARRIER_REPLY',
  'QUEUE_GET_CONFIG_REPLY',
  'ROLE_REPLY',
  'GET_ASYNC_REPLY',
]);

export interface ConnectionOptions {
  handler: OpenFlowHandler;
  roles: Roles;
  log: Logger;
  /** Send ECHO_REQUEST after this long without input; disconnect after twice it. 0: never. */
  probeIntervalMs: number;
  /** A bundle untouched this long is dropped with OFPBFC_TIMEOUT (OVS: 10 s). */
  bundleIdleTimeoutMs: number;
  id: number;
  peer: string;
  type: ConnectionType;
  onClose(c: Connection, why: string): void;
  onReady?(c: Connection): void;
  /** A snoop session (`<bridge>.snoop`): gets copies of controller traffic, its own requests are ignored. */
  snoop?: boolean;
  /** Sees every whole message received and sent (for snoop sockets and tests). */
  trace?(dir: 'rx' | 'tx', bytes: Uint8Array, c: ConnectionInfo): void;
  /** Bitmap (1 << version) of the OpenFlow versions this session may speak; default all supported. */
  versions?(): number;
}

export class Connection implements ConnectionInfo {
  readonly id: number;
  readonly peer: string;
  readonly type: ConnectionType;
  role: ControllerRole = 'EQUAL';
  /** OVS: 128 for primary connections, 0 (no async messages) for service ones. */
  missSendLen: number;
  async: AsyncConfig = defaultAsyncConfig();
  /** Async messages not sent because the peer was not reading. */
  asyncDropped = 0;
  /** 'hello': waiting for the peer's HELLO; 'ready': negotiated `version`. */
  state: 'hello' | 'ready' | 'closed' = 'hello';
  /** The negotiated OpenFlow version (wire number): 0x04, or 0x01 for a 1.0 peer. */
  version = OFP_VERSION;
  /** 1.0: NXT_FLOW_MOD_TABLE_ID turned on (the table id rides in the flow mod's command). */
  private flowModTableId = false;
  /** 1.0: xids of NXST_FLOW/AGGREGATE requests, whose replies go back in the Nicira form. */
  private nxStats = new Set<number>();

  private framer = new Framer();
  /** Frames received and not yet handled: inbox[inboxHead..]. */
  private inbox: Uint8Array[] = [];
  private inboxHead = 0;
  private pumping = false;
  private bundles = new Bundles();
  /** Multipart requests arriving in pieces (OFPMPF_REQ_MORE), by xid. */
  private partial = new Map<number, { parts: MessageOf<'MULTIPART_REQUEST'>[]; size: number; deadline: number; last: Uint8Array }>();
  /** Fires at the earliest deadline of `partial`. */
  private partialTimer: NodeJS.Timeout | undefined;
  private lastRx = Date.now();
  private echoSentAt: number | undefined;
  private probeTimer: NodeJS.Timeout | undefined;
  private bundleTimer: NodeJS.Timeout | undefined;
  private xid = 0xf0000000;

  constructor(
    private readonly socket: Socket,
    private readonly opts: ConnectionOptions,
  ) {
    this.id = opts.id;
    this.peer = opts.peer;
    this.type = opts.type;
    this.missSendLen = opts.type === 'primary' ? OFP_DEFAULT_MISS_SEND_LEN : 0;
    opts.roles.join(this);
    socket.setNoDelay?.(true);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', (e) => this.close(`transport error: ${e.message}`));
    socket.on('close', () => this.close('peer closed the connection'));
    this.sendRaw(this.hello());
    // As OVS's bundle_remove_expired(), checked about once a second.
    this.bundleTimer = setInterval(() => {
      for (const origin of this.bundles.expire(Date.now() - opts.bundleIdleTimeoutMs)) {
        this.opts.log.info(`${this.peer}: bundle idle for ${opts.bundleIdleTimeoutMs / 1000} s, discarded`);
        this.send(errorReply('OFPBFC_TIMEOUT', origin));
      }
    }, Math.min(1000, Math.max(50, opts.bundleIdleTimeoutMs / 4)));
    this.bundleTimer.unref();
    if (opts.probeIntervalMs > 0) {
      this.probeTimer = setInterval(() => this.probe(), Math.max(100, opts.probeIntervalMs / 2));
      this.probeTimer.unref();
    }
  }

  get configFlags(): number {
    return this.opts.roles.configFlags;
  }

  /** Another controller became master: as OVS, say so with ROLE_STATUS (ONF, in OF1.3). */
  demoted(): void {
    this.opts.log.info(`${this.peer}: role MASTER -> SLAVE (another controller became master)`);
    if (this.state !== 'ready') return;
    this.send({ type: 'ROLE_STATUS', xid: 0, role: 'SLAVE', reason: OFPCRR.MASTER_REQUEST, generation_id: this.opts.roles.generationId ?? 0xffffffffffffffffn, properties: new Uint8Array(0) });
  }

  /** Sends bytes as they are: a copy of another session's message, for a snoop. */
  forward(b: Uint8Array): void {
    if (this.state === 'ready') this.sendRaw(b);
  }

  /** Sends an async message unless the peer has stopped reading (then it is counted as dropped). */
  sendAsync(m: Message): void {
    if (this.state !== 'ready') return;
    if (this.socket.writableLength > ASYNC_BACKLOG_MAX) {
      if (this.asyncDropped++ % 10_000 === 0) this.opts.log.warn(`${this.peer}: peer is not reading, dropping async messages (${this.asyncDropped} so far)`);
      return;
    }
    this.send(m);
  }

  /** Sends an async or unsolicited message (in 1.0 terms on a 1.0 session, if 1.0 has it). */
  send(m: Message): void {
    if (this.state === 'closed') return;
    if (this.version === OFP10_VERSION) {
      const nx = (m.type === 'MULTIPART_REPLY' || m.type === 'ERROR') && this.nxStats.delete(m.xid) && m.type === 'MULTIPART_REPLY';
      const m10 = nx ? nxStatsReply10(m) : messageTo10(m);
      if (!m10) return this.opts.log.debug(`${this.peer}: ${m.type} has no OpenFlow 1.0 form, not sent`);
      if (m10.type === 'STATS_REPLY') for (const part of encodeStatsReply10(m10)) this.sendRaw(part);
      else this.sendRaw(encodeMessage10(m10));
      return;
    }
    this.sendRaw(encodeMessage(m));
  }

  private get allowed(): number {
    return (this.opts.versions?.() ?? SUPPORTED_VERSIONS) & SUPPORTED_VERSIONS;
  }

  /**
   * As OVS's ofputil_encode_hello: the highest allowed version in the header, and a
   * version bitmap unless the allowed set is simply "this version and earlier".
   */
  private hello(): Uint8Array {
    const allowed = this.allowed;
    const top = 31 - Math.clz32(allowed);
    const b = encodeMessage({ type: 'HELLO', xid: this.nextXid(), elements: (allowed >>> 1) + 1 === 1 << top ? [] : [{ type: 'VERSIONBITMAP', bitmaps: [allowed] }] });
    b[0] = top;
    return b;
  }

  close(why: string): void {
    if (this.state === 'closed') return;
    const wasReady = this.state === 'ready';
    this.state = 'closed';
    if (this.probeTimer) clearInterval(this.probeTimer);
    if (this.bundleTimer) clearInterval(this.bundleTimer);
    if (this.partialTimer) clearTimeout(this.partialTimer);
    this.partial.clear();
    this.bundles.clear();
    this.opts.roles.leave(this);
    this.socket.destroy();
    this.opts.log.info(`${this.peer}: connection closed (${why})`);
    if (wasReady && !this.opts.snoop) this.opts.handler.connectionChanged?.(this, false);
    this.opts.onClose(this, why);
  }

  private nextXid(): number {
    this.xid = (this.xid + 1) >>> 0;
    return this.xid;
  }

  private sendRaw(b: Uint8Array): boolean {
    if (this.state === 'closed') return false;
    this.opts.trace?.('tx', b, this);
    return this.socket.write(b);
  }

  private probe(): void {
    const idle = Date.now() - this.lastRx;
    const p = this.opts.probeIntervalMs;
    if (this.echoSentAt !== undefined) {
      if (Date.now() - this.echoSentAt >= p) this.close(`no response to inactivity probe after ${(idle / 1000).toFixed(1)} s`);
      return;
    }
    if (idle >= p) {
      this.echoSentAt = Date.now();
      this.opts.log.debug(`${this.peer}: idle ${(idle / 1000).toFixed(1)} s, sending inactivity probe`);
      this.send({ type: 'ECHO_REQUEST', xid: this.nextXid(), data: new Uint8Array(0) });
    }
  }

  private onData(chunk: Buffer): void {
    this.lastRx = Date.now();
    this.echoSentAt = undefined;
    let frames: Uint8Array[];
    try {
      frames = this.framer.push(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength));
    } catch (e) {
      if (e instanceof FramingError) return this.close(`unframeable input: ${e.message}`);
      throw e;
    }
    if (!frames.length) return;
    for (const f of frames) this.inbox.push(f);
    // Input waits while earlier requests are in progress; past a point, stop reading.
    if (this.inbox.length - this.inboxHead > MAX_QUEUED && !this.socket.isPaused()) this.socket.pause();
    if (!this.pumping) this.pump();
  }

  /**
   * Handles queued frames one at a time, so replies (and BARRIER) keep request order.
   * Synchronous while the handler answers synchronously; a returned promise, or a full
   * socket, suspends it until that settles.
   */
  private pump(): void {
    try {
      while (this.inboxHead < this.inbox.length && this.state !== 'closed') {
        if (this.socket.writableNeedDrain) {
          this.pumping = true;
          const resume = () => {
            this.pumping = false;
            this.pump();
          };
          this.socket.once('drain', resume);
          return;
        }
        const frame = this.inbox[this.inboxHead]!;
        this.inbox[this.inboxHead++] = EMPTY;
        const pending = this.process(frame);
        if (pending) {
          this.pumping = true;
          pending.then(
            () => {
              this.pumping = false;
              this.pump();
            },
            (e: unknown) => this.internalError(e),
          );
          return;
        }
      }
      this.inbox = [];
      this.inboxHead = 0;
      if (this.socket.isPaused() && this.state !== 'closed') this.socket.resume();
    } catch (e) {
      this.internalError(e);
    }
  }

  private internalError(e: unknown): void {
    this.opts.log.error(`${this.peer}: internal error, closing: ${(e as Error).stack ?? String(e)}`);
    this.close('internal error');
  }

  private process(frame: Uint8Array): Promise<void> | undefined {
    this.opts.trace?.('rx', frame, this);
    if (this.state === 'hello') {
      this.negotiate(frame);
      return undefined;
    }
    if (this.version === OFP10_VERSION) return this.process10(frame);
    if (frame[1] === 0) {
      // As OVS: HELLO belongs to the handshake; another one is OFPBRC_BAD_TYPE.
      this.send(errorReply(new OfpError('OFPBRC_BAD_TYPE', { why: 'HELLO after the handshake' }), frame));
      return undefined;
    }
    const m = decodeMessage(frame);
    if (m instanceof OfpError) {
      this.opts.log.info(`${this.peer}: refused ${describe(frame)}: ${m.name} (${m.message})`);
      const reply = encodeMessage(errorReply(m, frame));
      // As OVS: the error is in the request's own version, so its sender can read it.
      if (m.name === 'OFPBRC_BAD_VERSION') reply[0] = frame[0]!;
      this.sendRaw(reply);
      return undefined;
    }
    return this.dispatch(m, frame);
  }

  /** As OVS's vcs_recv_hello: the highest version both sides allow, or HELLO_FAILED. */
  private negotiate(frame: Uint8Array): void {
    const h = peekHeader(frame)!;
    let peer = 0;
    let theirs: string;
    if (h.type === 0) {
      let bitmap: number | undefined;
      try {
        const r = Reader.of(frame, 'OFPBRC_BAD_LEN');
        r.pos = 8;
        for (const e of helloElemRegistry.list.read(r, 'ofp_hello')) if (e.type === 'VERSIONBITMAP') bitmap = e.bitmaps[0] ?? 0;
      } catch (e) {
        if (!(e instanceof OfpError)) throw e;
      }
      // No bitmap: the header's version and every earlier one.
      peer = bitmap ?? (h.version > 0 && h.version < 32 ? ((2 ** (h.version + 1) - 1) & ~1) >>> 0 : 0);
      theirs = formatVersions(peer);
    } else theirs = `a message of type ${h.type} before HELLO`;
    const ours = this.allowed;
    const common = (peer & ours) >>> 0;
    if (!common) {
      const text = new TextEncoder().encode(`We support ${formatVersions(ours)}, you support ${theirs}, no common versions.`);
      const err = encodeMessage({ type: 'ERROR', xid: h.xid, err_type: ofpErrors.OFPHFC_INCOMPATIBLE.type, code: ofpErrors.OFPHFC_INCOMPATIBLE.code, data: text });
      // The peer must be able to read it: answer in its version when it is older.
      err[0] = Math.min(h.version, OFP_VERSION) || OFP_VERSION;
      this.sendRaw(err);
      this.opts.log.warn(`${this.peer}: version negotiation failed (we support ${formatVersions(ours)}, peer supports ${theirs})`);
      this.socket.end();
      this.close('version negotiation failed');
      return;
    }
    this.version = 31 - Math.clz32(common);
    this.state = 'ready';
    this.opts.log.info(`${this.peer}: connected, negotiated OpenFlow ${this.version === OFP10_VERSION ? '1.0' : '1.3'}`);
    this.opts.onReady?.(this);
    if (!this.opts.snoop) this.opts.handler.connectionChanged?.(this, true);
  }

  /**
   * A message of a 1.0 session: what 1.0 shares with 1.3 is turned into the model's
   * message and handled as in 1.3 (replies go back through send(), in 1.0 terms); the
   * 1.0-only parts (FEATURES with ports, the Nicira flow-format switches) are here.
   */
  private process10(frame: Uint8Array): Promise<void> | undefined {
    const m = decodeMessage10(frame);
    if (m instanceof OfpError) {
      this.opts.log.info(`${this.peer}: refused ${describe(frame)}: ${m.name} (${m.message})`);
      const reply = encodeMessage10(errorReply10(m, frame));
      if (m.name === 'OFPBRC_BAD_VERSION') reply[0] = frame[0]!;
      this.sendRaw(reply);
      return undefined;
    }
    const fail = (e: OfpError) => this.sendRaw(encodeMessage10(errorReply10(e, frame)));
    if (this.opts.snoop) {
      if (m.type === 'ECHO_REQUEST') this.sendRaw(encodeMessage10({ type: 'ECHO_REPLY', xid: m.xid, data: m.data }));
      return undefined;
    }
    switch (m.type) {
      case 'HELLO':
        fail(new OfpError('OFPBRC_BAD_TYPE', { why: 'HELLO after the handshake' }));
        return undefined;
      case 'ERROR':
        this.opts.log.warn(`${this.peer}: peer sent error type ${m.err_type} code ${m.code}`);
        return undefined;
      case 'ECHO_REQUEST':
      case 'ECHO_REPLY':
      case 'GET_CONFIG_REQUEST':
      case 'BARRIER_REQUEST':
        return this.dispatch(m, frame);
      case 'SET_CONFIG':
        if (m.flags > 3) {
          fail(new OfpError('OFPBRC_EPERM', { why: `config flags 0x${m.flags.toString(16)}` }));
          return undefined;
        }
        return this.dispatch({ ...m }, frame);
      case 'FEATURES_REQUEST':
        return this.features10(m.xid, frame);
      case 'NXT_SET_FLOW_FORMAT':
        // Both formats are taken; each request says which it uses (FLOW_MOD or NXT_FLOW_MOD, OFPST_* or NXST_*).
        if (m.format !== NXFF.OPENFLOW10 && m.format !== NXFF.NXM) fail(new OfpError('OFPBRC_EPERM', { why: `flow format ${m.format}` }));
        return undefined;
      case 'NXT_FLOW_MOD_TABLE_ID':
        this.flowModTableId = m.set !== 0;
        return undefined;
      case 'NXT_SET_PACKET_IN_FORMAT':
        if (m.format !== 0) fail(new OfpError('OFPBRC_EPERM', { why: `packet-in format ${m.format}` }));
        return undefined;
      case 'FLOW_MOD':
      case 'NXT_FLOW_MOD':
      case 'PACKET_OUT':
      case 'PORT_MOD':
      case 'STATS_REQUEST':
      case 'QUEUE_GET_CONFIG_REQUEST': {
        const req = requestFrom10(m, this.flowModTableId);
        if (m.type === 'STATS_REQUEST' && (m.body.type === 'NXST_FLOW' || m.body.type === 'NXST_AGGREGATE') && !(req instanceof OfpError)) this.nxStats.add(m.xid);
        if (req instanceof OfpError) {
          // A slave hears IS_SLAVE first, whatever else is wrong with its write.
          fail(this.role === 'SLAVE' && m.type !== 'STATS_REQUEST' && m.type !== 'QUEUE_GET_CONFIG_REQUEST' ? new OfpError('OFPBRC_IS_SLAVE') : req);
          return undefined;
        }
        if (!req) {
          fail(new OfpError('OFPBRC_BAD_MULTIPART', { why: 'stats type not supported in OpenFlow 1.0' }));
          return undefined;
        }
        if (req.type === 'FLOW_MOD' && (req.command === 'MODIFY' || req.command === 'MODIFY_STRICT') && this.role !== 'SLAVE') return this.modify10(req, frame);
        return this.dispatch(req, frame);
      }
      default:
        fail(new OfpError('OFPBRC_BAD_TYPE', { why: `${m.type} is sent by switches` }));
        return undefined;
    }
  }

  /** A 1.0 modify: the flows it covers are looked up first, then modified table by table, or added (modifyPlan10). */
  private async modify10(mod: MessageOf<'FLOW_MOD'>, frame: Uint8Array): Promise<void> {
    const covered = await this.invoke({
      type: 'MULTIPART_REQUEST',
      xid: mod.xid,
      body: { type: 'FLOW', flags: 0, table_id: mod.table_id, out_port: OFPP.ANY, out_group: OFPG.ANY, cookie: 0n, cookie_mask: 0n, match: mod.match },
    });
    if (covered instanceof OfpError) return this.reply(covered, frame);
    const flows = covered.flatMap((m) => (m.type === 'MULTIPART_REPLY' && m.body.type === 'FLOW' ? m.body.flows : []));
    for (const m of modifyPlan10(mod, flows)) {
      const r = await this.invoke(m);
      this.reply(r, frame);
      if (r instanceof OfpError) return;
    }
  }

  /** FEATURES_REPLY of 1.0 carries the ports, so the pipeline is asked for them first. */
  private features10(xid: number, frame: Uint8Array): Promise<void> | undefined {
    const f = this.opts.handler.features();
    const answer = (r: HandlerResult): void => {
      if (r instanceof OfpError) {
        this.sendRaw(encodeMessage10(errorReply10(r, frame)));
        return;
      }
      const desc = r.find((x) => x.type === 'MULTIPART_REPLY' && x.body.type === 'PORT_DESC');
      const ports = desc?.type === 'MULTIPART_REPLY' && desc.body.type === 'PORT_DESC' ? desc.body.ports : [];
      this.sendRaw(encodeMessage10(featuresReply10(xid, f, ports) as Message10));
    };
    const r = this.invoke({ type: 'MULTIPART_REQUEST', xid, body: { type: 'PORT_DESC', flags: 0 } });
    if (r instanceof Promise) return r.then(answer, (e: unknown) => answer(this.handlerFailed(e, 'port description')));
    answer(r);
    return undefined;
  }

  private dispatch(m: Message, frame: Uint8Array): Promise<void> | undefined {
    if (this.opts.snoop) {
      // As OVS's monitors: a snooper only watches, so all it may do is keep the session alive.
      if (m.type === 'ECHO_REQUEST') this.send({ type: 'ECHO_REPLY', xid: m.xid, data: m.data });
      else this.opts.log.debug(`${this.peer}: snoop session sent ${m.type}, ignored`);
      return undefined;
    }
    if (this.role === 'SLAVE' && (writes.has(m.type) || (m.type === 'MULTIPART_REQUEST' && m.body.type === 'TABLE_FEATURES' && m.body.tables.length > 0))) {
      this.send(errorReply('OFPBRC_IS_SLAVE', frame));
      return undefined;
    }
    switch (m.type) {
      case 'ECHO_REQUEST':
        this.send({ type: 'ECHO_REPLY', xid: m.xid, data: m.data });
        return undefined;
      case 'ECHO_REPLY':
        return undefined;
      case 'ERROR': {
        const name = ofpErrorByWire(m.err_type, m.code, m.err_type === 0xffff && m.data.length >= 4 ? new DataView(m.data.buffer, m.data.byteOffset).getUint32(0) : 0);
        this.opts.log.warn(`${this.peer}: peer sent error ${name ?? `type ${m.err_type} code ${m.code}`}`);
        return undefined;
      }
      case 'FEATURES_REQUEST': {
        const f = this.opts.handler.features();
        this.send({ type: 'FEATURES_REPLY', xid: m.xid, ...f, auxiliary_id: 0, reserved: 0 });
        return undefined;
      }
      case 'GET_CONFIG_REQUEST':
        this.send({ type: 'GET_CONFIG_REPLY', xid: m.xid, flags: this.configFlags, miss_send_len: this.missSendLen });
        return undefined;
      case 'SET_CONFIG': {
        // As OVS: a slave controller may set its miss_send_len, not the switch's frag handling.
        const shared = this.opts.roles;
        if ((this.type !== 'primary' || this.role !== 'SLAVE') && m.flags !== shared.configFlags) {
          if (this.opts.handler.setFragHandling?.(m.flags) ?? true) shared.configFlags = m.flags;
          else this.opts.log.warn(`${this.peer}: fragment handling ${m.flags} not supported, keeping ${shared.configFlags}`);
        }
        this.missSendLen = m.miss_send_len;
        return undefined;
      }
      case 'GET_ASYNC_REQUEST':
        this.send({ type: 'GET_ASYNC_REPLY', xid: m.xid, ...this.async });
        return undefined;
      case 'SET_ASYNC':
        this.async = { packet_in_mask: m.packet_in_mask, port_status_mask: m.port_status_mask, flow_removed_mask: m.flow_removed_mask };
        // OVS: asking for async messages on a service connection turns them on.
        if (this.type === 'service' && this.missSendLen === 0) this.missSendLen = OFP_DEFAULT_MISS_SEND_LEN;
        return undefined;
      case 'ROLE_REQUEST': {
        const before = this.role;
        const err = this.opts.roles.request(this, m.role, m.generation_id);
        if (err) {
          this.send(errorReply(err, frame));
          return undefined;
        }
        if (before !== this.role) this.opts.log.info(`${this.peer}: role ${before} -> ${this.role} (generation_id ${m.generation_id})`);
        // As OVS: "no generation_id yet" is all ones.
        this.send({ type: 'ROLE_REPLY', xid: m.xid, role: this.role, generation_id: this.opts.roles.generationId ?? 0xffffffffffffffffn });
        return undefined;
      }
      case 'BARRIER_REQUEST': {
        const done = () => this.send({ type: 'BARRIER_REPLY', xid: m.xid });
        const p = this.opts.handler.barrier?.(this);
        if (p) return p.then(done);
        done();
        return undefined;
      }
      case 'NXT_SET_PACKET_IN_FORMAT':
        // Only the standard OpenFlow PACKET_IN (NXPIF_STANDARD) is spoken here.
        if (m.format !== 0) this.send(errorReply(new OfpError('OFPBRC_EPERM', { why: `packet-in format ${m.format}` }), frame));
        return undefined;
      case 'BUNDLE_CONTROL':
        return this.bundleControl(m, frame);
      case 'BUNDLE_ADD_MESSAGE': {
        const inner = this.bundles.unwrap(m);
        const err = inner instanceof OfpError ? inner : (this.opts.handler.checkBundled?.(inner, this) ?? this.bundles.add(m, inner, frame));
        if (err) this.send(errorReply(err, frame));
        return undefined;
      }
    }
    if (switchOnly.has(m.type)) {
      this.send(errorReply(new OfpError('OFPBRC_BAD_TYPE', { why: `${m.type} is sent by switches` }), frame));
      return undefined;
    }
    if (m.type === 'MULTIPART_REQUEST' && (m.body.flags & 1 || this.partial.has(m.xid))) {
      const whole = this.assemble(m, frame);
      if (whole instanceof OfpError) this.send(errorReply(whole, frame));
      else if (whole) return this.handled(this.invoke(whole), frame);
      return undefined;
    }
    return this.handled(this.invoke(m as HandledMessage), frame);
  }

  /**
   * Gathers a multipart request sent in pieces, as OVS's ofpmp_assembler: same xid,
   * same type, at most 4 MB; the pieces' arrays are joined into one request.
   */
  private assemble(m: MessageOf<'MULTIPART_REQUEST'>, frame: Uint8Array): MessageOf<'MULTIPART_REQUEST'> | OfpError | undefined {
    const bytes = frame.length;
    let p = this.partial.get(m.xid);
    if (!p) this.partial.set(m.xid, (p = { parts: [], size: 0, deadline: 0, last: frame }));
    // As OVS: each piece gives the request another second.
    p.deadline = Date.now() + MULTIPART_TIMEOUT_MS;
    p.last = frame;
    if (p.parts.length && p.parts[0]!.body.type !== m.body.type) {
      this.partial.delete(m.xid);
      return new OfpError('OFPBRC_BAD_MULTIPART', { why: `piece of type ${m.body.type} in a ${p.parts[0]!.body.type} request` });
    }
    p.size += bytes;
    if (p.size > 4 * 1024 * 1024) {
      this.partial.delete(m.xid);
      return new OfpError('OFPBRC_MULTIPART_BUFFER_OVERFLOW');
    }
    p.parts.push(m);
    if (m.body.flags & 1) {
      this.armPartialTimer();
      return undefined;
    }
    this.partial.delete(m.xid);
    const body: Record<string, unknown> = { ...p.parts[0]!.body, flags: 0 };
    for (const [k, v] of Object.entries(body)) if (Array.isArray(v)) body[k] = p.parts.flatMap((x) => (x.body as unknown as Record<string, unknown[]>)[k]!);
    return { ...m, body: body as MessageOf<'MULTIPART_REQUEST'>['body'] };
  }

  private armPartialTimer(): void {
    if (this.partialTimer) clearTimeout(this.partialTimer);
    this.partialTimer = undefined;
    if (!this.partial.size || this.state === 'closed') return;
    let next = Infinity;
    for (const p of this.partial.values()) next = Math.min(next, p.deadline);
    this.partialTimer = setTimeout(() => this.expirePartial(), Math.max(0, next - Date.now()));
    this.partialTimer.unref();
  }

  /** As OVS's ofpmp_assembler_run(): an unfinished request is dropped with an error carrying its last piece. */
  private expirePartial(): void {
    this.partialTimer = undefined;
    const now = Date.now();
    for (const [xid, p] of this.partial) {
      if (now < p.deadline) continue;
      this.partial.delete(xid);
      this.opts.log.info(`${this.peer}: multipart request xid ${xid} unfinished after ${MULTIPART_TIMEOUT_MS / 1000} s, dropped`);
      this.send(errorReply('OFPBRC_MULTIPART_REQUEST_TIMEOUT', p.last));
    }
    this.armPartialTimer();
  }

  private invoke(m: HandledMessage): HandlerResult | Promise<HandlerResult> {
    try {
      return this.opts.handler.handle(m, this);
    } catch (e) {
      return this.handlerFailed(e, m.type);
    }
  }

  private handlerFailed(e: unknown, what: string): OfpError {
    this.opts.log.error(`${this.peer}: handler failed on ${what}: ${(e as Error).stack ?? String(e)}`);
    return new OfpError('OFPBRC_EPERM', { why: 'internal error' });
  }

  private handled(r: HandlerResult | Promise<HandlerResult>, frame: Uint8Array): Promise<void> | undefined {
    if (r instanceof Promise) return r.then((v) => this.reply(v, frame), (e: unknown) => this.reply(this.handlerFailed(e, describe(frame)), frame));
    this.reply(r, frame);
    return undefined;
  }

  private reply(r: HandlerResult, frame: Uint8Array): void {
    if (r instanceof OfpError) {
      this.send(errorReply(r, frame));
      return;
    }
    for (const m of r) {
      if (m.type === 'MULTIPART_REPLY' && this.version !== OFP10_VERSION) for (const part of encodeMultipartReply(m)) this.sendRaw(part);
      else this.send(m);
    }
  }

  private bundleControl(m: MessageOf<'BUNDLE_CONTROL'>, frame: Uint8Array): Promise<void> | undefined {
    // Replies carry no flags, as OVS sends them.
    const reply = (ctrl_type: MessageOf<'BUNDLE_CONTROL'>['ctrl_type']) =>
      this.send({ type: 'BUNDLE_CONTROL', xid: m.xid, bundle_id: m.bundle_id, ctrl_type, flags: 0, properties: new Uint8Array(0) });
    const fail = (e: OfpError) => this.send(errorReply(e, frame));
    switch (m.ctrl_type) {
      case 'OPEN_REQUEST': {
        const e = this.bundles.openBundle(m, frame);
        if (e) fail(e);
        else reply('OPEN_REPLY');
        return undefined;
      }
      case 'CLOSE_REQUEST': {
        const e = this.bundles.close(m);
        if (e) fail(e);
        else reply('CLOSE_REPLY');
        return undefined;
      }
      case 'DISCARD_REQUEST': {
        const e = this.bundles.discard(m);
        if (e) fail(e);
        else reply('DISCARD_REPLY');
        return undefined;
      }
      case 'COMMIT_REQUEST': {
        const b = this.bundles.take(m);
        if (b instanceof OfpError) {
          fail(b);
          return undefined;
        }
        const finish = (res: Awaited<ReturnType<OpenFlowHandler['commitBundle']>>) => {
          if (res.ok) return reply('COMMIT_REPLY');
          // As OVS: the failing message's own error, then MSG_FAILED for the commit.
          this.send(errorReply(res.error, b.raw[res.index]));
          fail(new OfpError('OFPBFC_MSG_FAILED', { why: `message ${res.index} of bundle ${m.bundle_id}` }));
        };
        let res;
        try {
          res = this.opts.handler.commitBundle(b.msgs, this);
        } catch (e) {
          fail(this.handlerFailed(e, 'bundle commit'));
          return undefined;
        }
        if (res instanceof Promise) return res.then(finish, (e: unknown) => fail(this.handlerFailed(e, 'bundle commit')));
        finish(res);
        return undefined;
      }
      default:
        fail(new OfpError('OFPBFC_BAD_TYPE', { why: `${m.ctrl_type} is sent by switches` }));
        return undefined;
    }
  }

  /** Whether this connection wants an async message, per its role and SET_ASYNC masks. */
  wantsAsync(m: Message): boolean {
    if (this.state !== 'ready') return false;
    // Service connections get nothing until they ask (OVS ofconn_receives_async_msg).
    if (this.type === 'service' && this.missSendLen === 0) return false;
    const slot = this.role === 'SLAVE' ? 1 : 0;
    switch (m.type) {
      case 'PACKET_IN':
        return ((this.async.packet_in_mask[slot] >>> m.reason) & 1) === 1;
      case 'FLOW_REMOVED':
        return ((this.async.flow_removed_mask[slot] >>> m.reason) & 1) === 1;
      case 'PORT_STATUS':
        return ((this.async.port_status_mask[slot] >>> m.reason) & 1) === 1;
      default:
        return true;
    }
  }
}

function describe(frame: Uint8Array): string {
  const h = peekHeader(frame);
  return h ? `message type ${h.type} xid ${h.xid} (${frame.length} bytes)` : `${frame.length} bytes`;
}
