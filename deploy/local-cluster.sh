#!/usr/bin/env bash
# A DeepCluster cluster on this machine, for trying the cluster and for the tests: a throwaway PostgreSQL 15 (the
# shared journal, deploy/postgres-test.sh), one coordinator (roles coordinator,api) and WORKERS worker hosts, each a
# `deepcluster host` process on 127.0.0.1 ports of its own.
#
#   deploy/local-cluster.sh up [WORKERS]   starts them (WORKERS: 0 to 32, default 2); prints the API's URL and the
#                                          file holding its bearer token
#   deploy/local-cluster.sh down           stops the hosts (SIGTERM, then SIGKILL after 20 s) and PostgreSQL; the
#                                          logs stay in the state folder
#   deploy/local-cluster.sh status         which hosts are running
#
# State (pid files, logs, the generated config files, the experiments folder, the API token):
# $DEEPCLUSTER_CLUSTER_DIR, default artifacts/local-cluster. The hosts run $DEEPCLUSTER_BIN when set, else the CLI
# built once into artifacts/cli. $WORKER_ROLES (default "worker") gives the workers' roles, e.g. "worker,coordinator"
# so that another node can take the experiments over when the coordinator is killed.
#
# Each node's --config is a small file in the state folder that includes config/coordinator.conf or worker.conf and
# sets what is this cluster's own (the journal's connection string, experiments folder, token file); --port,
# --seed-nodes, --roles and --api-port override the rest. Every node sees the same experiments folder: one machine is trivially a shared filesystem.
set -Eeuo pipefail
shopt -s inherit_errexit
root=$(cd "$(dirname "$0")/.." && pwd)
state=${DEEPCLUSTER_CLUSTER_DIR:-$root/artifacts/local-cluster}
worker_roles=${WORKER_ROLES:-worker}

say() { echo "local-cluster: $*" >&2; }
usage() { say "usage: $0 up [WORKERS] | down | status"; exit 2; }

port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# A free loopback port not handed out before in this run, below the kernel's ephemeral range (32768-60999 by default),
# so that no outgoing connection and no port-0 listener of another program can take it between the check and the bind.
ephemeral_low=$(cut -f1 /proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || echo 32768)
ports_from=20000 ports_to=$((ephemeral_low - 1))
if (( ports_to - ports_from < 1000 )); then ports_from=10000 ports_to=19999; fi
taken=" "
free_port() {
  local p
  for _ in $(seq 1 50); do
    p=$((ports_from + RANDOM % (ports_to - ports_from + 1)))
    if [[ $taken != *" $p "* ]] && port_free "$p"; then taken+="$p "; echo "$p"; return 0; fi
  done
  say "no free port found"; return 1
}

alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

running() {
  local f
  for f in "$state"/pids/*.pid; do [ -e "$f" ] && alive "$f" && return 0; done
  return 1
}

binary() {
  if [ -n "${DEEPCLUSTER_BIN:-}" ]; then echo "$DEEPCLUSTER_BIN"; return 0; fi
  "$root/deploy/deps.sh" run
  local out="$root/artifacts/cli"
  dotnet build "$root/src/DeepCluster.Cli/DeepCluster.Cli.csproj" -c Release -o "$out" -nologo -v quiet -clp:ErrorsOnly >&2
  echo "$out/deepcluster"
}

# start NAME CONFIG ARGS…: one host in the background, its pid and log in the state folder.
start() {
  local name=$1 config=$2; shift 2
  setsid "$bin" host --config "$config" "$@" >"$state/logs/$name.log" 2>&1 </dev/null &
  echo $! >"$state/pids/$name.pid"
  say "$name: pid $!, log $state/logs/$name.log"
}

stop_hosts() {
  local f pids=()
  for f in "$state"/pids/*.pid; do
    [ -e "$f" ] || continue
    if alive "$f"; then pids+=("$(cat "$f")"); kill -TERM "$(cat "$f")" 2>/dev/null || true; fi
  done
  for _ in $(seq 1 40); do
    local left=()
    for p in "${pids[@]}"; do kill -0 "$p" 2>/dev/null && left+=("$p"); done
    [ ${#left[@]} -eq 0 ] && break
    sleep 0.5
  done
  for p in "${pids[@]}"; do kill -0 "$p" 2>/dev/null && { say "pid $p did not stop in 20 s: SIGKILL"; kill -KILL "$p" 2>/dev/null || true; }; done
  rm -f "$state"/pids/*.pid
}

stop_postgres() {
  [ -f "$state/postgres.env" ] || return 0
  # shellcheck disable=SC1091
  . "$state/postgres.env"
  "$root/deploy/postgres-test.sh" stop "$DEEPCLUSTER_TEST_PG_DIR"
  rm -f "$state/postgres.env"
}

up() {
  local workers=${1:-2}
  [[ $workers =~ ^[0-9]+$ ]] && [ "$workers" -le 32 ] || { say "WORKERS: $workers: expected a number from 0 to 32"; exit 2; }
  if running || [ -f "$state/postgres.env" ]; then say "already up in $state (run: $0 down)"; exit 1; fi
  mkdir -p "$state/pids" "$state/logs" "$state/experiments"
  bin=$(binary)
  [ -x "$bin" ] || { say "$bin: not an executable"; exit 1; }

  # Whatever fails from here on leaves nothing running.
  trap 'say "failed: stopping what was started"; stop_hosts; stop_postgres' ERR
  "$root/deploy/postgres-test.sh" start >"$state/postgres.env"
  chmod 600 "$state/postgres.env"
  # shellcheck disable=SC1091
  . "$state/postgres.env"

  local port api seed
  port=$(free_port); api=$(free_port)
  seed="akka.tcp://deepcluster@127.0.0.1:$port"
  # The nodes' own settings over the shipped cluster files; relative paths are relative to the state folder.
  # The journal's connection string (with its password) goes in these files, readable by their owner only, not on
  # command lines that `ps` shows.
  local journal="deepcluster.journal { provider = postgresql, connection-string = \"$DEEPCLUSTER_TEST_PG\" }"
  (umask 077
   printf 'include "%s"\n%s\ndeepcluster.host { experiments = "experiments", api.token-file = "api.token" }\n' \
     "$root/config/coordinator.conf" "$journal" >"$state/coordinator.conf"
   printf 'include "%s"\n%s\ndeepcluster.host.experiments = "experiments"\n' \
     "$root/config/worker.conf" "$journal" >"$state/worker.conf")
  chmod 600 "$state/coordinator.conf" "$state/worker.conf"
  start coordinator "$state/coordinator.conf" --port "$port" --seed-nodes "$seed" --api-port "$api"

  # The coordinator is up when its API listens (the first start also makes the journal's tables).
  local deadline=$((SECONDS + 120))
  until ! port_free "$api"; do
    alive "$state/pids/coordinator.pid" || { say "the coordinator exited: $(tail -n 3 "$state/logs/coordinator.log" | tr '\n' ' ')"; false; }
    [ $SECONDS -lt $deadline ] || { say "the coordinator's API did not listen on 127.0.0.1:$api within 120 s"; false; }
    sleep 0.5
  done
  local i
  for i in $(seq 1 "$workers"); do
    start "worker-$i" "$state/worker.conf" --port 0 --seed-nodes "$seed" --roles "$worker_roles"
  done
  trap - ERR
  {
    echo "export DEEPCLUSTER_HOST='http://127.0.0.1:$api'"
    echo "export DEEPCLUSTER_TOKEN_FILE='$state/api.token'"
    echo "export DEEPCLUSTER_SEED='$seed'"
  } >"$state/cluster.env"
  say "up: coordinator $seed, $workers worker(s), PostgreSQL ${DEEPCLUSTER_TEST_PG%%;Password=*}"
  echo "API:        http://127.0.0.1:$api"
  echo "token file: $state/api.token"
  echo "(both in $state/cluster.env; e.g. deepcluster list --host http://127.0.0.1:$api)"
}

status() {
  local f any=1
  for f in "$state"/pids/*.pid; do
    [ -e "$f" ] || continue
    any=0
    if alive "$f"; then echo "$(basename "$f" .pid): running (pid $(cat "$f"))"; else echo "$(basename "$f" .pid): exited"; fi
  done
  [ $any -eq 0 ] || echo "no hosts (state: $state)"
  [ -f "$state/postgres.env" ] && echo "postgresql: $(grep -o 'Port=[0-9]*' "$state/postgres.env")"
  return 0
}

case "${1:-}" in
  up) [ $# -le 2 ] || usage; up "${2:-2}" ;;
  down) [ $# -eq 1 ] || usage; stop_hosts; stop_postgres; say "down (logs in $state/logs)" ;;
  status) [ $# -eq 1 ] || usage; status ;;
  *) usage ;;
esac
