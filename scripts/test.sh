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
# the LDAPS/StartTLS tests make a test CA and server certificate with openssl
command -v openssl >/dev/null || missing+=(openssl)
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
mapfile -t files < <(find packages/*/dist test/dist -name '*.test.js' | sort)
echo "==> node --test (${#files[@]} files)"
# One file at a time: the end-to-end files start several processes each, and CI has 2 cores.
NODE_ENV=test exec node --test --test-concurrency=1 --test-reporter=spec "${files[@]}"
