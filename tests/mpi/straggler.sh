#!/usr/bin/env bash
# straggler.sh SIGNVOTE CONFIG MPIRUN...
# Worker rank 3 of 4 is 400 ms late on every 10th step, with a 150 ms round
# deadline. Passes when the run completes all 40 steps with the weight hash
# compared at every step among the votes on time (the late worker's
# included from its first on-time vote, so its weights are identical after
# each catch-up), and the server logged the late vote (rank, step) and
# later discarded it as stale saying how late it came.
set -euo pipefail
sv=$1 cfg=$2
shift 2
out=$("$@" -np 5 "$sv" train "$cfg" --set cluster.workers=4 --set run.steps=40 --set run.hash_every=1 \
  --set cluster.round_deadline_ms=150 --set faults.delay_rank=3 --set faults.delay_ms=400 --set faults.every=10 2>&1)
echo "$out" | tail -n 30
grep -q "step 40/40" <<< "$out"
for step in 10 20 30; do
  grep -q "rank 3 missed the 150 ms deadline of step $step; its vote abstains" <<< "$out"
  grep -Eq "rank 3's vote for step $step came [0-9]+ ms after that round's deadline; discarded" <<< "$out"
done
if grep -q "hash_mismatch" <<< "$out"; then echo "FAIL: replicas diverged"; exit 1; fi
echo "PASS: late votes abstained and were discarded; the late worker caught up with identical weights"
