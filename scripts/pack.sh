#!/usr/bin/env bash
# npm run pack: builds, checks that the versions move together, and writes one tarball per package
# into dist-pack/ (or $1). Operators install them with `npm install -g dist-pack/*.tgz`: see the
# README's Install section. The root LICENSE goes into each tarball (npm takes a package's own
# LICENSE only, and the packages share the repository's). The web consoles go in built: ensure-deps
# runs their Vite build, and the @volact/console tarball carries dist/host and dist/authority.
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
# the built web consoles travel in @volact/console (the host and the authority serve them from it)
for part in host authority; do
  if ! tar -tzf "$out"/volact-console-*.tgz | grep -x "package/dist/$part/index.html" >/dev/null; then
    echo "the @volact/console tarball lacks dist/$part/index.html: the console build did not run" >&2
    exit 1
  fi
done
ls -1 "$out"
