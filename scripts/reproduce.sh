#!/usr/bin/env bash
# One paper figure end to end at CPU scale; writes PNGs and a CSV summary.
#   scripts/reproduce.sh fig1                       toy problem (no data needed)
#   scripts/reproduce.sh fig2 DATA_DIR [STEPS]    gradient histograms (Fig. 2) and per-layer SNR (Fig. 3)
#   scripts/reproduce.sh fig9 DATA_DIR [STEPS]    Multi-Krum vs majority vote, 0..3 adversaries
#   scripts/reproduce.sh fig7 DATA_DIR [STEPS]    QSGD 1/2/4 bits, L2/max, vs Signum-MV
#   scripts/reproduce.sh fig4 DATA_DIR [STEPS]    time per step by phase: vote vs all-reduce vs QSGD
# STEPS is the length of each CIFAR run (default 300, i.e. 3 epochs of 7 x 64
# images, about 2.5 minutes on 2 cores), evaluated every 100 steps. A step
# budget rather than a time budget keeps the runs comparable when the machine
# is busy. OUT=out/FIG.
set -euo pipefail
cd "$(dirname "$0")/.."
FIG=${1:?usage: scripts/reproduce.sh fig1|fig2|fig4|fig7|fig9 [DATA_DIR] [STEPS]}
DATA=${2:-}
STEPS=${3:-300}
OUT=${OUT:-out/$FIG}
scripts/setup.sh
mkdir -p "$OUT"
SUMMARY="$OUT/summary.csv"
echo "run,final_step,val_accuracy,objective" > "$SUMMARY"

# run NAME CONFIG NP [--set ...]: a failed run stops the script, except a
# run called as `MAY_DIVERGE=1 run ...` (a robustness experiment whose
# aggregator may be driven to NaN: the server's "NaN or infinite coordinates" stop is
# then its result, recorded in the summary as diverged).
run() {
  local name=$1 cfg=$2 np=$3 rc=0
  shift 3
  scripts/mpirun.sh -np "$np" build/signvote train "$cfg" --metrics "$OUT/$name.csv" --overwrite \
    --set run.progress_seconds=30 "$@" > "$OUT/$name.log" 2>&1 || rc=$?
  if [ "$rc" -ne 0 ]; then
    if [ "${MAY_DIVERGE:-0}" = 1 ] && grep -q "NaN or infinite coordinates" "$OUT/$name.log"; then
      echo "$name: diverged (NaN), as this experiment allows"
    else
      tail -n 5 "$OUT/$name.log" >&2
      echo "reproduce: run $name failed (exit $rc, log $OUT/$name.log)" >&2
      exit 1
    fi
  fi
  local acc="" last
  last=$(tail -n 1 "$OUT/$name.csv" 2>/dev/null || true)
  [ -f "$OUT/${name}_val.csv" ] && acc=$(tail -n 1 "$OUT/${name}_val.csv" | cut -d, -f3)
  echo "$name,$(echo "$last" | cut -d, -f1),$acc,$(echo "$last" | cut -d, -f2)" | tee -a "$SUMMARY"
}

# Step-budgeted CIFAR runs, validation every 100 steps and at the end.
CIFAR=(--set data.path="$DATA" --set run.steps="$STEPS" --set run.time_limit_s=0 --set run.eval_every=100)
# The paper's Signum setting (lr 1e-3, constant), not the shipped config's cosine from 3e-3.
PAPER=(--set optimizer.lr=0.001 --set optimizer.schedule=constant)

case $FIG in
  fig1)
    run sgd configs/toy_quadratic_sgd.yaml 28
    run signsgd configs/toy_quadratic.yaml 28 --set optimizer.name=signsgd
    run signum configs/toy_quadratic.yaml 28
    for a in 0 3 6 9 12 13 14; do run adv$a configs/toy_quadratic_adversarial.yaml 28 --set adversary.count=$a; done
    /usr/bin/python3 scripts/plot_toy.py "$OUT/fig1.png" --curve "SGD=$OUT/sgd.csv" --curve "signSGD-MV=$OUT/signsgd.csv" \
      --curve "Signum-MV=$OUT/signum.csv" $(for a in 0 3 6 9 12 13 14; do echo --adv "$a=$OUT/adv$a.csv"; done)
    ;;
  fig2|fig3)
    : "${DATA:?fig2 needs DATA_DIR}"
    # Full passes at epochs 0, 1 and 5 need the run to reach epoch 5 (step 500).
    run probes configs/experiments/fig2_fig3_probes.yaml 8 --set data.path="$DATA" --set run.steps="${3:-600}"
    /usr/bin/python3 scripts/plot_probes.py "$OUT/probes.csv" "$OUT" | tee "$OUT/probes_summary.csv"
    ;;
  fig9)
    : "${DATA:?fig9 needs DATA_DIR}"
    cfg=configs/experiments/fig9_robustness.yaml
    krum=(--set aggregation.method=multi_krum --set optimizer.name=sgd --set optimizer.lr=0.1)
    run mv_0 $cfg 8 "${CIFAR[@]}"
    MAY_DIVERGE=1 run krum_0 $cfg 8 "${CIFAR[@]}" "${krum[@]}"
    for mode in negative random; do
      for a in 1 2 3; do
        adv=(--set adversary.mode=$mode --set adversary.count=$a)
        run "mv_${mode}_$a" $cfg 8 "${CIFAR[@]}" "${adv[@]}"
        MAY_DIVERGE=1 run "krum_${mode}_$a" $cfg 8 "${CIFAR[@]}" "${adv[@]}" "${krum[@]}"
      done
    done
    /usr/bin/python3 scripts/plot_robustness.py "$OUT/fig9.png" "$OUT"
    ;;
  fig7|fig10)
    : "${DATA:?fig7 needs DATA_DIR}"
    cfg=configs/experiments/fig7_qsgd.yaml
    run signum configs/cifar10_resnet18_w16_signum.yaml 8 "${CIFAR[@]}" "${PAPER[@]}"
    plots=()
    for norm in l2 max; do
      plots+=(--panel "QSGD, $norm norm (bucket 512) vs Signum-MV" "Signum-MV (1 bit)=$OUT/signum_val.csv")
      for levels in 1 3 15; do
        run "qsgd_${norm}_s$levels" $cfg 8 "${CIFAR[@]}" \
          --set aggregation.norm=$norm --set aggregation.levels=$levels
        plots+=("QSGD $(( levels == 1 ? 1 : levels == 3 ? 2 : 4 ))-bit (s=$levels)=$OUT/qsgd_${norm}_s${levels}_val.csv")
      done
    done
    /usr/bin/python3 scripts/plot_cifar.py "$OUT/fig7.png" "${plots[@]}"
    ;;
  fig4)
    : "${DATA:?fig4 needs DATA_DIR}"
    run vote configs/cifar10_resnet18_w16_signum.yaml 8 "${CIFAR[@]}" "${PAPER[@]}"
    run allreduce configs/cifar10_resnet18_w16_sgd.yaml 8 "${CIFAR[@]}"
    run qsgd configs/experiments/fig7_qsgd.yaml 8 "${CIFAR[@]}"
    /usr/bin/python3 scripts/plot_timing.py "$OUT/fig4.png" "majority vote=$OUT/vote.csv" \
      "fp32 all-reduce=$OUT/allreduce.csv" "QSGD s=1=$OUT/qsgd.csv" | tee "$OUT/timing.csv"
    ;;
  *) echo "unknown figure '$FIG' (fig1, fig2, fig4, fig7, fig9)" >&2; exit 2 ;;
esac
echo "summary: $SUMMARY"
