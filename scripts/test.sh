#!/usr/bin/env bash
# The whole test suite: unit tests of every package and the end-to-end scenarios, which start
# real authority and host processes on loopback. Installs and builds what it needs first.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure-deps.sh

# Real services the tests start themselves, on loopback ports in temp dirs. A missing one is
# installed with apt when running as root (one apt-get update for all); otherwise we stop and say so.
missing=()
# the authority's store suite runs on PostgreSQL (initdb, pg_ctl)
if [ -z "${VOLACT_TEST_PG_URL:-}" ] && ! command -v initdb >/dev/null && ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
  missing+=(postgresql)
fi
# the DNS tests run BIND 9 (named)
command -v named >/dev/null || [ -x /usr/sbin/named ] || missing+=(bind9 bind9-utils)
# the directory tests run OpenLDAP (slapd): a provider and a syncrepl consumer
command -v slapd >/dev/null || [ -x /usr/sbin/slapd ] || missing+=(slapd ldap-utils)
# the VM activation tests make hypervisors and guests out of network namespaces (ip netns)
command -v ip >/dev/null || [ -x /usr/sbin/ip ] || [ -x /sbin/ip ] || missing+=(iproute2)
# the service units are checked with systemd-analyze verify (no systemd as PID 1 needed)
command -v systemd-analyze >/dev/null || missing+=(systemd)
# the LDAPS/StartTLS tests make a test CA and server certificate with openssl
command -v openssl >/dev/null || missing+=(openssl)
# the host log tests tamper with host.db through the sqlite3 command-line tool
command -v sqlite3 >/dev/null || missing+=(sqlite3)
# the metrics test scrapes both servers with a real Prometheus, and checks with its promtool
command -v prometheus >/dev/null || [ -x /usr/bin/prometheus ] || missing+=(prometheus)
# the console tests drive Debian's chromium with playwright-core; a Japanese font for the screenshots
command -v chromium >/dev/null || [ -x /usr/bin/chromium ] || missing+=(chromium)
[ -d /usr/share/fonts/opentype/noto ] || fc-list :lang=ja 2>/dev/null | grep -q . || missing+=(fonts-noto-cjk)
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    echo "==> apt-get install ${missing[*]} (services the tests start)"
    export DEBIAN_FRONTEND=noninteractive
    # slapd: no system database, the tests configure their own
    echo 'slapd slapd/no_configuration boolean true' | debconf-set-selections
    apt-get update -qq && apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  else
    echo "The tests need the Debian packages ${missing[*]}: run npm test as root to install them with apt," >&2
    echo "or install them yourself (for PostgreSQL you may instead point VOLACT_TEST_PG_URL at a server the tests may use)." >&2
    exit 1
  fi
fi
# the type check, the formatter's check and the shape bars: a miss is a failure, the tests still run
lint_ok=1
bash scripts/lint.sh || lint_ok=0

# test/dist/fixtures holds test files that other tests run (and that fail on purpose)
mapfile -t files < <(find packages/*/dist test/dist -path test/dist/fixtures -prune -o -name '*.test.js' -print | sort)
# One file at a time: the end-to-end files start several processes each, and CI has 2 cores.
# Each file runs in a test runner of its own, in its own process group, under a time limit: a file
# that never ends (a test that never settles, a process left running) is stopped with everything
# it started, named as a failure, and the files after it still run. Node's --test-timeout cannot
# bound a file on every version: from Node 22 it bounds each test, never a hook or what a test
# left open.
limit=${VOLACT_TEST_FILE_TIMEOUT:-900}
echo "==> node --test (${#files[@]} files, each within ${limit} s)"
if [ -t 1 ]; then export FORCE_COLOR=1; fi
out=$(mktemp)
trap 'rm -f "$out"' EXIT
passed=0 failed=0 broken=()
for f in "${files[@]}"; do
  rc=0
  NODE_ENV=test timeout --kill-after=10 "$limit" node --test --test-concurrency=1 --test-reporter=spec "$f" 2>&1 | tee "$out" || rc=$?
  counts=$(sed 's/\x1b\[[0-9;]*m//g' "$out")
  p=$(sed -n 's/^ℹ pass \([0-9]*\)$/\1/p' <<<"$counts" | tail -1)
  n=$(sed -n 's/^ℹ fail \([0-9]*\)$/\1/p' <<<"$counts" | tail -1)
  passed=$((passed + ${p:-0}))
  failed=$((failed + ${n:-0}))
  if [ "$rc" = 124 ] || [ "$rc" = 137 ]; then
    echo "✖ $f did not end within ${limit} s: stopped with the processes it started (VOLACT_TEST_FILE_TIMEOUT sets the limit)"
    broken+=("$f (did not end within ${limit} s)")
    failed=$((failed + 1))
  elif [ "$rc" != 0 ]; then
    broken+=("$f")
    [ "${n:-0}" = 0 ] && failed=$((failed + 1))
  fi
done
echo
if [ "$lint_ok" = 0 ]; then
  broken+=("npm run lint (the type check, prettier --check or the shape bars: see its output above)")
  failed=$((failed + 1))
fi
if [ ${#broken[@]} -gt 0 ]; then
  echo "Files with failures:"
  printf '  %s\n' "${broken[@]}"
fi
echo "tests: $passed passed, $failed failed"
[ ${#broken[@]} -eq 0 ]
