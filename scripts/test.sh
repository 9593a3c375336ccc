#!/usr/bin/env bash
# The whole test suite: unit tests of every package and the end-to-end scenarios, which start
# real authority and host processes on loopback. Installs and builds what it needs first.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure-deps.sh

# The authority's store suite also runs on a real PostgreSQL that the tests start themselves.
if [ -z "${VOLACT_TEST_PG_URL:-}" ] && ! command -v initdb >/dev/null && ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ]; then
    echo "==> apt-get install postgresql (for the PostgreSQL store tests)"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq && apt-get install -y -qq --no-install-recommends postgresql >/dev/null
  else
    echo "The tests need PostgreSQL's initdb and pg_ctl: run as root to install them with apt, install the" >&2
    echo "Debian package postgresql yourself, or point VOLACT_TEST_PG_URL at a server the tests may use." >&2
    exit 1
  fi
fi
# The DNS tests start a real BIND 9 (named) on a loopback port.
if ! command -v named >/dev/null && [ ! -x /usr/sbin/named ]; then
  if [ "$(id -u)" = 0 ]; then
    echo "==> apt-get install bind9 bind9-utils (for the DNS SRV tests)"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq && apt-get install -y -qq --no-install-recommends bind9 bind9-utils >/dev/null
  else
    echo "The DNS tests need BIND 9's named: run as root to install it with apt, or install the Debian" >&2
    echo "packages bind9 and bind9-utils yourself." >&2
    exit 1
  fi
fi
# The directory tests start a real OpenLDAP (slapd): a provider and a syncrepl consumer.
if ! command -v slapd >/dev/null && [ ! -x /usr/sbin/slapd ]; then
  if [ "$(id -u)" = 0 ]; then
    echo "==> apt-get install slapd ldap-utils (for the directory tests; no system database is configured)"
    export DEBIAN_FRONTEND=noninteractive
    echo 'slapd slapd/no_configuration boolean true' | debconf-set-selections
    apt-get update -qq && apt-get install -y -qq --no-install-recommends slapd ldap-utils >/dev/null
  else
    echo "The directory tests need OpenLDAP's slapd: run as root to install it with apt, or install the" >&2
    echo "Debian packages slapd and ldap-utils yourself." >&2
    exit 1
  fi
fi
mapfile -t files < <(find packages/*/dist test/dist -name '*.test.js' | sort)
echo "==> node --test (${#files[@]} files)"
# One file at a time: the end-to-end files start several processes each, and CI has 2 cores.
NODE_ENV=test exec node --test --test-concurrency=1 --test-reporter=spec "${files[@]}"
