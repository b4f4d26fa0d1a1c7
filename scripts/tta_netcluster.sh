#!/usr/bin/env bash
# Time to accuracy on the emulated cluster (scripts/netcluster.sh): CIFAR-10
# ResNet-18 width 16, 7 workers, one server shard beside each (7 nodes),
# links at RATE where the fp32 all-reduce is communication-bound. Signum with
# majority vote against SGD over the ring all-reduce, each for SECONDS of
# wall time (run.time_limit_s), validation accuracy on the held-out 5,000
# images against elapsed seconds. Writes OUT/{signum,sgd}.csv, *_val.csv and
# OUT/tta.png. Needs root and the real CIFAR-10 in DATA_DIR.
#
#   scripts/tta_netcluster.sh DATA_DIR [OUT] [RATE] [SECONDS]   (defaults: out/tta 10mbit 300)
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
data=${1:?usage: tta_netcluster.sh DATA_DIR [OUT] [RATE] [SECONDS]}
out=${2:-$repo/out/tta}
rate=${3:-10mbit}
secs=${4:-300}
nc=$repo/scripts/netcluster.sh
sv=$repo/build/signvote
mkdir -p "$out"
trap '"$nc" down >/dev/null' EXIT
"$nc" up 7 "$rate" 50
ring=(--mca coll_tuned_use_dynamic_rules 1 --mca coll_tuned_allreduce_algorithm 4)
common=(--set cluster.workers=7 --set data.path="$data" --set run.time_limit_s="$secs"
        --set run.checkpoint_every=0 --set run.log_every=5 --set run.progress_seconds=30)
"$nc" run -np 14 --map-by node "$sv" train "$repo/configs/cifar10_resnet18_w16_signum.yaml" "${common[@]}" \
  --set cluster.servers=7 --set run.eval_every=40 --metrics "$out/signum.csv" --overwrite
"$nc" run -np 8 --map-by node "${ring[@]}" "$sv" train "$repo/configs/cifar10_resnet18_w16_sgd.yaml" "${common[@]}" \
  --set run.eval_every=8 --metrics "$out/sgd.csv" --overwrite
/usr/bin/python3 "$repo/scripts/plot_tta.py" "$out/tta.png" "CIFAR-10 ResNet-18 w16, 7 workers, $rate links (emulated)" \
  "Signum, majority vote (7 colocated shards)=$out/signum_val.csv" "SGD, fp32 ring all-reduce=$out/sgd_val.csv"
