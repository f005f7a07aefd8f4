#!/usr/bin/env bash
# Stress test for the segfault of issue 7 ("a crash nobody asked for"): launches the benchmark protocol's first
# training iterations many times and counts the launches that die on a signal. Not part of CI.
#   bench/stress/run.sh [LAUNCHES] [PARALLEL]
# LAUNCHES defaults to 200, PARALLEL (launches at once) to 1. Environment knobs:
#   LIMIT (10000) BATCH (256) K (100)  the protocol's data, batch and k
#   STOP_AT (30)   kill the launch once training reaches this iteration (--checkpoints STOP_AT: the file of the
#                  second checkpoint appears at that iteration); 0 = let epoch 0 run to its end
#   TIMEOUT (600)  seconds a launch may take before it counts as hung
#   GC_STRESS (0)  1 = a tiny gen0 budget (many more GCs, so finalizers run during every step): raises the odds of
#                  lifetime bugs; SERVER_GC=1 runs with the server GC
#   OUT (bench/out/stress)  where the logs of failed launches, crash reports and dumps are kept
# A launch that exits on a signal we did not send (SIGSEGV, SIGABRT, ...) is a crash; its output, the runtime's crash
# report (stack of every thread) and a minidump are kept in OUT/crash-<i>/. Ends with "N launches, C crashes".
set -uo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
launches=${1:-200}
parallel=${2:-1}
limit=${LIMIT:-10000}; batch=${BATCH:-256}; k=${K:-100}; stop_at=${STOP_AT:-30}; timeout_s=${TIMEOUT:-600}
out=${OUT:-$root/bench/out/stress}
rm -rf "$out"; mkdir -p "$out"
app="$out/app"
dotnet build "$root/src/DeepCluster.Cli/DeepCluster.Cli.csproj" -c Release -o "$app" -nologo -v quiet -clp:ErrorsOnly || exit 1
data=${DATA:-/usr/share/datasets/fashion-mnist}
work=$(mktemp -d "${TMPDIR:-/tmp}/dc-stress.XXXXXX")
trap 'rm -rf "$work"' EXIT

# One launch: prints "<i> <status>" where status is ok, killed-at-<iter> (we stopped it), hung, crash-<sig> or exit-<rc>.
launch() {
  local i=$1 exp="$work/exp$1" log="$work/out$1.log" dump="$work/dump$1"
  mkdir -p "$dump"
  local env=(DOTNET_DbgEnableMiniDump=1 DOTNET_DbgMiniDumpType=1 "DOTNET_DbgMiniDumpName=$dump/core.%p"
             DOTNET_EnableCrashReport=1)
  [ "${GC_STRESS:-0}" = 1 ] && env+=(DOTNET_GCgen0size=0x40000)
  [ "${SERVER_GC:-0}" = 1 ] && env+=(DOTNET_gcServer=1)
  local cp=25000; [ "$stop_at" -gt 0 ] && cp=$stop_at
  env "${env[@]}" "$app/deepcluster" train "$data" --arch alexnet_small --sobel --k "$k" --batch "$batch" \
    --limit "$limit" --epochs 1 --lr 0.05 --wd -5 --momentum 0.9 --reassign 1 --workers 2 --checkpoints "$cp" \
    --exp "$exp" --device cpu --seed "$i" > "$log" 2>&1 &
  local pid=$! waited=0 killed="" rc
  while kill -0 "$pid" 2>/dev/null; do
    if [ "$stop_at" -gt 0 ] && [ -f "$exp/checkpoints/checkpoint_1.pth.tar" ]; then
      killed="killed-at-$stop_at"; kill -KILL "$pid" 2>/dev/null; break
    fi
    if [ "$waited" -ge $((timeout_s * 5)) ]; then killed=hung; kill -KILL "$pid" 2>/dev/null; break; fi
    sleep 0.2; waited=$((waited + 1))
  done
  wait "$pid" 2>/dev/null; rc=$?
  local status
  if [ -n "$killed" ]; then status=$killed
  elif [ "$rc" -eq 0 ]; then status=ok
  elif [ "$rc" -gt 128 ]; then status="crash-$(kill -l $((rc - 128)) 2>/dev/null || echo $((rc - 128)))"
  else status="exit-$rc"
  fi
  case "$status" in
    ok|killed-at-*) ;;
    *) mkdir -p "$out/launch-$i"; cp "$log" "$out/launch-$i/"; cp -r "$dump"/. "$out/launch-$i/" 2>/dev/null
       [ -f "$exp/train.log" ] && cp "$exp/train.log" "$out/launch-$i/" ;;
  esac
  rm -rf "$exp" "$log" "$dump"
  echo "$i $status"
}
export -f launch
export app data work out limit batch k stop_at timeout_s

start=$(date +%s)
seq 1 "$launches" | xargs -P "$parallel" -I{} bash -c 'launch {}' | tee "$out/results.txt"
secs=$(( $(date +%s) - start ))
n=$(wc -l < "$out/results.txt")
crashes=$(grep -c " crash-" "$out/results.txt")
others=$(grep -v -c -E " (ok|killed-at-[0-9]+|crash-.*)$" "$out/results.txt")
echo "$n launches, $crashes crashes, $others other failures (hung or error exit), $((secs / 60)) min $((secs % 60)) s" \
  | tee -a "$out/results.txt"
[ "$crashes" -eq 0 ] && [ "$others" -eq 0 ]
