#!/usr/bin/env bash
# Runs every test: installs the Python peers the tests compare against, restores, builds and tests,
# then prints one closing line "N passed, N failed".
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/deploy/deps.sh" test || exit 1
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
