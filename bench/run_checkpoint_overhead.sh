#!/usr/bin/env bash
# The cost of frequent checkpoints on the CIFAR config
# (configs/cifar10_resnet18_w16_signum.yaml, 7 workers + 1 server on this
# machine): STEPS steps with no checkpoint but the last, and the same with
# run.checkpoint_every_s = EVERY_S (written in the background), alternated
# REPEATS times; the training seconds of each run are server 0's clock at
# the last step (the metrics' rows cover steps, the val CSV's elapsed_s the
# end). Prints one JSON line: the median seconds per step of each, the
# overhead ratio - 1, and the checkpoints written; and, from worker 0's log
# lines, the median seconds a checkpoint holds the round (the snapshot) and
# its background write takes, as shares of EVERY_S: the direct cost, which
# on 2 shared cores run-to-run noise hides in the ratio.
# With RATE (e.g. 100mbit), on the emulated cluster instead
# (scripts/netcluster.sh: 7 nodes at RATE, 50 ms, needs root): 7 workers and
# 7 colocated server shards, one of each per node, under signvote launch.
#
#   bench/run_checkpoint_overhead.sh DATA_DIR [STEPS=200] [EVERY_S=30] [REPEATS=2] [OUT=out/ckpt_overhead] [RATE]
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
data=${1:?usage: run_checkpoint_overhead.sh DATA_DIR [STEPS] [EVERY_S] [REPEATS] [OUT] [RATE]}
steps=${2:-200} every=${3:-30} repeats=${4:-2} out=${5:-$repo/out/ckpt_overhead} rate=${6:-}
mkdir -p "$out"
job=("$repo/scripts/mpirun.sh" -np 8 "$repo/build/signvote" train) shape=()
if [ -n "$rate" ]; then
  nc=$repo/scripts/netcluster.sh
  trap '"$nc" down > /dev/null' EXIT
  "$nc" up 7 "$rate" 50
  for i in $(seq 1 7); do echo "sv-node$i slots=2"; done > "$out/hosts"
  job=("$repo/build/signvote" launch -np 14 --hostfile "$out/hosts" --max-restarts 0
       --mpirun-arg=--map-by --mpirun-arg=node --mpirun-arg=--bind-to --mpirun-arg=none)
  while read -r name value; do job+=(--mpirun-arg=--mca --mpirun-arg="$name" --mpirun-arg="$value"); done < <("$nc" mca)
  shape=(--set cluster.workers=7 --set cluster.servers=7)
fi
run() {  # run NAME EVERY_S: prints the training seconds of STEPS steps
  rm -rf --one-file-system "$out/$1-ckpt"
  "${job[@]}" "$repo/configs/cifar10_resnet18_w16_signum.yaml" "${shape[@]}" \
    --set data.path="$data" --set run.steps="$steps" --set run.eval_every=0 --set run.checkpoint_every=0 \
    --set run.checkpoint_every_s="$2" --set run.keep_checkpoints=2 --checkpoint-dir "$out/$1-ckpt" \
    --metrics "$out/$1.csv" --overwrite > "$out/$1.log" 2>&1
  # server 0's training clock at the end: the final validation row's elapsed_s
  tail -n 1 "$out/${1}_val.csv" | cut -d, -f6
}
plain=() ckpt=() written=0
for r in $(seq 1 "$repeats"); do
  plain+=("$(run "plain$r" 0)")
  ckpt+=("$(run "every$r" "$every")")
  written=$(grep -c "checkpoint $out/every$r-ckpt" "$out/every$r.log" || true)
done
/usr/bin/python3 - "$steps" "$every" "$written" "${plain[*]}" "${ckpt[*]}" "$out"/every*.log <<'PY'
import json, re, statistics, sys
steps, every, written = int(sys.argv[1]), float(sys.argv[2]), int(sys.argv[3])
# "step N: checkpoint F (snapshot X s in the round, written in Y s beside it)"; the last one of a run is the final save
cost = [tuple(map(float, m)) for log in sys.argv[6:]
        for m in re.findall(r"snapshot ([0-9.]+) s in the round, written in ([0-9.]+) s", open(log).read())[:-1]]
snap = statistics.median(c[0] for c in cost) if cost else float("nan")
write = statistics.median(c[1] for c in cost) if cost else float("nan")
plain = [float(x) / steps for x in sys.argv[4].split()]
ckpt = [float(x) / steps for x in sys.argv[5].split()]
p, c = statistics.median(plain), statistics.median(ckpt)
print(json.dumps({"bench": "checkpoint_overhead", "steps": steps, "checkpoint_every_s": every,
                  "checkpoints_written_last_run": written, "s_per_step_plain": round(p, 4),
                  "s_per_step_checkpointed": round(c, 4), "overhead": round(c / p - 1, 4),
                  "runs_plain": [round(x, 4) for x in plain], "runs_checkpointed": [round(x, 4) for x in ckpt],
                  "snapshot_s_median": round(snap, 4), "write_s_median": round(write, 4),
                  "snapshot_share": round(snap / every, 5), "snapshot_plus_write_share": round((snap + write) / every, 5)}))
PY
