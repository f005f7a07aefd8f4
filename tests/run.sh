#!/usr/bin/env bash
# Runs every test: installs the Python peers the tests compare against, restores, builds and tests.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/deploy/deps.sh" test
cd "$root"
dotnet test DeepCluster.Actors.sln -c Release -nologo "$@"
