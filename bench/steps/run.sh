#!/usr/bin/env bash
# Compute alone, side by side: TorchSharp (ours, channels-last) vs Debian's PyTorch (published code's layout, and
# channels-last) on alexnet_small with Sobel, batch 256, 2 threads.   bench/steps/run.sh [batches] [pipeline-rounds]
# With pipeline-rounds > 0, then the same steps inside the pipeline vs the bare loop on the protocol's data (fmnist-10k,
# loader included), ABBA over the rounds, in one process: `dcbench overhead` (wall, CPU and page faults per batch).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
batches=${1:-30}
rounds=${2:-0}
"$root/deploy/deps.sh" bench
dotnet build "$root/bench/DeepCluster.Bench" -c Release -o "$root/bench/out/steps" -nologo -v quiet -clp:ErrorsOnly
ours=$("$root/bench/out/steps/dcbench" 2 "$batches")
peer=$(/usr/bin/python3 "$root/bench/steps/peer_steps.py" 2 "$batches")
peer_cl=$(/usr/bin/python3 "$root/bench/steps/peer_steps.py" 2 "$batches" channels_last)
echo "ours (TorchSharp):"; echo "$ours" | sed 's/^/  /'
echo "PyTorch $(/usr/bin/python3 -c 'import torch; print(torch.__version__)'), contiguous (as main.py):"; echo "$peer" | sed 's/^/  /'
echo "PyTorch, channels_last:"; echo "$peer_cl" | sed 's/^/  /'
for k in inference train; do
  o=$(echo "$ours" | awk -v k=$k '$1==k {print $2}'); p=$(echo "$peer" | awk -v k=$k '$1==k {print $2}')
  echo "$k: ours/PyTorch = $(awk -v o="$o" -v p="$p" 'BEGIN{printf "%.2f", o/p}')"
done
if [ "$rounds" -gt 0 ]; then
  echo "pipeline vs bare loop (load $(cut -d' ' -f1-3 /proc/loadavg)):"
  "$root/bench/out/steps/dcbench" overhead "$rounds" 10000 | sed 's/^/  /'
fi
