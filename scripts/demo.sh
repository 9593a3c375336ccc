#!/usr/bin/env bash
# The demo: an authority and an activation host on loopback (embedded SQLite), sample catalog.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure-deps.sh
exec node packages/cli/dist/main.js demo "$@"
