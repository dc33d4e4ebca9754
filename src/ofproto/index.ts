// src/ofproto/index.ts — the OpenFlow pipeline model of one bridge (pure: no I/O, time
// passed in). src/vswitchd feeds it decoded requests (handleRequest, applyBundle) and
// frames for the slow path (trace); src/datapath compiles its deltas into BPF maps.
export { createPipeline, Pipeline, N_TABLES, N_VISIBLE_TABLES, duration, type Delta } from './pipeline.js';
export { FlowTable, type FlowEntry } from './classifier.js';
export { normaliseMatch, matchToOxm, matches, covers, overlaps, fullMask, oxmToBigint, bigintToOxm, type Match, type MatchField, type FlowKey } from './match.js';
export { applyFlowMod, expire, flowStats, aggregateStats, tableStats, flowRemoved, type FlowModResult } from './flow-mod.js';
export { applyGroupMod, groupDesc, groupStats, type Group, type Bucket, type ModResult } from './group.js';
export { applyMeterMod, meterConfig, meterStats, meterPacket, type Meter, type BandState } from './meter.js';
export { addPort, removePort, setPortState, setPortVlan, portLive, applyPortMod, portDesc, portStats, type PortState, type PortCounters } from './port.js';
export { tableFeatures, setTableFeatures, applyTableMod, queueStats, MAX_ENTRIES } from './table.js';
export { normalDecision, ageFdb, portCarries, ingressVlan, egressVid, MAC_AGING_SEC, type MacEntry, type PortVlan, type NormalDecision } from './normal.js';
export { parse, type Layout, type PipelineFields } from './packet.js';
export { trace, packetOut, checkPacketOut, type TraceResult, type TraceOutput, type TraceCounters, type PacketIn, type TraceOptions } from './trace.js';
export { handleRequest, flowRemovedMessage, portStatusMessage, packetInMessage, defaultDesc, type RequestMessage, type RequestResult, type SwitchDesc } from './requests.js';
export { applyBundle, type BundledRequest, type BundleOutcome } from './bundle.js';
export * from './types.js';
