#!/usr/bin/env bash
# A lost node under `signvote launch` on the emulated cluster
# (scripts/netcluster.sh): 7 nodes at RATE, CIFAR-10 ResNet-18 width 16
# (configs/cifar10_resnet18_w16_signum.yaml), 7 workers + 7 colocated server
# shards (one of each per node, --map-by node), STEPS steps, a checkpoint
# every 30 s (run.checkpoint_every_s). Two runs:
#   undisturbed   to the end;
#   killed        every process of node 4 is killed and its link cut once a
#                 progress line shows step KILL_AT or later; the launcher
#                 restarts on the 6 nodes left (6 workers, 6 shards).
# Prints one JSON line: the seconds from the kill to the first step after
# the restart, the steps lost, the restart line, and the final validation
# accuracy of both runs (probe timeout 5 s, backoff 2 s). Writes
# OUT/<run>.{log,csv} and the checkpoints.
# Needs root and the real CIFAR-10 in DATA_DIR.
#
#   scripts/restart_measure.sh DATA_DIR [OUT=out/restart] [RATE=100mbit] [STEPS=600] [KILL_AT=300] [RUNS="undisturbed killed"] [--set k=v ...]
# (the --set options go to both runs: --set run.seed=2 for a second seed;
# --launch=OPT options to signvote launch: --launch=--odd-workers;
# RUNS=killed repeats only the killed run, beside an undisturbed one in OUT)
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
data=${1:?usage: restart_measure.sh DATA_DIR [OUT] [RATE] [STEPS] [KILL_AT]}
out=${2:-$repo/out/restart}
rate=${3:-100mbit}
steps=${4:-600}
kill_at=${5:-300}
runs=${6:-undisturbed killed}
shift $(($# < 6 ? $# : 6))
extra=() launch_opts=()  # --launch=OPT goes to signvote launch (--launch=--odd-workers), the rest to train
for a in "$@"; do
  if [[ $a == --launch=* ]]; then launch_opts+=("${a#--launch=}"); else extra+=("$a"); fi
done
nc=$repo/scripts/netcluster.sh
mkdir -p "$out"
for r in $runs; do [ ! -e "$out/$r.csv" ] || { echo "$out/$r.csv exists: choose another OUT" >&2; exit 1; }; done
[ -e "$out/undisturbed_val.csv" ] || [[ " $runs " == *" undisturbed "* ]] || { echo "RUNS=$runs needs $out/undisturbed_val.csv" >&2; exit 1; }
trap '"$nc" down > /dev/null' EXIT
"$nc" up 7 "$rate" 50
for i in $(seq 1 7); do echo "sv-node$i slots=2"; done > "$out/hosts"
mpi=(--mpirun-arg=--map-by --mpirun-arg=node --mpirun-arg=--bind-to --mpirun-arg=none)
while read -r name value; do mpi+=(--mpirun-arg=--mca --mpirun-arg="$name" --mpirun-arg="$value"); done < <("$nc" mca)
launch() {  # launch RUN: signvote launch over the 7 nodes, output to OUT/RUN.log
  "$repo/build/signvote" launch -np 14 --hostfile "$out/hosts" --min-workers 4 --probe-timeout-s 5 "${mpi[@]}" \
    "${launch_opts[@]}" \
    "$repo/configs/cifar10_resnet18_w16_signum.yaml" --set data.path="$data" --set cluster.workers=7 \
    --set cluster.servers=7 --set run.steps="$steps" --set run.checkpoint_every=0 --set run.checkpoint_every_s=30 \
    --set run.progress_seconds=0.2 "${extra[@]}" --checkpoint-dir "$out/$1-ckpt" --metrics "$out/$1.csv" > "$out/$1.log" 2>&1
}
[[ " $runs " != *" undisturbed "* ]] || launch undisturbed
launch killed &
pid=$!
until grep -qE "\] step ([0-9]+)/" "$out/killed.log" 2>/dev/null &&
      [ "$(grep -oE '\] step [0-9]+/' "$out/killed.log" | tail -n 1 | grep -oE '[0-9]+')" -ge "$kill_at" ]; do
  kill -0 "$pid" 2>/dev/null || { echo "the run ended before step $kill_at" >&2; exit 1; }
  sleep 0.2
done
killed_at=$(date +%s.%N)
ip netns pids sv-node4 | xargs -r kill -9
ip netns exec sv-node4 ip link set eth0 down
wait "$pid"
/usr/bin/python3 - "$out" "$killed_at" <<'PY'
import csv, datetime, json, re, sys
out, killed_at = sys.argv[1], float(sys.argv[2])
log = open(f"{out}/killed.log").read().splitlines()
def stamp(line):  # "[HH:MM:SS.mmm] ..." -> seconds since the epoch, today
    t = datetime.datetime.strptime(line[1:13], "%H:%M:%S.%f").time()
    d = datetime.datetime.fromtimestamp(killed_at).date()
    return datetime.datetime.combine(d, t).timestamp()
restart = next(i for i, l in enumerate(log) if "launch: restart" in l)
before = [int(m.group(1)) for l in log[:restart] for m in [re.search(r"\] step (\d+)/", l)] if m]
resumed = int(re.search(r"resuming step (\d+)", log[restart]).group(1))
first = next(l for l in log[restart:] if re.search(r"\] step (\d+)/", l))
def final(run):
    rows = list(csv.DictReader(open(f"{out}/{run}_val.csv")))
    return float(rows[-1]["val_accuracy"])
print(json.dumps({"kill_to_first_step_s": round(stamp(first) - killed_at, 2), "last_step_before_kill": max(before),
                  "resumed_step": resumed, "steps_lost": max(before) - resumed,
                  "undisturbed_val_accuracy": final("undisturbed"), "killed_val_accuracy": final("killed"),
                  "restart": log[restart].split("launch: ", 1)[1]}))
PY
