#!/usr/bin/env bash
# The benchmark protocol (../shared/PROTOCOL.md) side by side: our `deepcluster train` and a PyTorch + faiss peer
# of the published main.py, same machine, same invocation. Prints per-epoch figures, means, ratios, peak memory.
#   bench/protocol/run.sh [EPOCHS] [ROUNDS]
# EPOCHS defaults to 15 (the protocol's run). ROUNDS = 1 runs ours then the peer; ROUNDS = 2 runs ours, peer, peer,
# ours (ABBA), so that a machine whose speed drifts during the hour weighs on both sides alike; the ratio is then
# taken over the sums of both runs of each.
# PRECISION=bf16 runs ours with --precision bf16 (convolutions and linear layers in bf16: only on a CPU with native
# bf16, avx512_bf16 or amx_bf16); the peer stays in fp32, as the published code runs.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
epochs=${1:-15}
rounds=${2:-1}
case "$rounds" in 1) order=(ours peer) ;; 2) order=(ours peer peer ours) ;; *) echo "ROUNDS must be 1 or 2" >&2; exit 2 ;; esac
out="$root/bench/out/protocol"; rm -rf "$out"; mkdir -p "$out"
"$root/deploy/deps.sh" bench
dotnet build "$root/src/DeepCluster.Cli/DeepCluster.Cli.csproj" -c Release -o "$out/app" -nologo -v quiet -clp:ErrorsOnly
data=/usr/share/datasets/fashion-mnist
args=(--sobel --k 100 --epochs "$epochs" --batch 256 --lr 0.05 --wd -5 --momentum 0.9 --reassign 1 --seed 31 --workers 2 --precision "${PRECISION:-fp32}")

declare -A runs=([ours]=0 [peer]=0)
for who in "${order[@]}"; do
  i=$((runs[$who] += 1))
  if [ "$who" = ours ]; then
    echo "== ours #$i: deepcluster train (alexnet_small, fmnist-10k, $epochs epochs)"
    /usr/bin/time -v -o "$out/ours$i.time" "$out/app/deepcluster" train "$data" --arch alexnet_small --limit 10000 \
      --exp "$out/exp$i" --device cpu "${args[@]}" > "$out/ours$i.log" 2>&1 || { tail -20 "$out/ours$i.log"; exit 1; }
    cp "$out/exp$i/metrics.jsonl" "$out/ours$i.jsonl"
  else
    echo "== peer #$i: PyTorch $(/usr/bin/python3 -c 'import torch; print(torch.__version__)') + faiss (published main.py algorithm)"
    OMP_NUM_THREADS=2 /usr/bin/time -v -o "$out/peer$i.time" /usr/bin/python3 "$root/bench/protocol/reference_deepcluster.py" \
      "$data" --k 100 --epochs "$epochs" --batch 256 --workers 2 --limit 10000 --seed 31 > "$out/peer$i.jsonl" \
      2> "$out/peer$i.log" || { tail -20 "$out/peer$i.log"; exit 1; }
  fi
done

/usr/bin/python3 - "$out" "$rounds" <<'PY'
import json, sys, re, os
out, rounds = sys.argv[1], int(sys.argv[2])
def load(p): return [json.loads(l) for l in open(p)]
ours = [load(f'{out}/ours{i}.jsonl') for i in range(1, rounds + 1)]
peer = [load(f'{out}/peer{i}.jsonl') for i in range(1, rounds + 1)]
def rss(p): return int(re.search(r'Maximum resident set size \(kbytes\): (\d+)', open(p).read()).group(1)) / 1024 / 1024
cols = ['epoch_seconds', 'features_seconds', 'clustering_seconds', 'training_seconds', 'train_images_per_second',
        'clustering_loss', 'convnet_loss', 'nmi_previous', 'nmi_labels']
def fmt(v): return '   -   ' if v is None else f'{v:8.3f}'
print('epoch | ' + ' | '.join(f'{c[:14]:>14}' for c in cols) + '   (ours / peer, first run of each)')
for o, p in zip(ours[0], peer[0]):
    print(f"{o['epoch']:5d} | " + ' | '.join(f"{fmt(o.get(c))}/{fmt(p.get(c)).strip():<6}"[:14].rjust(14) for c in cols))
def mean(runs, c): return sum(r[c] for rows in runs for r in rows) / sum(len(rows) for rows in runs)
print()
for c in ['epoch_seconds', 'features_seconds', 'clustering_seconds', 'training_seconds', 'train_images_per_second']:
    mo, mp = mean(ours, c), mean(peer, c)
    each = '' if rounds == 1 else '  (per run: ours ' + ', '.join(f'{mean([r], c):.2f}' for r in ours) + \
        '; peer ' + ', '.join(f'{mean([r], c):.2f}' for r in peer) + ')'
    print(f'mean {c:24s} ours {mo:9.2f}  peer {mp:9.2f}  ratio ours/peer {mo / mp:5.2f}{each}')
print(f"NMI vs labels: ours {min(r['nmi_labels'] for r in ours[0]):.3f}..{max(r['nmi_labels'] for r in ours[0]):.3f}, "
      f"peer {min(r['nmi_labels'] for r in peer[0]):.3f}..{max(r['nmi_labels'] for r in peer[0]):.3f}")
print(f"ConvNet loss first→last: ours {ours[0][0]['convnet_loss']:.2f}→{ours[0][-1]['convnet_loss']:.2f}, "
      f"peer {peer[0][0]['convnet_loss']:.2f}→{peer[0][-1]['convnet_loss']:.2f}")
peak = lambda who: max(rss(f'{out}/{who}{i}.time') for i in range(1, rounds + 1))
print(f"peak memory (max RSS): ours {peak('ours'):.2f} GiB, peer {peak('peer'):.2f} GiB")
PY
