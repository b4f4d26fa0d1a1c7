#!/usr/bin/env bash
# The same benchmarks on two builds of signvote, in one sitting, alternating
# old and new so that a burst of load from elsewhere hurts both alike. For a
# change that must not cost speed (a refactor): compare the two columns.
#
#   bench/run_before_after.sh OLD_BUILD NEW_BUILD [STEP_ITERS]
#
# Each build directory needs signvote-bench. Prints one JSON object per line:
#   {"bench": "kernels" | "comm_1_shard" | "comm_7_shards" | "step_vs_pytorch",
#    "build": "old" | "new", "path": BUILD, "result": <the benchmark's JSON>}
# and last {"summary": ...} with the new/old ratio of each headline figure
# (kernels: GB/s of pack and apply, tally ms; comm: the vote round's median
# ms; step: signvote/PyTorch at 1 and 2 threads).
#   kernels        signvote-bench kernels --dim 11173962 --workers 27 (ResNet-18's d)
#   comm_1_shard   8 ranks: 1 server + 7 workers, shared memory
#   comm_7_shards  14 ranks: 7 servers + 7 workers
#   step           bench/run_step_vs_pytorch.sh BUILD 32 64 STEP_ITERS
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
[[ $# -ge 2 ]] || { echo "usage: $0 OLD_BUILD NEW_BUILD [STEP_ITERS]" >&2; exit 2; }
old="$(cd "$1" && pwd)" new="$(cd "$2" && pwd)" iters="${3:-5}"
for b in "$old" "$new"; do
  [[ -x "$b/signvote-bench" ]] || { echo "$0: no $b/signvote-bench (build target signvote-bench)" >&2; exit 1; }
done
mpirun_sh="$here/../scripts/mpirun.sh"
out=$(mktemp /tmp/signvote-before-after.XXXXXX)
trap 'rm -f "$out"' EXIT

run() {  # run NAME LABEL BUILD CMD...: one benchmark's JSON, wrapped
  local name=$1 label=$2 build=$3
  shift 3
  local json
  json=$("$@" | tail -n 1)
  printf '{"bench": "%s", "build": "%s", "path": "%s", "result": %s}\n' "$name" "$label" "$build" "$json" | tee -a "$out"
}

for pass in 1 2; do
  for label in old new; do
    b=$old
    [[ $label == new ]] && b=$new
    run kernels "$label" "$b" "$b/signvote-bench" kernels --dim 11173962 --workers 27 --json
    run comm_1_shard "$label" "$b" "$mpirun_sh" -np 8 "$b/signvote-bench" comm --dim 11173962 --reps 10 --json
    run comm_7_shards "$label" "$b" "$mpirun_sh" -np 14 "$b/signvote-bench" comm --dim 11173962 --servers 7 --reps 10 --json
    if [[ $pass == 1 ]]; then
      run step_vs_pytorch "$label" "$b" "$here/run_step_vs_pytorch.sh" "$b" 32 64 "$iters"
    fi
  done
done
/usr/bin/env python3 "$here/before_after_summary.py" "$out"
