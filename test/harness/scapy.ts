// Frames crafted with scapy: each expression (scapy syntax, e.g.
// `Ether()/IP(dst="10.0.0.1")/UDP()`) becomes its bytes, in one python run.
import { run } from './exec.js';
import { PYTHON } from './topology.js';

export async function scapyFrames(exprs: readonly string[]): Promise<Buffer[]> {
  const script = [
    'import sys, json',
    'from scapy.all import *',
    'from scapy.contrib.mpls import MPLS',
    'for e in json.load(sys.stdin):',
    '    print(bytes(eval(e)).hex())',
  ].join('\n');
  const r = await run([PYTHON, '-c', script], { input: JSON.stringify(exprs), timeoutMs: 60_000 });
  const lines = r.stdout.trim().split('\n');
  if (lines.length !== exprs.length) throw new Error(`scapy gave ${lines.length} frames for ${exprs.length} expressions:\n${r.stderr}`);
  return lines.map((l) => Buffer.from(l, 'hex'));
}
