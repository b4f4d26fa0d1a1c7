#!/usr/bin/env bash
# Lion with majority vote against Signum with majority vote on CIFAR-10:
# ResNet-18 width 16, 7 workers + 1 server, batch 64 per worker, STEPS steps
# each, three learning rates per method (Lion: 3x smaller lrs and 10x the
# weight decay, as Chen et al. advise against AdamW). Validation accuracy on
# the split carved from the training set (data.val_count = 5,000).
# Writes OUT/<method>_<lr>{.csv,_val.csv,.log} and OUT/sweep.md.
#   scripts/sweep_lion.sh DATA_DIR [OUT=out/lion_sweep] [STEPS=600]
set -euo pipefail
cd "$(dirname "$0")/.."
DATA=${1:?usage: scripts/sweep_lion.sh DATA_DIR [OUT] [STEPS]}
OUT=${2:-out/lion_sweep}
STEPS=${3:-600}
scripts/setup.sh
mkdir -p "$OUT"
run() {  # method lr wd
  local name=$1_$2
  if [ -e "$OUT/$name.csv" ]; then echo "$OUT/$name.csv exists: choose another OUT" >&2; exit 1; fi
  echo "== $1 lr $2 wd $3"
  scripts/mpirun.sh -np 8 build/signvote train configs/cifar10_resnet18_w16_signum.yaml --set data.path="$DATA" \
    --set optimizer.name="$1" --set optimizer.lr="$2" --set optimizer.weight_decay="$3" --set optimizer.schedule=constant \
    --set run.steps="$STEPS" --set run.time_limit_s=0 --set run.checkpoint_every=0 --set run.progress_seconds=60 \
    --metrics "$OUT/$name.csv" 2>&1 | tee "$OUT/$name.log" | grep -E "val accuracy|error"
}
for lr in 0.0003 0.001 0.003; do run signum $lr 1e-5; done
for lr in 0.0001 0.0003 0.001; do run lion $lr 1e-4; done
/usr/bin/python3 - "$OUT" "$STEPS" <<'PY'
import csv, glob, os, sys
out, steps = sys.argv[1], sys.argv[2]
rows = ["| method | lr | weight decay | best val accuracy (step) | at step " + steps + " |", "|---|---|---|---|---|"]
for path in sorted(glob.glob(f"{out}/*_val.csv")):
    method, lr = os.path.basename(path)[:-8].split("_")
    val = list(csv.DictReader(open(path)))
    best = max(val, key=lambda r: float(r["val_accuracy"]))
    wd = "1e-4" if method == "lion" else "1e-5"
    rows.append(f"| {method} | {lr} | {wd} | {100 * float(best['val_accuracy']):.1f}% ({best['step']}) | "
                f"{100 * float(val[-1]['val_accuracy']):.1f}% |")
open(f"{out}/sweep.md", "w").write("\n".join(rows) + "\n")
print("\n".join(rows))
PY
