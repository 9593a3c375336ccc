#!/usr/bin/env bash
# npm run lint: the type check (strict, with unused locals and parameters: tsconfig.base.json),
# the formatter's check (prettier, print width 120) and the shape bars (scripts/code-shape.mjs:
# files <= 450 lines, functions <= 120). npm test runs it first. `npx prettier --write .` fixes
# the formatting.
set -uo pipefail
cd "$(dirname "$0")/.."
rc=0
echo "==> lint: type check"
npx tsc -b packages/cli test bench attack || rc=1
# the web consoles: browser code (DOM, Preact's JSX), type-checked apart, nothing emitted
npx tsc -p packages/console || rc=1
echo "==> lint: prettier --check"
npx prettier --check --log-level warn . || { echo "formatting differs: run npx prettier --write ." >&2; rc=1; }
echo "==> lint: code shape"
node scripts/code-shape.mjs || rc=1
exit $rc
