#!/usr/bin/env bash
# Benchmark `deepcluster cluster` against the published pipeline on Debian's python3-faiss (CPU, OpenBLAS).
# 100 000 x 512 float32 features, PCA 256 + L2 norm, k-means k=1000, 20 iterations, both with 2 threads.
# Wall times include process start. Usage: bench/cluster/run.sh [N] [K]
set -euo pipefail
cd "$(dirname "$0")/../.."
N=${1:-100000}; K=${2:-1000}; THREADS=${THREADS:-2}
OUT=bench/out/cluster; mkdir -p "$OUT"
DATA="$OUT/features_${N}x512.npy"

[ -f "$DATA" ] || /usr/bin/python3 bench/cluster/make_data.py "$N" 512 2000 "$DATA"
dotnet build src/DeepCluster.Cli -c Release -v q -nologo >/dev/null
EXE=src/DeepCluster.Cli/bin/Release/net10.0/deepcluster

now() { date +%s.%N; }
t0=$(now)
"$EXE" cluster "$DATA" --k "$K" --niter 20 --pca 256 --device cpu --threads "$THREADS" --out "$OUT/ours" > "$OUT/ours.log"
t1=$(now)
OMP_NUM_THREADS=$THREADS OPENBLAS_NUM_THREADS=$THREADS /usr/bin/python3 bench/cluster/faiss_cluster.py "$DATA" "$K" "$OUT/faiss.json"
t2=$(now)

/usr/bin/python3 - "$t0" "$t1" "$t2" "$OUT/ours/summary.json" "$OUT/faiss.json" <<'PY'
import json, sys
t0, t1, t2 = map(float, sys.argv[1:4])
ours, faiss = json.load(open(sys.argv[4])), json.load(open(sys.argv[5]))
wo, wf = t1 - t0, t2 - t1
oo, of = ours["final_objective"], faiss["final_objective"]
print(f"ours : wall {wo:7.2f} s (pca {ours['seconds']['pca']:.2f} s, k-means {ours['seconds']['clustering']:.2f} s), final objective {oo:.6g}")
print(f"faiss: wall {wf:7.2f} s (pca {faiss['seconds']['pca']:.2f} s, k-means {faiss['seconds']['clustering']:.2f} s), final objective {of:.6g}")
print(f"time ratio ours/faiss {wo / wf:.3f} (target <= 0.5); objective ratio {oo / of:.5f} (target within 1%)")
PY
