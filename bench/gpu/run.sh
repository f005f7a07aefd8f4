#!/usr/bin/env bash
# The GPU check of the training issue, prepared for a session that is lent a device machine:
#   bench/gpu/run.sh pack     (here: packs dcbench into .devkit/ with the PyTorch peer)
#   then, with the device tool, from the repository root and with `.devkit` carried:
#   bash .devkit/run.sh dcbench 16 20 alexnet 256 cuda && python3 .devkit/pytorch_alexnet_bench.py 256 20 &&
#   bash .devkit/run.sh dcbench pipeline 20000 alexnet cuda 16 2 1000
# Prints our Trainer's AlexNet (224×224, batch 256, fp32, k = 10000 head) training and inference images/s and
# PyTorch eager's on the same GPU in the same call (the issue's target is ≥ 90% of PyTorch), then what the whole
# actor pipeline sustains on 20 000 synthetic 500×375 JPEGs (2 epochs, k = 1000, 16 decoding workers).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
shared="$root/../shared/gpu"
case "${1:-pack}" in
  pack)
    cd "$root"
    bash "$shared/pack.sh" bench/DeepCluster.Bench/DeepCluster.Bench.csproj .devkit
    cp "$shared/pytorch_alexnet_bench.py" .devkit/
    echo "device command: bash .devkit/run.sh dcbench 16 20 alexnet 256 cuda && python3 .devkit/pytorch_alexnet_bench.py 256 20 && bash .devkit/run.sh dcbench pipeline 20000 alexnet cuda 16 2 1000"
    ;;
  *) echo "usage: bench/gpu/run.sh pack" >&2; exit 2 ;;
esac
