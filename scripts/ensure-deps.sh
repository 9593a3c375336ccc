#!/usr/bin/env bash
# Installs what volact needs on a fresh Debian machine with Node 20, then builds.
# npm ci when node_modules is missing or older than the lockfile; tsc -b is incremental, and the
# web consoles (Vite) are built again only when one of their sources is newer than the last build.
set -euo pipefail
cd "$(dirname "$0")/.."

major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
if [ "$major" != "20" ] && [ "$major" -lt 22 ]; then
  echo "volact needs Node.js 20 (or 22.12+); found $(node --version 2>/dev/null || echo none)." >&2
  exit 1
fi

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "==> npm ci (better-sqlite3 compiles from source here: about 70 s)"
  npm ci --no-audit --no-fund
fi

echo "==> build"
npx tsc -b packages/cli test bench attack
chmod +x packages/cli/bin/volact.js

# the web consoles (packages/console, served by the host and the authority): they bundle the
# message catalogs, so a change there rebuilds them too; build.mjs writes dist/.built last
stamp=packages/console/dist/.built
if [ ! -f "$stamp" ] || [ -n "$(find packages/console/src packages/console/build.mjs packages/console/package.json \
  packages/protocol/src/messages packages/protocol/src/errors.ts package-lock.json -newer "$stamp" -print -quit)" ]; then
  echo "==> build the web consoles (vite)"
  node packages/console/build.mjs
fi
