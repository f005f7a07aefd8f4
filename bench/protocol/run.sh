#!/usr/bin/env bash
# The benchmark protocol (../shared/PROTOCOL.md) side by side: our `deepcluster train` and a PyTorch + faiss peer
# of the published main.py, same machine, same invocation. Prints per-epoch figures, means, ratios, peak memory.
#   bench/protocol/run.sh [EPOCHS]     (default 15; the protocol's run)
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
epochs=${1:-15}
out="$root/bench/out/protocol"; rm -rf "$out"; mkdir -p "$out"
"$root/deploy/deps.sh" bench
dotnet build "$root/src/DeepCluster.Cli/DeepCluster.Cli.csproj" -c Release -o "$out/app" -nologo -v quiet -clp:ErrorsOnly
data=/usr/share/datasets/fashion-mnist
args=(--sobel --k 100 --epochs "$epochs" --batch 256 --lr 0.05 --wd -5 --momentum 0.9 --reassign 1 --seed 31 --workers 2)

echo "== ours: deepcluster train (alexnet_small, fmnist-10k, $epochs epochs)"
/usr/bin/time -v -o "$out/ours.time" "$out/app/deepcluster" train "$data" --arch alexnet_small --limit 10000 \
  --exp "$out/exp" --device cpu "${args[@]}" > "$out/ours.log" 2>&1 || { tail -20 "$out/ours.log"; exit 1; }
echo "== peer: PyTorch $(/usr/bin/python3 -c 'import torch; print(torch.__version__)') + faiss (published main.py algorithm)"
OMP_NUM_THREADS=2 /usr/bin/time -v -o "$out/peer.time" /usr/bin/python3 "$root/bench/protocol/reference_deepcluster.py" "$data" \
  --k 100 --epochs "$epochs" --batch 256 --workers 2 --limit 10000 --seed 31 > "$out/peer.jsonl" 2> "$out/peer.log" \
  || { tail -20 "$out/peer.log"; exit 1; }

/usr/bin/python3 - "$out/exp/metrics.jsonl" "$out/peer.jsonl" "$out/ours.time" "$out/peer.time" <<'PY'
import json, sys, re
ours = [json.loads(l) for l in open(sys.argv[1])]
peer = [json.loads(l) for l in open(sys.argv[2])]
def rss(p): return int(re.search(r'Maximum resident set size \(kbytes\): (\d+)', open(p).read()).group(1)) / 1024 / 1024
cols = ['epoch_seconds', 'features_seconds', 'clustering_seconds', 'training_seconds', 'train_images_per_second',
        'clustering_loss', 'convnet_loss', 'nmi_previous', 'nmi_labels']
def fmt(v): return '   -   ' if v is None else f'{v:8.3f}'
print('epoch | ' + ' | '.join(f'{c[:14]:>14}' for c in cols) + '   (ours / peer)')
for o, p in zip(ours, peer):
    print(f"{o['epoch']:5d} | " + ' | '.join(f"{fmt(o.get(c))}/{fmt(p.get(c)).strip():<6}"[:14].rjust(14) for c in cols))
def mean(rows, c): return sum(r[c] for r in rows) / len(rows)
print()
for c in ['epoch_seconds', 'features_seconds', 'clustering_seconds', 'training_seconds', 'train_images_per_second']:
    mo, mp = mean(ours, c), mean(peer, c)
    print(f'mean {c:24s} ours {mo:9.2f}  peer {mp:9.2f}  ratio ours/peer {mo / mp:5.2f}')
print(f"NMI vs labels: ours {min(r['nmi_labels'] for r in ours):.3f}..{max(r['nmi_labels'] for r in ours):.3f}, "
      f"peer {min(r['nmi_labels'] for r in peer):.3f}..{max(r['nmi_labels'] for r in peer):.3f}")
print(f"ConvNet loss first→last: ours {ours[0]['convnet_loss']:.2f}→{ours[-1]['convnet_loss']:.2f}, "
      f"peer {peer[0]['convnet_loss']:.2f}→{peer[-1]['convnet_loss']:.2f}")
print(f'peak memory (max RSS): ours {rss(sys.argv[3]):.2f} GiB, peer {rss(sys.argv[4]):.2f} GiB')
PY
