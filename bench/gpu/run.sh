#!/usr/bin/env bash
# The GPU check of the training issue, prepared for a session that is lent a device machine:
#   bench/gpu/run.sh pack      (here: packs dcbench into .devkit/ with the PyTorch peers)
#   bench/gpu/run.sh device    (there, with the device tool, from the repository root and `.devkit` carried)
# `device` prints, in one call on one GPU:
#   1. our Trainer's AlexNet (224×224, batch 256, fp32, k = 10000 head) training and inference images/s, then PyTorch
#      eager's (the issue's target: ≥ 90 % of PyTorch);
#   2. the same in bf16 + channels-last (ours: --precision bf16's autocast; channels-last is always on), with
#      cudnn.benchmark off and on, then PyTorch's bf16 autocast + channels_last, off and on (22 500 img/s seen on an H200);
#   3. what the whole actor pipeline sustains on 20 000 synthetic 500×375 JPEGs (2 epochs, k = 1000, 16 decoding workers).
# Each step has its own time limit so the whole stays well under 8 minutes (steps 1–2: ~1 min; step 3: at most 5 min).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
shared=${DC_SHARED_GPU:-"$root/../shared/gpu"}
case "${1:-pack}" in
  pack)
    cd "$root"
    bash "$shared/pack.sh" bench/DeepCluster.Bench/DeepCluster.Bench.csproj .devkit
    cp "$shared/pytorch_alexnet_bench.py" bench/gpu/pytorch_alexnet_bf16.py bench/gpu/run.sh .devkit/
    echo "device command: bash bench/gpu/run.sh device"
    ;;
  device)
    cd "$root"
    kit=.devkit
    [ -f "$kit/app.tar.xz" ] || { echo "bench/gpu/run.sh device: $kit/app.tar.xz missing; run bench/gpu/run.sh pack here and carry .devkit" >&2; exit 2; }
    echo "== 1. fp32 (ours, then PyTorch eager)"
    timeout 120 bash "$kit/run.sh" dcbench 16 20 alexnet 256 cuda
    timeout 60 python3 "$kit/pytorch_alexnet_bench.py" 256 20
    echo "== 2. bf16 + channels-last (ours: cudnn.benchmark off, on; then PyTorch: off, on)"
    timeout 90 bash "$kit/run.sh" dcbench 16 20 alexnet 256 cuda bf16
    timeout 90 bash "$kit/run.sh" dcbench 16 20 alexnet 256 cuda bf16 benchmark
    timeout 90 python3 "$kit/pytorch_alexnet_bf16.py" 256 20
    echo "== 3. the whole pipeline, fp32"
    timeout 300 bash "$kit/run.sh" dcbench pipeline 20000 alexnet cuda 16 2 1000
    ;;
  *) echo "usage: bench/gpu/run.sh pack|device" >&2; exit 2 ;;
esac
