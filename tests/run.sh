#!/usr/bin/env bash
# Runs every test: installs the Python peers the tests compare against and PostgreSQL, starts a throwaway PostgreSQL
# server for the journal tests (unless DEEPCLUSTER_TEST_PG names one already; stopped and removed at the end, also on
# failure), restores, builds and tests, then prints one closing line "N passed, N failed".
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/deploy/deps.sh" test || exit 1
if [ -z "${DEEPCLUSTER_TEST_PG:-}" ]; then
  exports=$("$root/deploy/postgres-test.sh" start) || exit 1
  eval "$exports"
  trap '"$root/deploy/postgres-test.sh" stop "$DEEPCLUSTER_TEST_PG_DIR"' EXIT
  trap 'exit 130' INT TERM
fi
cd "$root"
log=$(mktemp)
dotnet test DeepCluster.Actors.sln -c Release -nologo "$@" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
passed=$(grep -oE 'Passed: +[0-9]+' "$log" | awk '{s += $2} END {print s + 0}')
failed=$(grep -oE 'Failed: +[0-9]+' "$log" | awk '{s += $2} END {print s + 0}')
rm -f "$log"
echo
echo "$passed passed, $failed failed"
exit "$status"
