#!/usr/bin/env bash
# Our training loader (decode + RandomResizedCrop(224) + flip + ToTensor/Normalize, batches of 256) vs torchvision's
# ImageFolder + DataLoader, on IMAGES natural-ish 500×375 JPEGs (q90), for each thread count. Per core = img/s ÷ threads;
# each side also reports images per CPU-second of its timed pass (steadier than wall time on a shared machine).
#   bench/loader/run.sh [IMAGES] [THREADS]      (IMAGES default 2000; THREADS default "1 2", or one count)
#   SIZE=1024x768 makes (once) and uses images of that size instead of 500x375.
#   SKIA=1 also runs ours with JPEGs through SkiaSharp; DEEPCLUSTER_JPEG_DCT_SCALING=on turns on DCT-domain scaling.
set -euo pipefail
cd "$(dirname "$0")/../.."
IMAGES=${1:-2000}; THREADS=${2:-"1 2"}; SIZE=${SIZE:-500x375}
OUT=bench/out/loader; DATA="$OUT/images_$IMAGES"
[ "$SIZE" = 500x375 ] || DATA="${DATA}_$SIZE"
mkdir -p "$OUT"
if [ ! -f "$DATA/.done" ]; then
  rm -rf "$DATA" "$DATA.dcpack"
  /usr/bin/python3 bench/loader/make_images.py "$DATA" "$IMAGES" 8 "$SIZE"
  touch "$DATA/.done"
fi
dotnet build bench/DeepCluster.Bench -c Release -o "$OUT/bin" -nologo -v quiet -clp:ErrorsOnly
PACK="$DATA.dcpack"   # the same JPEGs packed (deepcluster pack: raw RGB, shorter side <= 256), once
[ -f "$PACK" ] || "$OUT/bin/dcbench" pack "$DATA" "$PACK"
echo "$IMAGES JPEGs $SIZE, $(du -sk "$DATA" | awk -v n="$IMAGES" '{printf "%.0f KB", $1 / n}') each on average; $(nproc) cores; $(uptime | sed 's/.*load/load/')"
for t in $THREADS; do
  ours=$("$OUT/bin/dcbench" loader "$DATA" "$t")
  skia=""
  if [ "${SKIA:-0}" = 1 ]; then skia=$(DEEPCLUSTER_JPEG=skia "$OUT/bin/dcbench" loader "$DATA" "$t"); fi   # JPEGs through SkiaSharp, as before libturbojpeg
  peer=$(/usr/bin/python3 bench/loader/peer_loader.py "$DATA" "$t")
  packed=$("$OUT/bin/dcbench" loader-pack "$PACK" "$t")
  echo "$ours" | sed "s/^/  ours: /"; [ -z "$skia" ] || echo "$skia" | sed "s/^/  ours, SkiaSharp JPEG: /"; echo "$peer" | sed "s/^/  torchvision: /"
  echo "$packed" | sed "s/^/  ours, packed: /"
  o=$(echo "$ours" | awk '$1 == "loader" {print $3}'); p=$(echo "$peer" | awk '$1 == "peer" {print $3}')
  oc=$(echo "$ours" | awk '$1 == "cpu" {print $2}'); pc=$(echo "$peer" | awk '$1 == "cpu" {print $2}')
  awk -v t="$t" -v o="$o" -v p="$p" -v oc="$oc" -v pc="$pc" 'BEGIN {printf "threads %d: ours %.1f img/s/core, torchvision %.1f img/s/core, ours/torchvision %.2f (target >= 2); per CPU-second: ours %.1f, torchvision %.1f, ratio %.2f\n", t, o / t, p / t, o / p, oc, pc, oc / pc}'
  k=$(echo "$packed" | awk '$1 == "packed" {print $3}')
  awk -v t="$t" -v k="$k" -v p="$p" 'BEGIN {printf "threads %d: ours on the pack %.1f img/s/core (target >= 625), packed/torchvision %.2f\n", t, k / t, k / p}'
done
echo "after: $(uptime | sed 's/.*load/load/')"
