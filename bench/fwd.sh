#!/usr/bin/env bash
# Forwarding through the compiled pipeline at XDP, measured by the shared harness
# (../shared/bench) in one run beside bare XDP redirect, the Linux bridge and OVS 3.1
# (afxdp and system ports): 64-byte UDP, 1 rule / 1 flow, then 10,000 exact L4 rules
# hit by 10,000 flows (8 masks, 2 tables: bench/fwd-flows.ts), then one NORMAL rule (beside
# OVS's *-normal variants). The candidate is
# `hook`: bench/fwd-hook.ts attaches the pipeline and exits, so no process is on the
# packet path. Then bench/fwd-ns.ts: the program's ns/pkt under BPF_PROG_RUN (a
# low-noise proxy), the first packet of a new flow, and flow mod to obeying packets.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
shared=${XDPSWITCH_BENCH_DIR:-$here/../../shared/bench}
[ -x "$shared/bench.sh" ] || [ -f "$shared/bench.sh" ] || { echo "bench fwd: no harness at $shared" >&2; exit 1; }
out=${OUT:-$here/results/fwd-$(date +%Y%m%d-%H%M%S)}
export XBENCH_BUILD=${XBENCH_BUILD:-$here/../build/xbench}
export DUR=${DUR:-5} REPS=${REPS:-3} PFX=${PFX:-xb}
tsx="$here/../node_modules/.bin/tsx"

echo "bench fwd: 1 rule, 1 flow" >&2
OUT=$out/one VARIANTS="xdp hook bridge ovs-afxdp ovs-system" NFLOWS_LIST=1 \
  HOOK_UP="$tsx $here/fwd-hook.ts up" HOOK_DOWN="$tsx $here/fwd-hook.ts down" \
  bash "$shared/bench.sh" fwd >&2
echo "bench fwd: 10000 exact L4 rules, 10000 flows" >&2
OUT=$out/l4 VARIANTS="xdp hook ovs-afxdp-l4 ovs-system-l4" NFLOWS_LIST=10000 OVS_L4_RULES=10000 \
  HOOK_UP="$tsx $here/fwd-hook.ts up-l4" HOOK_DOWN="$tsx $here/fwd-hook.ts down" \
  bash "$shared/bench.sh" fwd >&2
echo "bench fwd: NORMAL (the destination never answers: every frame floods)" >&2
OUT=$out/normal VARIANTS="xdp hook ovs-afxdp-normal ovs-system-normal" NFLOWS_LIST=1 \
  HOOK_UP="$tsx $here/fwd-hook.ts up-normal" HOOK_DOWN="$tsx $here/fwd-hook.ts down" \
  bash "$shared/bench.sh" fwd >&2
echo "bench fwd: BPF_PROG_RUN ns/pkt, first packet of a flow, flow mod to obeying packets" >&2
"$tsx" "$here/fwd-ns.ts" 5 > "$out/fwd-ns.txt"
for part in one l4 normal; do
  echo "### fwd ($part)"
  cat "$out/$part/summary.md"
done
echo "### fwd (BPF_PROG_RUN, latencies)"
cat "$out/fwd-ns.txt"
