// src/ofproto/bundle.ts — a committed bundle applied atomically (ONF extension 230 /
// OF1.4 §7.3.9): every message takes effect or, at the first refusal, none does. Mods
// run with the pipeline's undo journal on; packet-outs are checked first and run only
// once every mod has succeeded, since a sent frame cannot be taken back.
import type { OfpError } from '../../proto/openflow/errors.js';
import type { MessageOf } from '../../proto/openflow/messages.js';
import type { Pipeline } from './pipeline.js';
import { handleRequest, type RequestResult } from './requests.js';
import { checkPacketOut } from './trace.js';

export type BundledRequest = MessageOf<'FLOW_MOD'> | MessageOf<'GROUP_MOD'> | MessageOf<'PORT_MOD'> | MessageOf<'METER_MOD'> | MessageOf<'PACKET_OUT'>;

export type BundleOutcome = { ok: true; results: RequestResult[] } | { ok: false; index: number; error: OfpError };

export function applyBundle(p: Pipeline, msgs: readonly BundledRequest[], now: number): BundleOutcome {
  const results: RequestResult[] = new Array(msgs.length);
  p.journal = [];
  try {
    for (let i = 0; i < msgs.length; i++) {
      const m = msgs[i]!;
      if (m.type === 'PACKET_OUT') {
        const bad = checkPacketOut(p, m);
        if (bad) return rollback(p, i, bad);
        continue;
      }
      const r = handleRequest(p, m, now);
      if (r.error) return rollback(p, i, r.error);
      results[i] = r;
    }
  } finally {
    p.journal = undefined;
  }
  msgs.forEach((m, i) => {
    if (m.type === 'PACKET_OUT') results[i] = handleRequest(p, m, now);
  });
  return { ok: true, results };
}

function rollback(p: Pipeline, index: number, error: OfpError): BundleOutcome {
  const j = p.journal!;
  for (let k = j.length - 1; k >= 0; k--) j[k]!();
  return { ok: false, index, error };
}
