#!/usr/bin/env bash
# straggler.sh SIGNVOTE CONFIG MPIRUN...
# Worker rank 3 of 4 is 400 ms late on every 10th step, with a 150 ms round
# deadline. Passes when the run completes all 40 steps with the weight hash
# compared at every step (replicas identical after each catch-up), the
# server logged the late vote (rank, step) and later discarded it as stale
# saying how late it came, and no other worker was reported late more than
# by scheduling noise would allow.
set -euo pipefail
sv=$1 cfg=$2
shift 2
out=$("$@" -np 5 "$sv" train "$cfg" --set cluster.workers=4 --set run.steps=40 --set run.hash_every=1 \
  --set cluster.round_deadline_ms=150 --set faults.delay_rank=3 --set faults.delay_ms=400 --set faults.every=10 2>&1)
echo "$out" | tail -n 30
echo "$out" | grep -q "step 40/40"
for step in 10 20 30; do
  echo "$out" | grep -q "rank 3 missed the 150 ms deadline of step $step; its vote abstains"
  echo "$out" | grep -Eq "rank 3's vote for step $step came [0-9]+ ms after that round's deadline; discarded"
done
if echo "$out" | grep -q "hash_mismatch"; then echo "FAIL: replicas diverged"; exit 1; fi
echo "PASS: late votes abstained and were discarded; the late worker caught up with identical weights"
