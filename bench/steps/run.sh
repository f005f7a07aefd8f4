#!/usr/bin/env bash
# Compute alone, side by side: TorchSharp (ours, channels-last) vs Debian's PyTorch (published code's layout, and
# channels-last) on alexnet_small with Sobel, batch 256, 2 threads; then both in bf16 (ours --precision bf16's
# autocast vs torch.autocast('cpu', bfloat16), channels-last) where the CPU has native bf16.
#   bench/steps/run.sh [batches] [pipeline-rounds]
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
if grep -qwE 'avx512_bf16|amx_bf16' /proc/cpuinfo; then
  ours_bf16=$("$root/bench/out/steps/dcbench" 2 "$batches" alexnet_small 256 cpu bf16)
  peer_bf16=$(/usr/bin/python3 "$root/bench/steps/peer_steps.py" 2 "$batches" channels_last bf16)
  echo "ours bf16:"; echo "$ours_bf16" | sed 's/^/  /'
  echo "PyTorch, channels_last, bf16 autocast:"; echo "$peer_bf16" | sed 's/^/  /'
  for k in inference_bf16 train_bf16; do
    o=$(echo "$ours_bf16" | awk -v k=$k '$1==k {print $2}'); p=$(echo "$peer_bf16" | awk -v k=$k '$1==k {print $2}')
    f=$(echo "$ours" | awk -v k=${k%_bf16} '$1==k {print $2}')
    echo "$k: ours/PyTorch = $(awk -v o="$o" -v p="$p" 'BEGIN{printf "%.2f", o/p}'), ours bf16/fp32 = $(awk -v o="$o" -v f="$f" 'BEGIN{printf "%.2f", o/f}')"
  done
else
  echo "bf16: skipped, this CPU has no avx512_bf16 / amx_bf16"
fi
if [ "$rounds" -gt 0 ]; then
  echo "pipeline vs bare loop (load $(cut -d' ' -f1-3 /proc/loadavg)):"
  "$root/bench/out/steps/dcbench" overhead "$rounds" 10000 | sed 's/^/  /'
fi
