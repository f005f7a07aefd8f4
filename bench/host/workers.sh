#!/usr/bin/env bash
# Feature-pass throughput over worker processes: a throwaway PostgreSQL, one coordinator (roles coordinator,api) and
# W worker hosts (role worker) on 127.0.0.1, for W in WORKER_COUNTS (default "1 2"); one epoch of the protocol's data
# (first LIMIT Fashion-MNIST images, alexnet_small + Sobel, k = 100, batch 256) submitted to each cluster, and the same
# epochs run by `deepcluster train` (one process, its own worker) as the peer. Two epochs each: the first pays for
# loading libtorch and the model in each worker process, the second is the steady state. Prints images/s of each
# feature pass (the epoch's "features N s") and the cost of distribution against `train`.
# Training images/s too: each cluster runs once per deepcluster.training.remote-loaders value in LOADERS (default
# "off auto"): off, the coordinator decodes and augments its own batches (as `train`); auto, the workers' loader
# workers make them and the coordinator reads them from files (the coordinator has no worker role here). All
# processes share this machine's cores, so the figure is the cost of the batch files, not a speed-up.
# Usage: bench/host/workers.sh [LIMIT]
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
limit=${1:-10000}
bin="$root/src/DeepCluster.Cli/bin/Release/net10.0/deepcluster"
[ -x "$bin" ] || dotnet build "$root/src/DeepCluster.Cli" -c Release -nologo -v q
work=$(mktemp -d)
eval "$("$root/deploy/postgres-test.sh" start)"
pids=()
cleanup() { for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; "$root/deploy/postgres-test.sh" stop >/dev/null 2>&1 || true; rm -rf "$work"; }
trap cleanup EXIT
flags=(/usr/share/datasets/fashion-mnist --arch alexnet_small --sobel --k 100 --epochs 2 --batch 256 --limit "$limit" --device cpu --seed 31)
port() { /usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
# features seconds of epoch $2 (0 or 1)
features_s() { metric "$1" "$2" features_seconds; }
# training images/s of epoch $2
train_rate() { metric "$1" "$2" train_images_per_second 0; }
# largest difference of the ConvNet losses of two runs (0: the same batches, the same SGD), and which nodes made the batches
loss_diff() { /usr/bin/python3 -c 'import json, sys; l = [[json.loads(x)["convnet_loss"] for x in open(f"{d}/metrics.jsonl")] for d in sys.argv[1:]]; print(max(abs(a - b) for a, b in zip(*l)))' "$1" "$2"; }
made_by() { grep -o "training batches are made by loader workers on [^;]*" "$1/train.log" | sort -u | sed 's/.* on //' | paste -sd' ' || true; }
metric() { /usr/bin/python3 -c 'import json, sys; print(round(json.loads(open(sys.argv[1]).readlines()[int(sys.argv[2])])[sys.argv[3]], int(sys.argv[4])))' "$1/metrics.jsonl" "$2" "$3" "${4:-2}"; }
rate() { awk -v n="$limit" -v s="$1" 'BEGIN { printf "%.0f", n / s }'; }

"$bin" train "${flags[@]}" --exp "$work/train" > "$work/train.out" 2>&1
t0=$(features_s "$work/train" 0); t=$(features_s "$work/train" 1)
tr=$(train_rate "$work/train" 1)
echo "train (one process):  epoch 0 features ${t0} s = $(rate "$t0") img/s; epoch 1 ${t} s = $(rate "$t") img/s; training epoch 1 ${tr} img/s"

for w in ${WORKER_COUNTS:-1 2}; do
for loaders in ${LOADERS:-off auto}; do
  dir="$work/cluster-$w-$loaders"; mkdir -p "$dir"; echo "deepcluster.training.remote-loaders = $loaders" > "$dir/node.conf"
  seed=$(port); api=$(port)
  journal="$DEEPCLUSTER_TEST_PG"
  "$bin" host --config "$dir/node.conf" --experiments "$dir/exps" --port "$seed" --api-port "$api" --roles coordinator,api \
      --seed-nodes "akka.tcp://deepcluster@127.0.0.1:$seed" --journal "$journal" > "$dir/coordinator.out" 2>&1 &
  pids+=($!)
  for _ in $(seq 1 120); do grep -q "bearer token in" "$dir/coordinator.out" && break; sleep 0.5; done
  for i in $(seq 1 "$w"); do
    "$bin" host --config "$dir/node.conf" --experiments "$dir/exps" --port 0 --api-port "$(port)" --roles worker \
        --seed-nodes "akka.tcp://deepcluster@127.0.0.1:$seed" --journal "$journal" > "$dir/worker-$i.out" 2>&1 &
    pids+=($!)
    for _ in $(seq 1 120); do grep -qs " up: roles" "$dir/worker-$i.out" && break; sleep 0.5; done
  done
  export DEEPCLUSTER_HOST="http://127.0.0.1:$api" DEEPCLUSTER_TOKEN_FILE="$dir/api.token"
  id=$("$bin" submit "${flags[@]}")
  auth="Authorization: Bearer $(cat "$DEEPCLUSTER_TOKEN_FILE")"
  until curl -sf -H "$auth" "$DEEPCLUSTER_HOST/api/experiments/$id" | grep -q '"state":"finished"'; do sleep 0.5; done
  f0=$(features_s "$dir/exps/$id" 0); f=$(features_s "$dir/exps/$id" 1)
  r=$(train_rate "$dir/exps/$id" 1)
  echo "host, $w worker process(es), remote-loaders $loaders: epoch 0 features ${f0} s = $(rate "$f0") img/s; epoch 1 ${f} s = $(rate "$f") img/s ($(awk -v a="$f" -v b="$t" 'BEGIN { printf "%.2f", a / b }') x train's time); training epoch 1 ${r} img/s ($(awk -v a="$r" -v b="$tr" 'BEGIN { printf "%.2f", a / b }') x train's rate); ConvNet losses differ from train's by $(loss_diff "$work/train" "$dir/exps/$id"); batches made on: $(made_by "$dir/exps/$id")"
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; pids=()
done
done
