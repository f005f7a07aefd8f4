#!/usr/bin/env bash
# Our training loader (decode + RandomResizedCrop(224) + flip + ToTensor/Normalize, batches of 256) vs torchvision's
# ImageFolder + DataLoader, on IMAGES natural-ish 500×375 JPEGs (q90), for each thread count. Per core = img/s ÷ threads.
#   bench/loader/run.sh [IMAGES] [THREADS]      (IMAGES default 2000; THREADS default "1 2", or one count)
set -euo pipefail
cd "$(dirname "$0")/../.."
IMAGES=${1:-2000}; THREADS=${2:-"1 2"}
OUT=bench/out/loader; DATA="$OUT/images_$IMAGES"
mkdir -p "$OUT"
if [ ! -f "$DATA/.done" ]; then
  rm -rf "$DATA" "$OUT/images_$IMAGES.dcpack"
  /usr/bin/python3 bench/loader/make_images.py "$DATA" "$IMAGES"
  touch "$DATA/.done"
fi
dotnet build bench/DeepCluster.Bench -c Release -o "$OUT/bin" -nologo -v quiet -clp:ErrorsOnly
PACK="$OUT/images_$IMAGES.dcpack"   # the same JPEGs packed (deepcluster pack: raw RGB, shorter side <= 256), once
[ -f "$PACK" ] || "$OUT/bin/dcbench" pack "$DATA" "$PACK"
echo "$IMAGES JPEGs 500×375, $(du -sk "$DATA" | awk -v n="$IMAGES" '{printf "%.0f KB", $1 / n}') each on average; $(nproc) cores; $(uptime | sed 's/.*load/load/')"
for t in $THREADS; do
  ours=$("$OUT/bin/dcbench" loader "$DATA" "$t")
  skia=$(DEEPCLUSTER_JPEG=skia "$OUT/bin/dcbench" loader "$DATA" "$t")   # JPEGs through SkiaSharp, as before libturbojpeg
  peer=$(/usr/bin/python3 bench/loader/peer_loader.py "$DATA" "$t")
  packed=$("$OUT/bin/dcbench" loader-pack "$PACK" "$t")
  echo "$ours" | sed "s/^/  ours: /"; echo "$skia" | sed "s/^/  ours, SkiaSharp JPEG: /"; echo "$peer" | sed "s/^/  torchvision: /"
  echo "$packed" | sed "s/^/  ours, packed: /"
  o=$(echo "$ours" | awk '$1 == "loader" {print $3}'); p=$(echo "$peer" | awk '$1 == "peer" {print $3}')
  k=$(echo "$packed" | awk '$1 == "packed" {print $3}')
  awk -v t="$t" -v o="$o" -v p="$p" 'BEGIN {printf "threads %d: ours %.1f img/s/core, torchvision %.1f img/s/core, ours/torchvision %.2f (target >= 2)\n", t, o / t, p / t, o / p}'
  awk -v t="$t" -v k="$k" -v p="$p" 'BEGIN {printf "threads %d: ours on the pack %.1f img/s/core (target >= 625), packed/torchvision %.2f\n", t, k / t, k / p}'
done
echo "after: $(uptime | sed 's/.*load/load/')"
