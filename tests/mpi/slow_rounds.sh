#!/usr/bin/env bash
# slow_rounds.sh SIGNVOTE CONFIG MPIRUN...
# Slow rounds are not stalls. One worker, 1.2 s before every vote (a round
# that takes its time for every worker: H local steps, an evaluation), with
# run.stall_warn_s = 0.5: the server may warn in rounds 1 and 2 (nothing is
# known yet), but from round 3 on it expects the first vote after 3x the
# slowest wait so far and stays quiet. Then two workers, one of them late in
# step 2 only: that is a stall, counted from the other's vote.
set -euo pipefail
sv=$1 cfg=$2
shift 2
out=$("$@" -np 2 "$sv" train "$cfg" --set cluster.workers=1 --set run.steps=6 --set run.stall_warn_s=0.5 \
  --set faults.delay_rank=1 --set faults.delay_ms=1200 2>&1)
echo "$out" | tail -n 12
grep -q "step 6/6" <<< "$out"
grep -q "step 1: still waiting for the votes of worker rank 1 (. s with no vote yet" <<< "$out"
if grep -Eq "step [3-6]: still waiting" <<< "$out"; then echo "FAIL: a slow round for every worker taken for a stall"; exit 1; fi
out=$("$@" -np 3 "$sv" train "$cfg" --set cluster.workers=2 --set run.steps=4 --set run.stall_warn_s=0.5 \
  --set faults.delay_rank=2 --set faults.delay_ms=1200 --set faults.every=2 2>&1)
echo "$out" | tail -n 12
grep -q "step 2: still waiting for the votes of worker rank 2 (. s after the first vote" <<< "$out"
echo "PASS: slow rounds are quiet after round 2; a late worker is named from the first vote"
