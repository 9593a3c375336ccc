#!/usr/bin/env bash
# npm run pack: builds, checks that the versions move together, and writes one tarball per package
# into dist-pack/ (or $1). Operators install them with `npm install -g dist-pack/*.tgz`: see the
# README's Install section. The root LICENSE goes into each tarball (npm takes a package's own
# LICENSE only, and the packages share the repository's).
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-dist-pack}
bash scripts/ensure-deps.sh
node scripts/check-versions.mjs

mapfile -t dirs < <(node -p 'require("./package.json").workspaces.join("\n")')
cleanup() { for d in "${dirs[@]}"; do rm -f "$d/LICENSE"; done; }
trap cleanup EXIT
trap 'exit 1' INT TERM
for d in "${dirs[@]}"; do cp LICENSE "$d/LICENSE"; done

rm -rf "$out"
mkdir -p "$out"
echo "==> npm pack (${#dirs[@]} packages) into $out/"
npm pack --workspaces --pack-destination "$out" --silent >/dev/null
ls -1 "$out"
