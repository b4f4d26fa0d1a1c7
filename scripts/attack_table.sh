#!/usr/bin/env bash
# The server-simulated attacks (adversary.mode collude | alie | ipm) on the
# toy quadratic (configs/toy_quadratic.yaml: d = 1000, f0 = 500 at x = 1,
# gradient noise 1, 300 steps, lr 0.005): majority vote (Signum) against
# collusion, and Multi-Krum, the coordinate median and the mean (SGD,
# momentum 0.9) against ALIE and IPM (eps = 0.1), for 7 and 27 workers.
# Multi-Krum runs with aggregation.f = f where it accepts it (n > 2f + 2),
# else the largest f it accepts (2 of 7, 12 of 27).
# Prints and writes OUT/attacks.md: the final objective of each run, with
# the same run without adversaries for reference.
#   scripts/attack_table.sh [BUILD=build] [OUT=out/attacks]
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
out=${2:-out/attacks}
mkdir -p "$out"
final() {  # final objective of one run: W f mode method optimizer
  local csv="$out/run_$1_$2_$3_$4.csv" kf=$2
  [ $((2 * kf + 2)) -ge "$1" ] && kf=$((($1 - 3) / 2))  # Multi-Krum's f: the most it accepts (n > 2f + 2)
  scripts/mpirun.sh -np $(($1 + 1)) "$build/signvote" train configs/toy_quadratic.yaml --set cluster.workers="$1" \
    --set run.steps=300 --set adversary.count="$2" --set adversary.mode="$3" --set adversary.scale=0.1 \
    --set aggregation.method="$4" --set optimizer.name="$5" --set aggregation.f="$kf" --metrics "$csv" --overwrite > /dev/null
  tail -n 1 "$csv" | cut -d, -f2
}
{
  echo "| workers | adversaries f | attack | majority vote | Multi-Krum | coordinate median | mean |"
  echo "|---|---|---|---|---|---|---|"
  for W in 7 27; do
    fs="2 3"
    [ "$W" = 27 ] && fs="6 13"
    echo "| $W | 0 | none | $(final "$W" 0 invert majority_vote signum) | $(final "$W" 0 invert multi_krum sgd) | $(final "$W" 0 invert coordinate_median sgd) | $(final "$W" 0 invert mean sgd) |"
    for f in $fs; do
      echo "| $W | $f | collude | $(final "$W" "$f" collude majority_vote signum) | - | - | - |"
      for mode in alie ipm; do
        echo "| $W | $f | $mode | - | $(final "$W" "$f" "$mode" multi_krum sgd) | $(final "$W" "$f" "$mode" coordinate_median sgd) | $(final "$W" "$f" "$mode" mean sgd) |"
      done
    done
  done
} | tee "$out/attacks.md"
