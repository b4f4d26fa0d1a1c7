#!/usr/bin/env bash
# CIFAR-10 ResNet-18 at width 16 on this machine: 7 workers + 1 server, both
# modes (Signum with majority vote; SGD with momentum over fp32 all-reduce),
# each for a fixed wall-clock budget; then a PNG of validation accuracy.
#   scripts/train_cifar_cpu.sh DATA_DIR [BUDGET_SECONDS=900] [OUT=out/cifar_cpu]
set -euo pipefail
cd "$(dirname "$0")/.."
DATA=${1:?usage: scripts/train_cifar_cpu.sh DATA_DIR [BUDGET_SECONDS] [OUT]}
BUDGET=${2:-900}
OUT=${3:-out/cifar_cpu}
scripts/setup.sh
mkdir -p "$OUT"
for mode in signum sgd; do
  if [ -e "$OUT/$mode.csv" ]; then echo "$OUT/$mode.csv exists: choose another OUT" >&2; exit 1; fi
  echo "== $mode, budget ${BUDGET}s"
  scripts/mpirun.sh -np 8 build/signvote train "configs/cifar10_resnet18_w16_$mode.yaml" \
    --set data.path="$DATA" --set run.time_limit_s="$BUDGET" --set run.progress_seconds=30 \
    --checkpoint-dir "$OUT/ckpt_$mode" --metrics "$OUT/$mode.csv" 2>&1 | tee "$OUT/$mode.log" | grep -E "val accuracy|error|time limit"
done
/usr/bin/python3 scripts/plot_cifar.py "$OUT/cifar_w16.png" \
  "Signum-MV (1 bit/param)=$OUT/signum_val.csv" "SGD all-reduce (32 bits/param)=$OUT/sgd_val.csv"
for mode in signum sgd; do
  echo "$mode: $(tail -n 1 "$OUT/${mode}_val.csv")  (step,epoch,val_accuracy,val_loss,val_count,elapsed_s)"
done
