#!/usr/bin/env bash
# The whole test suite: unit tests of every package and the end-to-end scenarios, which start
# real authority and host processes on loopback. Installs and builds what it needs first.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure-deps.sh
mapfile -t files < <(find packages/*/dist test/dist -name '*.test.js' | sort)
echo "==> node --test (${#files[@]} files)"
NODE_ENV=test exec node --test --test-reporter=spec "${files[@]}"
