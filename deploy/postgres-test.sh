#!/usr/bin/env bash
# A throwaway PostgreSQL 15 server for the tests: a new cluster in a temporary folder, on 127.0.0.1 and a free port of
# its own (never 5432), with one database and one user (password authentication over TCP; the user may create
# databases, so that each test can have its own).
#
#   eval "$(deploy/postgres-test.sh start)"   starts it; prints the exports of DEEPCLUSTER_TEST_PG (the Npgsql
#                                             connection string the tests use) and DEEPCLUSTER_TEST_PG_DIR (its folder)
#   deploy/postgres-test.sh stop [DIR]        stops it and removes its folder (DIR: default $DEEPCLUSTER_TEST_PG_DIR)
#   deploy/postgres-test.sh run CMD [ARGS…]   starts it, runs CMD with both variables set, stops it even when CMD
#                                             fails or is interrupted; exits with CMD's status
#
# Installs Debian's postgresql-15 when it is missing. initdb refuses to run as root: as root, the server runs as the
# `postgres` user (runuser); as anyone else, as that user.
set -euo pipefail
shopt -s inherit_errexit
bin=/usr/lib/postgresql/15/bin

say() { echo "postgres-test: $*" >&2; }

install() {
  [ -x "$bin/initdb" ] && return 0
  local sudo=""; [ "$(id -u)" -ne 0 ] && sudo="sudo"
  say "installing postgresql-15"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends postgresql-15 >/dev/null
}

# Runs a PostgreSQL program as the server's owner.
as_owner() { if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }

port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

stop() {
  local dir=${1:-${DEEPCLUSTER_TEST_PG_DIR:-}}
  [ -n "$dir" ] && [ -d "$dir" ] || return 0
  [ -f "$dir/data/postmaster.pid" ] && as_owner "$bin/pg_ctl" -D "$dir/data" -m immediate -w -t 10 stop >/dev/null 2>&1 || true
  rm -rf "$dir"
}

start() {
  install
  local dir user=deepcluster db=deepcluster_test password port="" log
  # As root, under /tmp: the postgres user must reach it.
  if [ "$(id -u)" -eq 0 ]; then dir=$(mktemp -d /tmp/deepcluster-pg.XXXXXX); else dir=$(mktemp -d "${TMPDIR:-/tmp}/deepcluster-pg.XXXXXX"); fi
  # Whatever fails from here on leaves nothing running and nothing behind.
  pending_dir=$dir
  trap '[ -z "$pending_dir" ] || stop "$pending_dir"' EXIT
  chmod 755 "$dir"
  if [ "$(id -u)" -eq 0 ]; then chown postgres: "$dir"; fi
  password=$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')
  printf '%s\n' "$password" > "$dir/password"
  if [ "$(id -u)" -eq 0 ]; then chown postgres: "$dir/password"; fi
  as_owner "$bin/initdb" -D "$dir/data" -U postgres --pwfile="$dir/password" --auth-local=trust \
    --auth-host=scram-sha-256 -E UTF8 --locale=C --no-sync >"$dir/initdb.log" 2>&1 \
    || { say "initdb failed: $(tail -n 3 "$dir/initdb.log" | tr '\n' ' ')"; false; }
  log="$dir/server.log"
  for _ in $(seq 1 20); do
    port=$((20000 + RANDOM % 20000))
    port_free "$port" || continue
    # A throwaway server: no durability (fsync off), loopback only, its socket in its own folder.
    if as_owner "$bin/pg_ctl" -D "$dir/data" -l "$log" -w -t 15 -o "-c listen_addresses=127.0.0.1 -c port=$port \
        -c unix_socket_directories=$dir -c fsync=off -c synchronous_commit=off -c full_page_writes=off \
        -c max_connections=100 -c shared_buffers=32MB" start >/dev/null 2>&1; then
      break
    fi
    port=""
  done
  [ -n "$port" ] || { say "the server did not start: $(tail -n 3 "$log" 2>/dev/null | tr '\n' ' ')"; false; }
  as_owner "$bin/psql" -q -v ON_ERROR_STOP=1 -h "$dir" -p "$port" -U postgres -d postgres >/dev/null <<SQL
CREATE ROLE $user LOGIN CREATEDB PASSWORD '$password';
CREATE DATABASE $db OWNER $user;
SQL
  pending_dir=""
  echo "export DEEPCLUSTER_TEST_PG='Host=127.0.0.1;Port=$port;Database=$db;Username=$user;Password=$password'"
  echo "export DEEPCLUSTER_TEST_PG_DIR='$dir'"
  say "PostgreSQL 15 on 127.0.0.1:$port, database $db, in $dir"
}

case "${1:-}" in
  start) start ;;
  stop) stop "${2:-}" ;;
  run)
    shift
    [ $# -gt 0 ] || { say "usage: $0 run CMD [ARGS…]"; exit 2; }
    exports=$(start) || exit 1
    eval "$exports"
    trap 'stop "$DEEPCLUSTER_TEST_PG_DIR"' EXIT
    trap 'exit 130' INT TERM
    status=0
    "$@" || status=$?
    exit "$status"
    ;;
  *) say "usage: $0 start | stop [DIR] | run CMD [ARGS…]"; exit 2 ;;
esac
