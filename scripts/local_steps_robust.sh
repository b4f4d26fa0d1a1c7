#!/usr/bin/env bash
# Robustness with local steps on CIFAR-10: 7 workers at H = 4
# (configs/cifar10_resnet18_w16_local4.yaml), 2 of them adversaries
# (adversary.count = 2) that invert their pseudo-gradient or send it x -10
# (adversary.mode = negative, scale 10), under the vote (outer Signum) and
# under DiLoCo's fp32 mean (server mean, outer Nesterov SGD lr 0.7, momentum
# 0.9); and DiLoCo without adversaries for reference. RUN_STEPS inner steps
# (default 300), seed 1. Writes OUT/<run>.{csv,log} and prints one JSON line
# per run with the final validation accuracy (held-out 5,000 images).
#
#   scripts/local_steps_robust.sh DATA_DIR [OUT=out/local_robust] [RUN_STEPS=300] [RUNS="..."]
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
data=${1:?usage: local_steps_robust.sh DATA_DIR [OUT] [RUN_STEPS] [RUNS]}
out=${2:-$repo/out/local_robust}
steps=${3:-300}
runs=${4:-vote_invert vote_negative mean_clean mean_invert mean_negative}
mkdir -p "$out"
mean=(--set aggregation.method=mean --set optimizer.name=sgd --set optimizer.lr=0.7 --set optimizer.momentum=0.9
      --set optimizer.nesterov=true --set optimizer.weight_decay=0 --set optimizer.schedule=constant)
for r in $runs; do
  [ ! -e "$out/$r.csv" ] || { echo "$out/$r.csv exists: choose another OUT" >&2; exit 1; }
  args=()
  case $r in
    vote_*) ;;
    mean_*) args+=("${mean[@]}") ;;
    *) echo "local_steps_robust.sh: unknown run '$r'" >&2; exit 1 ;;
  esac
  case $r in
    *_invert) args+=(--set adversary.count=2 --set adversary.mode=invert) ;;
    *_negative) args+=(--set adversary.count=2 --set adversary.mode=negative --set adversary.scale=10) ;;
    *_clean) ;;
    *) echo "local_steps_robust.sh: unknown run '$r'" >&2; exit 1 ;;
  esac
  start=$(date +%s) rc=0
  "$repo/scripts/mpirun.sh" -np 8 "$repo/build/signvote" train "$repo/configs/cifar10_resnet18_w16_local4.yaml" \
    --set data.path="$data" --set run.steps="$steps" --set run.time_limit_s=0 --set run.seed=1 \
    --set run.checkpoint_every=0 --set run.progress_seconds=60 "${args[@]}" --metrics "$out/$r.csv" > "$out/$r.log" 2>&1 || rc=$?
  # A diverged mean stops the run (nan_gradient, exit 1): report its last validation and its error line.
  vstep=0 acc=null loss=null
  [ -s "$out/${r}_val.csv" ] && IFS=, read -r vstep _ acc loss _ _ <<< "$(tail -n 1 "$out/${r}_val.csv")"
  err=$(grep -m1 '\[error\]' "$out/$r.log" | sed 's/.*\[error\] //; s/"/'"'"'/g' || true)
  echo "{\"run\": \"$r\", \"H\": 4, \"adversaries\": $([[ $r == *_clean ]] && echo 0 || echo 2), \"last_val_step\": $vstep, \"val_accuracy\": $acc, \"val_loss\": \"$loss\", \"exit\": $rc, \"error\": \"$err\", \"seconds\": $(($(date +%s) - start))}"
done
