#!/usr/bin/env bash
# Installs the Debian packages DeepCluster.Actors needs, only those missing.
#   deploy/deps.sh run    the data set used by the examples and the benchmark, and a font for the report's plots
#   deploy/deps.sh test   also the Python peers the tests compare against (PyTorch, torchvision, faiss, sklearn),
#                         PostgreSQL 15 (deploy/postgres-test.sh starts a throwaway server of it for the tests) and
#                         Chromium (the report's page is checked in headless Chromium)
set -euo pipefail
profile=${1:-run}
pkgs=(dataset-fashion-mnist libturbojpeg0 fonts-dejavu-core)   # libturbojpeg0: JPEG decoding as PIL does it (else SkiaSharp)
if [ "$profile" = test ] || [ "$profile" = bench ]; then
  pkgs+=(python3-numpy python3-torch python3-torchvision python3-faiss python3-sklearn libopenblas0-pthread binutils time)
fi
[ "$profile" = test ] && pkgs+=(postgresql-15 chromium)
missing=()
for p in "${pkgs[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
[ ${#missing[@]} -eq 0 ] && exit 0
sudo=""; [ "$(id -u)" -ne 0 ] && sudo="sudo"
echo "installing: ${missing[*]}" >&2
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
