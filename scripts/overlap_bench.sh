#!/usr/bin/env bash
# Step time with and without aggregation.overlap on the emulated cluster:
# ResNet-18 (WIDTH), W workers with one server shard beside each (W nodes),
# links at RATE, on a generated CIFAR-format fixture (timing only). Prints
# one JSON line per setting: the run's wall time (same start-up either way)
# and, over its last STEPS/2 steps, the mean compute time and the mean
# exposed communication (t_comm: waiting after the backward pass).
# Settings: no overlap; overlap with one bucket per shard; overlap with the
# shards cut into buckets of BUCKET_BYTES of fp32 gradient.
#
#   scripts/overlap_bench.sh [BUILD] [W] [RATE] [WIDTH] [STEPS] [BUCKET_BYTES]
#       (defaults: build 4 10mbit 16 30 262144)
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$repo/build}
W=${2:-4}
rate=${3:-10mbit}
width=${4:-16}
steps=${5:-30}
bucket_bytes=${6:-262144}
nc=$repo/scripts/netcluster.sh
work=$(mktemp -d /tmp/signvote-overlap.XXXXXX)
trap '"$nc" down >/dev/null; rm -rf "$work"' EXIT
"$build/tests/mpi/make_cifar_fixture" "$work/data" 2000 > /dev/null
"$nc" up "$W" "$rate" 50 > /dev/null
for setting in off on buckets; do
  overlap=true buckets=0
  [ $setting = off ] && overlap=false
  [ $setting = buckets ] && buckets=$bucket_bytes
  start=$(date +%s.%N)
  "$nc" run -np $((2 * W)) --map-by node "$build/signvote" train "$repo/configs/cifar10_resnet18_w16_signum.yaml" \
    --set model.width="$width" --set cluster.workers="$W" --set cluster.servers="$W" --set data.path="$work/data" \
    --set data.val_count=0 --set data.train_files=1 --set data.records_per_file=2000 --set data.batch_size=32 \
    --set run.steps="$steps" --set run.log_every=1 --set run.eval_every=0 --set run.checkpoint_every=0 \
    --set optimizer.milestones=[] --set aggregation.overlap=$overlap --set aggregation.bucket_bytes=$buckets \
    --metrics "$work/m_$setting.csv" > "$work/log_$setting.txt" 2>&1
  wall=$(echo "$(date +%s.%N) $start" | awk '{printf "%.2f", $1 - $2}')
  /usr/bin/python3 - "$work/m_$setting.csv" "$overlap" "$rate" "$W" "$width" "$wall" "$buckets" <<'PY'
import csv, json, statistics, sys
rows = list(csv.DictReader(open(sys.argv[1])))
half = rows[len(rows) // 2:]
out = {"overlap": sys.argv[2] == "true", "bucket_bytes": int(sys.argv[7]), "rate": sys.argv[3], "workers": int(sys.argv[4]),
       "width": int(sys.argv[5]), "steps": len(rows), "run_wall_s": float(sys.argv[6]),
       "t_comm_exposed_s": statistics.mean(float(r["t_comm"]) for r in half),
       "t_compute_s": statistics.mean(float(r["t_compute"]) for r in half)}
print(json.dumps(out))
PY
done
