#!/usr/bin/env bash
# Accuracy per inner step, without the network: CIFAR-10 ResNet-18 width 16,
# 7 workers + 1 server on this machine, RUN_STEPS inner steps (default 600)
# at H = 1 (configs/cifar10_resnet18_w16_signum.yaml: a vote every step) and
# at each other H of HS (configs/cifar10_resnet18_w16_local4.yaml with
# aggregation.local_steps = H), for each seed of SEEDS. Writes
# OUT/h<H>_s<seed>.{csv,log} and the metrics' *_val.csv, and prints one JSON
# line per run with the final validation accuracy (held-out 5,000 images).
#
#   scripts/local_steps_accuracy.sh DATA_DIR [OUT=out/local_steps] [HS="1 4 16"] [SEEDS="1 2"] [RUN_STEPS=600] [--set k=v ...]
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
data=${1:?usage: local_steps_accuracy.sh DATA_DIR [OUT] [HS] [SEEDS] [RUN_STEPS] [--set k=v ...]}
out=${2:-$repo/out/local_steps}
hs=${3:-1 4 16}
seeds=${4:-1 2}
steps=${5:-600}
shift $(($# < 5 ? $# : 5))
mkdir -p "$out"
for h in $hs; do
  for seed in $seeds; do
    name="h${h}_s${seed}"
    if [ -e "$out/$name.csv" ]; then echo "$out/$name.csv exists: choose another OUT" >&2; exit 1; fi
    cfg=$repo/configs/cifar10_resnet18_w16_local4.yaml
    [ "$h" = 1 ] && cfg=$repo/configs/cifar10_resnet18_w16_signum.yaml
    start=$(date +%s)
    "$repo/scripts/mpirun.sh" -np 8 "$repo/build/signvote" train "$cfg" --set data.path="$data" \
      --set aggregation.local_steps="$h" --set run.steps="$steps" --set run.time_limit_s=0 --set run.seed="$seed" \
      --set run.checkpoint_every=0 --set run.progress_seconds=60 "$@" --metrics "$out/$name.csv" > "$out/$name.log" 2>&1
    last=$(tail -n 1 "$out/${name}_val.csv")  # step,epoch,val_accuracy,val_loss,val_count,elapsed_s
    IFS=, read -r vstep _ acc loss _ _ <<< "$last"
    echo "{\"H\": $h, \"seed\": $seed, \"inner_steps\": $vstep, \"val_accuracy\": $acc, \"val_loss\": $loss, \"seconds\": $(($(date +%s) - start))}"
  done
done
