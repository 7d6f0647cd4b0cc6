#!/usr/bin/env bash
# Starts a throwaway PostgreSQL server for the history tests (tests/it/history.rs) and prints
# the URL they read from GAUNTLET_TEST_POSTGRES. Debian's `postgresql` package, run as the
# `postgres` user, in a fresh data folder on a localhost port: it never touches a cluster of the
# machine. Usage: export GAUNTLET_TEST_POSTGRES="$(bash .ci/postgres.sh [PORT])"
set -euo pipefail
port="${1:-55432}"
bin="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)"
if [ -z "$bin" ]; then
  if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
    apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
    bin="$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)"
  else
    echo "note: PostgreSQL not found and cannot be installed here" >&2
    exit 1
  fi
fi
# A second run (on a developer's machine) finds the server the first one left: reuse it.
if "$bin/pg_isready" -q -h 127.0.0.1 -p "$port"; then
  "$bin/createdb" -h 127.0.0.1 -p "$port" -U postgres gauntlet_test 2>/dev/null || true
  echo "postgres://postgres@127.0.0.1:$port/gauntlet_test"
  exit 0
fi
dir="$(mktemp -d /tmp/gauntlet-pg.XXXXXX)"
chown postgres "$dir"
as_pg() { if [ "$(id -un)" = postgres ]; then "$@"; else runuser -u postgres -- "$@"; fi; }
as_pg "$bin/initdb" -D "$dir/data" -U postgres --auth=trust >/dev/null
as_pg "$bin/pg_ctl" -D "$dir/data" -l "$dir/log" -w \
  -o "-p $port -k $dir -c listen_addresses=127.0.0.1" start >/dev/null
as_pg "$bin/createdb" -h 127.0.0.1 -p "$port" -U postgres gauntlet_test
echo "postgres://postgres@127.0.0.1:$port/gauntlet_test"
