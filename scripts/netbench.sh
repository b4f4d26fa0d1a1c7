#!/usr/bin/env bash
# The vote round against the ring all-reduce on the emulated cluster
# (scripts/netcluster.sh), d = 11,173,962 (CIFAR ResNet-18):
#   rates 1 Gbit/s and 100 Mbit/s, W = 4 and 7 workers, one worker per node;
#   single server: the server alone on node 1 (W + 1 nodes);
#   sharded:       S = W shards, one beside each worker (W nodes);
#   alltoall:      aggregation.transport alltoall: the workers tally chunks
#                  among themselves, 1 server on reports only (W nodes);
#   all-reduce:    Open MPI's ring (coll_tuned_allreduce_algorithm 4), in
#                  the same runs.
# Writes OUT/netbench.jsonl (one line per run), OUT/netbench.md (the table
# for docs/scaling.md) and OUT/netbench.png. Needs root; about 8 minutes.
#
#   scripts/netbench.sh [BUILD_DIR] [OUT_DIR] [QUEUE_MS]   (defaults: build, out/netbench, 50)
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$repo/build}
out=${2:-$repo/out/netbench}
queue=${3:-50}
nc=$repo/scripts/netcluster.sh
bench=$build/signvote-bench
[ -x "$bench" ] || { echo "netbench: no $bench (build first)" >&2; exit 1; }
mkdir -p "$out"
: > "$out/netbench.jsonl"
trap '"$nc" down >/dev/null' EXIT
ring=(--mca coll_tuned_use_dynamic_rules 1 --mca coll_tuned_allreduce_algorithm 4)
for rate in 1gbit 100mbit; do
  reps=5
  [ "$rate" = 100mbit ] && reps=3
  for W in 4 7; do
    "$nc" up $((W + 1)) "$rate" "$queue" > /dev/null
    for placement in single sharded alltoall; do
      case $placement in
        single) line=$("$nc" run --nodes $((W + 1)) -np $((W + 1)) --map-by node "${ring[@]}" "$bench" comm --servers 1 --reps $reps --json) ;;
        sharded) line=$("$nc" run --nodes "$W" -np $((2 * W)) --map-by node "${ring[@]}" "$bench" comm --servers "$W" --reps $reps --json) ;;
        alltoall) line=$("$nc" run --nodes "$W" -np $((W + 1)) --map-by node "${ring[@]}" "$bench" comm --servers 1 --transport alltoall --reps $reps --json) ;;
      esac
      echo "$line" | /usr/bin/python3 -c 'import json,sys; d=json.load(sys.stdin); d.update(rate=sys.argv[1], placement=sys.argv[2], queue_ms=int(sys.argv[3])); print(json.dumps(d))' \
        "$rate" "$placement" "$queue" | tee -a "$out/netbench.jsonl"
    done
  done
done
/usr/bin/python3 "$repo/scripts/plot_netbench.py" "$out/netbench.jsonl" "$out"
