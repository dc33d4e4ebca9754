// src/openflow/handler.ts — the interface the endpoint delivers decoded requests to.
// src/vswitchd plugs the pipeline (src/ofproto) in here, so the codec and the
// connections never learn the pipeline exists.
import type { OfpError } from '../../proto/openflow/errors.js';
import type { Message, MessageOf, PipelineRequest } from '../../proto/openflow/messages.js';

/** A controller's role (§6.3.6). NOCHANGE only appears in requests. */
export type ControllerRole = 'EQUAL' | 'MASTER' | 'SLAVE';

/** What FEATURES_REPLY says about the switch. */
export interface SwitchFeatures {
  datapath_id: bigint;
  n_buffers: number;
  n_tables: number;
  /** OFPC_* bits. */
  capabilities: number;
}

/** The connection a request came on, as the handler sees it. */
export interface ConnectionInfo {
  /** Unique per endpoint, never reused. */
  readonly id: number;
  /** Where the peer is, e.g. `tcp:127.0.0.1:40112` or `unix:/run/openvswitch/br0.mgmt`. */
  readonly peer: string;
  readonly role: ControllerRole;
  /**
   * 'primary': a controller the switch dials (OVS: an active Controller target);
   * 'service': one that dials the switch (the .mgmt socket, ptcp:/punix: targets).
   * Service connections get no async messages until they set a miss_send_len.
   */
  readonly type: ConnectionType;
  /** SET_CONFIG's miss_send_len: bytes of a table-miss packet to send (OFPCML_NO_BUFFER: all). */
  readonly missSendLen: number;
  /** SET_CONFIG's flags (OFPC_FRAG_*): switch-wide, the same on every connection. */
  readonly configFlags: number;
  /** Async messages dropped because the peer stopped reading. */
  readonly asyncDropped: number;
}

export type ConnectionType = 'primary' | 'service';

/** Replies to send (possibly none), or the error to answer the request with. */
export type HandlerResult = readonly Message[] | OfpError;

/** The messages a handler receives: everything the endpoint does not answer itself (declared in proto/openflow/messages.ts). */
export type HandledMessage = PipelineRequest;

/** The kinds of message a bundle may hold (OVS: flow, group, port mods and packet-outs). */
export type BundledMessage = MessageOf<'FLOW_MOD'> | MessageOf<'GROUP_MOD'> | MessageOf<'PORT_MOD'> | MessageOf<'PACKET_OUT'>;

export type BundleResult =
  | { readonly ok: true }
  /** The message at `index` failed with `error`; none of the bundle took effect. */
  | { readonly ok: false; readonly index: number; readonly error: OfpError };

export interface OpenFlowHandler {
  features(): SwitchFeatures;
  /**
   * Handles one request. Requests on a connection are handed over one at a time, in
   * order: the next waits for a returned promise. MULTIPART_REPLY replies of any size
   * are split into 64 KB messages by the endpoint.
   */
  handle(msg: HandledMessage, conn: ConnectionInfo): HandlerResult | Promise<HandlerResult>;
  /**
   * Checks a message as it is added to a bundle, before anything is applied (OVS
   * validates flow mods here, so their errors come at add time, not at commit).
   */
  checkBundled?(msg: BundledMessage, conn: ConnectionInfo): OfpError | undefined;
  /** Applies a committed bundle: all of it, or (on failure) none of it. */
  commitBundle(msgs: readonly BundledMessage[], conn: ConnectionInfo): BundleResult | Promise<BundleResult>;
  /** Resolves once everything handled before it is in effect in the datapath (BARRIER). */
  barrier?(conn: ConnectionInfo): void | Promise<void>;
  /**
   * SET_CONFIG asked for another fragment handling (OFPC_FRAG_NORMAL 0, DROP 1,
   * REASM 2). Return false if the datapath cannot do it: the old one stays, as in OVS.
   */
  setFragHandling?(flags: number): boolean;
  /** A connection finished its handshake or went away. */
  connectionChanged?(conn: ConnectionInfo, up: boolean): void;
}
