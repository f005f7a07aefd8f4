#!/usr/bin/env bash
# Peak memory of `deepcluster cluster` on an N x D float32 .npy too large to load comfortably (default 200 000 x 4096,
# 3.3 GB): the PCA statistics and the projection stream the file in chunks, so the process should hold only the
# N x 256 preprocessed points. Usage: bench/cluster/stream.sh [N] [D] [K] [NITER]; the file is cached under bench/out/cluster/.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
n=${1:-200000}; d=${2:-4096}; k=${3:-1000}; niter=${4:-5}
data="$root/bench/out/cluster"; mkdir -p "$data"
features="$data/wide_${n}x${d}.npy"
[ -f "$features" ] || /usr/bin/python3 "$here/make_wide.py" "$features" "$n" "$d"
dll="$root/src/DeepCluster.Cli/bin/Release/net10.0/deepcluster.dll"
[ -f "$dll" ] || dotnet build "$root/src/DeepCluster.Cli" -c Release -nologo -v q
out=$(mktemp -d)
/usr/bin/time -v dotnet "$dll" cluster "$features" --k "$k" --niter "$niter" --device cpu --out "$out/run" 2> "$out/time.txt"
grep -E "Maximum resident set size|Elapsed \(wall clock\)" "$out/time.txt"
rss_kb=$(awk -F: '/Maximum resident set size/ {gsub(/ /, "", $2); print $2}' "$out/time.txt")
echo "file $(du -h "$features" | cut -f1); peak RSS $((rss_kb / 1024)) MiB"
rm -rf "$out"
