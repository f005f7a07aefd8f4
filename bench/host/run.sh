#!/usr/bin/env bash
# The cost of running an experiment through a host instead of `deepcluster train`: the time from `submit` to the
# first epoch's metrics line, against `train`'s time to the same line, on the benchmark protocol's data (first
# 10 000 Fashion-MNIST images, alexnet_small + Sobel, k = 100, batch 256), one epoch each, same seed.
# Usage: bench/host/run.sh [LIMIT]. Prints both times and their ratio; loopback ports only.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
limit=${1:-10000}
bin="$root/src/DeepCluster.Cli/bin/Release/net10.0/deepcluster"
[ -x "$bin" ] || dotnet build "$root/src/DeepCluster.Cli" -c Release -nologo -v q
work=$(mktemp -d)
trap 'kill $host_pid 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$work"' EXIT
flags=(/usr/share/datasets/fashion-mnist --arch alexnet_small --sobel --k 100 --epochs 1 --batch 256 --limit "$limit" --device cpu --seed 31)
now() { date +%s.%N; }

# train: from the command to its epoch line
start=$(now)
"$bin" train "${flags[@]}" --exp "$work/train" > "$work/train.out" 2>&1
train_s=$(awk -v s="$start" -v e="$(now)" 'BEGIN { printf "%.2f", e - s }')

# host: started first (not timed), then from submit to the first metrics line of `status`
api_port=$(/usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
touch "$work/host.conf"
"$bin" host --config "$work/host.conf" --experiments "$work/exps" --port 0 --api-port "$api_port" > "$work/host.out" 2>&1 &
host_pid=$!
for _ in $(seq 1 120); do grep -q "bearer token in" "$work/host.out" && break; sleep 0.5; done
export DEEPCLUSTER_HOST="http://127.0.0.1:$api_port" DEEPCLUSTER_TOKEN_FILE="$work/api.token"
start=$(now)
id=$("$bin" submit "${flags[@]}")
submitted=$(now)
# polled with curl (a CLI process per poll would take CPU from the run)
auth="Authorization: Bearer $(cat "$DEEPCLUSTER_TOKEN_FILE")"
until curl -sf -H "$auth" "$DEEPCLUSTER_HOST/api/experiments/$id" | grep -q '"lastMetrics":"epoch'; do sleep 0.2; done
host_s=$(awk -v s="$start" -v e="$(now)" 'BEGIN { printf "%.2f", e - s }')
submit_s=$(awk -v s="$start" -v e="$submitted" 'BEGIN { printf "%.2f", e - s }')
echo "train: ${train_s} s to epoch 0 (includes process start and libtorch load)"
echo "host:  ${host_s} s from submit to epoch 0's metrics (submit answered in ${submit_s} s)"
awk -v h="$host_s" -v t="$train_s" 'BEGIN { printf "host / train = %.2f\n", h / t }'
