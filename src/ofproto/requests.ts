// src/ofproto/requests.ts — one entry point from decoded OpenFlow requests to the model:
// mods, multipart requests, table mod, queue config and packet-out become the replies
// for the requester, the events every controller may see (FLOW_REMOVED, PORT_STATUS),
// the deltas for the datapath, and for packet-out the interpreter's result.
import { OFPP } from '../../proto/openflow/constants.js';
import { OfpError } from '../../proto/openflow/errors.js';
import type { Message, PipelineRequest } from '../../proto/openflow/messages.js';
import type { MultipartReply, MultipartRequest } from '../../proto/openflow/multipart.js';
import type { Port } from '../../proto/openflow/port.js';
import { actionRegistry } from '../../proto/openflow/actions.js';
import { SUPPORTED_ACTIONS } from './actions.js';
import { aggregateStats, applyFlowMod, flowStats, tableStats } from './flow-mod.js';
import { applyGroupMod, groupDesc, groupStats } from './group.js';
import { applyMeterMod, MAX_BANDS, meterConfig, meterStats } from './meter.js';
import type { Delta, Pipeline } from './pipeline.js';
import { applyPortMod, portDesc, portStats } from './port.js';
import { applyTableMod, queueStats, setTableFeatures, tableFeatures } from './table.js';
import { packetOut, type PacketIn, type TraceResult } from './trace.js';
import { OFPPR, type FlowRemoved } from './types.js';

/** What the pipeline answers: the same union the endpoint hands its handler (proto/openflow/messages.ts). */
export type RequestMessage = PipelineRequest;

export interface RequestResult {
  /** Answer the request with this error (nothing changed). */
  error?: OfpError;
  /** Messages for the requester. */
  replies: Message[];
  /** Asynchronous messages for every connection, filtered by its async config. */
  events: Message[];
  deltas: Delta[];
  /** PACKET_OUT: frames out and packet-ins. */
  trace?: TraceResult;
}

/** OFPMP_DESC strings; the bridge owner may change them. */
export interface SwitchDesc {
  mfr_desc: string;
  hw_desc: string;
  sw_desc: string;
  serial_num: string;
  dp_desc: string;
}
export const defaultDesc: SwitchDesc = { mfr_desc: 'xdpswitch', hw_desc: 'XDP datapath', sw_desc: '0.1.0', serial_num: 'None', dp_desc: 'None' };

const mp = (xid: number, body: MultipartReply): Message => ({ type: 'MULTIPART_REPLY', xid, body });
const ok = (replies: Message[] = [], more: Partial<RequestResult> = {}): RequestResult => ({ replies, events: [], deltas: [], ...more });
const fail = (error: OfpError): RequestResult => ({ error, replies: [], events: [], deltas: [] });

export function flowRemovedMessage(r: FlowRemoved): Message {
  return { type: 'FLOW_REMOVED', xid: 0, ...r };
}
export function portStatusMessage(reason: number, desc: Port): Message {
  return { type: 'PORT_STATUS', xid: 0, reason, desc };
}
export function packetInMessage(pin: PacketIn): Message {
  return { type: 'PACKET_IN', xid: 0, ...pin };
}

/** ofp_group_features: every type, weights, liveness, chaining with checks. */
function groupFeatures() {
  const actions = [...SUPPORTED_ACTIONS].reduce((a, t) => (a | (1 << actionRegistry.rows[t]!.tag)) >>> 0, 0);
  const max = 0xffffff00;
  return { types: 0xf, capabilities: 0xf, max_groups_all: max, max_groups_select: max, max_groups_indirect: max, max_groups_ff: max, actions_all: actions, actions_select: actions, actions_indirect: actions, actions_ff: actions };
}

function multipart(p: Pipeline, xid: number, body: MultipartRequest, now: number, desc: SwitchDesc): RequestResult {
  const flags = 0;
  switch (body.type) {
    case 'DESC':
      return ok([mp(xid, { type: 'DESC', flags, ...desc })]);
    case 'FLOW': {
      const flows = flowStats(p, body, now);
      return flows instanceof OfpError ? fail(flows) : ok([mp(xid, { type: 'FLOW', flags, flows })]);
    }
    case 'AGGREGATE': {
      const a = aggregateStats(p, body);
      return a instanceof OfpError ? fail(a) : ok([mp(xid, { type: 'AGGREGATE', flags, ...a })]);
    }
    case 'TABLE':
      return ok([mp(xid, { type: 'TABLE', flags, tables: tableStats(p) })]);
    case 'PORT_STATS': {
      const ports = portStats(p, body.port_no, now);
      return ports instanceof OfpError ? fail(ports) : ok([mp(xid, { type: 'PORT_STATS', flags, ports })]);
    }
    case 'QUEUE': {
      const queues = queueStats(p, body.port_no, body.queue_id);
      return queues instanceof OfpError ? fail(queues) : ok([mp(xid, { type: 'QUEUE', flags, queues })]);
    }
    case 'GROUP':
      return ok([mp(xid, { type: 'GROUP', flags, groups: groupStats(p, body.group_id, now) })]);
    case 'GROUP_DESC':
      return ok([mp(xid, { type: 'GROUP_DESC', flags, groups: groupDesc(p) })]);
    case 'GROUP_FEATURES':
      return ok([mp(xid, { type: 'GROUP_FEATURES', flags, features: groupFeatures() })]);
    case 'METER':
      return ok([mp(xid, { type: 'METER', flags, meters: meterStats(p, body.meter_id, now) })]);
    case 'METER_CONFIG':
      return ok([mp(xid, { type: 'METER_CONFIG', flags, meters: meterConfig(p, body.meter_id) })]);
    case 'METER_FEATURES':
      return ok([mp(xid, { type: 'METER_FEATURES', flags, features: { max_meter: 0xffff, band_types: (1 << 1) | (1 << 2), capabilities: 0xf, max_bands: MAX_BANDS, max_color: 0 } })]);
    case 'TABLE_FEATURES':
      if (body.tables.length) return fail(setTableFeatures(p));
      return ok([mp(xid, { type: 'TABLE_FEATURES', flags, tables: tableFeatures(p) })]);
    case 'PORT_DESC':
      return ok([mp(xid, { type: 'PORT_DESC', flags, ports: portDesc(p) })]);
  }
}

/** Handles one decoded request at time `now` (ms of the caller's clock). */
export function handleRequest(p: Pipeline, msg: RequestMessage, now: number, desc: SwitchDesc = defaultDesc): RequestResult {
  switch (msg.type) {
    case 'FLOW_MOD': {
      // We keep no packet buffers (n_buffers 0): a buffer_id names nothing.
      if (msg.buffer_id !== 0xffffffff && (msg.command === 'ADD' || msg.command === 'MODIFY' || msg.command === 'MODIFY_STRICT')) return fail(new OfpError('OFPBRC_BUFFER_UNKNOWN', { why: `buffer ${msg.buffer_id}` }));
      const r = applyFlowMod(p, msg, now);
      return r.error ? fail(r.error) : ok([], { deltas: r.deltas, events: r.removed.map(flowRemovedMessage) });
    }
    case 'GROUP_MOD': {
      const r = applyGroupMod(p, msg, now);
      return r.error ? fail(r.error) : ok([], { deltas: r.deltas, events: r.removed.map(flowRemovedMessage) });
    }
    case 'METER_MOD': {
      const r = applyMeterMod(p, msg, now);
      return r.error ? fail(r.error) : ok([], { deltas: r.deltas, events: r.removed.map(flowRemovedMessage) });
    }
    case 'PORT_MOD': {
      const r = applyPortMod(p, msg);
      return r.error ? fail(r.error) : ok([], { deltas: r.deltas, events: r.status ? [portStatusMessage(OFPPR.MODIFY, r.status)] : [] });
    }
    case 'TABLE_MOD': {
      const e = applyTableMod(p, msg);
      return e ? fail(e) : ok();
    }
    case 'QUEUE_GET_CONFIG_REQUEST': {
      if (msg.port !== OFPP.ANY && !p.ports.has(msg.port)) return fail(new OfpError('OFPQOFC_BAD_PORT', { why: `port ${msg.port}` }));
      return ok([{ type: 'QUEUE_GET_CONFIG_REPLY', xid: msg.xid, port: msg.port, queues: [] }]);
    }
    case 'PACKET_OUT': {
      const r = packetOut(p, msg, now);
      return r instanceof OfpError ? fail(r) : ok([], { trace: r });
    }
    case 'MULTIPART_REQUEST':
      return multipart(p, msg.xid, msg.body, now, desc);
  }
}
