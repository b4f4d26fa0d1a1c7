#!/usr/bin/env bash
# Time to accuracy with local steps on the emulated cluster
# (scripts/netcluster.sh): CIFAR-10 ResNet-18 width 16, 7 workers, one per
# node, links at RATE, each run SECONDS of wall clock (run.time_limit_s; the
# cosine schedules follow it), validation accuracy against elapsed seconds:
#   sgd        SGD over the fp32 ring all-reduce, every step
#   vote_h1    Signum with majority vote every step (7 colocated shards)
#   vote_h4, vote_h16      the vote on the pseudo-gradient every 4 / 16 steps
#                          (configs/cifar10_resnet18_w16_local4.yaml)
#   diloco_h4, diloco_h16  DiLoCo: the same inner SGD, the fp32 mean of the
#                          pseudo-gradients over the ring, outer Nesterov SGD
#                          (lr 0.7, momentum 0.9)
# RUNS picks some of them (default: all six, in that order); the rest of the
# arguments go to every run (e.g. --set run.seed=2). Writes
# OUT/<run>.csv, OUT/<run>_val.csv and OUT/tta_local.png. Needs root and the
# real CIFAR-10 in DATA_DIR; about 6 x SECONDS plus start-up.
#
#   scripts/tta_local.sh DATA_DIR [OUT=out/tta_local] [RATE=1mbit] [SECONDS=600] [RUNS="sgd vote_h1 ..."] [--set k=v ...]
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
data=${1:?usage: tta_local.sh DATA_DIR [OUT] [RATE] [SECONDS] [RUNS] [--set k=v ...]}
out=${2:-$repo/out/tta_local}
rate=${3:-1mbit}
secs=${4:-600}
runs=${5:-sgd vote_h1 vote_h4 vote_h16 diloco_h4 diloco_h16}
shift $(($# < 5 ? $# : 5))
nc=$repo/scripts/netcluster.sh
sv=$repo/build/signvote
cfgs=$repo/configs
mkdir -p "$out"
for r in $runs; do
  if [ -e "$out/$r.csv" ]; then echo "$out/$r.csv exists: choose another OUT" >&2; exit 1; fi
done
trap '"$nc" down >/dev/null' EXIT
"$nc" up 7 "$rate" 50
ring=(--mca coll_tuned_use_dynamic_rules 1 --mca coll_tuned_allreduce_algorithm 4)
common=(--set cluster.workers=7 --set data.path="$data" --set run.time_limit_s="$secs" --set run.steps=1000000
        --set run.checkpoint_every=0 --set run.log_every=16 --set run.eval_every=32 --set run.progress_seconds=60 "$@")
diloco=(--set aggregation.method=allreduce --set optimizer.name=sgd --set optimizer.lr=0.7 --set optimizer.momentum=0.9
        --set optimizer.nesterov=true --set optimizer.weight_decay=0 --set optimizer.schedule=constant)
labels=()
for r in $runs; do
  case $r in
    sgd) "$nc" run -np 8 --map-by node "${ring[@]}" "$sv" train "$cfgs/cifar10_resnet18_w16_sgd.yaml" "${common[@]}" \
           --metrics "$out/$r.csv" --overwrite
         labels+=("SGD, fp32 ring all-reduce, every step=$out/${r}_val.csv") ;;
    vote_h1) "$nc" run -np 14 --map-by node "$sv" train "$cfgs/cifar10_resnet18_w16_signum.yaml" "${common[@]}" \
               --set cluster.servers=7 --metrics "$out/$r.csv" --overwrite
             labels+=("Signum-MV every step=$out/${r}_val.csv") ;;
    vote_h*) h=${r#vote_h}
             "$nc" run -np 14 --map-by node "$sv" train "$cfgs/cifar10_resnet18_w16_local4.yaml" "${common[@]}" \
               --set cluster.servers=7 --set aggregation.local_steps="$h" --metrics "$out/$r.csv" --overwrite
             labels+=("vote on the pseudo-gradient, H = $h=$out/${r}_val.csv") ;;
    diloco_h*) h=${r#diloco_h}
               "$nc" run -np 8 --map-by node "${ring[@]}" "$sv" train "$cfgs/cifar10_resnet18_w16_local4.yaml" "${common[@]}" \
                 "${diloco[@]}" --set aggregation.local_steps="$h" --metrics "$out/$r.csv" --overwrite
               labels+=("DiLoCo, fp32 mean (ring), H = $h=$out/${r}_val.csv") ;;
    *) echo "tta_local.sh: unknown run '$r'" >&2; exit 1 ;;
  esac
done
/usr/bin/python3 "$repo/scripts/plot_tta.py" "$out/tta_local.png" \
  "CIFAR-10 ResNet-18 w16, 7 workers, $rate links (emulated), ${secs} s" "${labels[@]}"
