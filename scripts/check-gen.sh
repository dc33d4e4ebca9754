#!/usr/bin/env bash
# Fails when a committed generated file differs from what `npm run gen` writes now.
set -euo pipefail
cd "$(dirname "$0")/.."
node_modules/.bin/tsx scripts/gen.ts
if [ -d .git ] && ! git diff --quiet --exit-code -- bpf/gen src/datapath/gen; then
  echo "check:gen: generated files are stale; run 'npm run gen' and commit them:" >&2
  git --no-pager diff --stat -- bpf/gen src/datapath/gen >&2
  exit 1
fi
