#!/usr/bin/env bash
# scripts/slurmcluster.sh selftest, from nothing: a 4-node Slurm cluster
# (slurmcluster.sh up 4), then with examples/slurm/cpu.sbatch (which runs
# `signvote launch`, 2 tasks per node: 1 server + 7 workers):
#   1. sbatch -N 4 of the toy to completion;
#   2. a CIFAR smoke run (small_cnn on a generated CIFAR-format fixture), and
#      PyTorch workers (examples/slurm/pytorch.sbatch) to completion;
#   3. a longer toy job; once it has a checkpoint, every process of node 3
#      (its slurmd and its ranks) is killed and its link cut: the launcher
#      must finish the job on the 3 nodes left, exit 0, and log the restart;
# then down. The last line starts PASS or FAIL, with the job's exit state,
# the restart line and the seconds taken. Needs root, the build (build/) and
# Slurm's packages.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
sc=$repo/scripts/slurmcluster.sh
start=$(date +%s)
work=$(mktemp -d /tmp/signvote-slurm-XXXXXX)
result="FAIL: setup did not finish"
finish() {
  local rc=$?
  "$sc" down > /dev/null 2>&1 || true
  rm -rf --one-file-system "$work"
  [ "$rc" -eq 0 ] || [[ "$result" == FAIL* ]] || result="FAIL: exit $rc"
  echo "$result ($(($(date +%s) - start)) s)"
  [[ "$result" == PASS* ]]
}
trap finish EXIT
fail() { result="FAIL: $*"; exit 1; }

"$sc" up 4
eval "$("$sc" env)"
cd "$work"
job_state() { scontrol show job "$1" | grep -oE 'JobState=[A-Z_]+ |ExitCode=[0-9:]+' | tr '\n' ' '; }

# 1. The toy to completion.
id=$(sbatch --parsable -N 4 "$repo/examples/slurm/cpu.sbatch" "$repo/configs/toy_quadratic.yaml" --set run.steps=200)
while squeue -h -j "$id" 2>/dev/null | grep -q .; do sleep 1; done
job_state "$id" | grep -q "JobState=COMPLETED .*ExitCode=0:0" || fail "toy job $id: $(job_state "$id"); $(tail -n 5 "signvote-$id.out")"
grep -q "the job finished" "signvote-$id.out" || fail "toy job $id: no 'the job finished' line"
echo "slurm selftest: toy job $id $(job_state "$id")"

# 2. A CIFAR smoke run.
"$repo/build/tests/mpi/make_cifar_fixture" "$work/data" 600
id=$(sbatch --parsable -N 4 "$repo/examples/slurm/cpu.sbatch" "$repo/configs/cifar10_resnet18_w16_signum.yaml" \
  --set model.name=small_cnn --set data.path="$work/data" --set data.val_count=100 --set data.train_files=1 \
  --set data.records_per_file=600 --set data.batch_size=16 --set run.steps=20 --set run.eval_every=0)
while squeue -h -j "$id" 2>/dev/null | grep -q .; do sleep 1; done
job_state "$id" | grep -q "JobState=COMPLETED .*ExitCode=0:0" || fail "CIFAR job $id: $(job_state "$id"); $(tail -n 5 "signvote-$id.out")"
echo "slurm selftest: CIFAR smoke job $id $(job_state "$id")"

# 2b. PyTorch workers (examples/slurm/pytorch.sbatch: signvote launch --mpmd,
# 1 serve rank + 7 workers that save with signvote.checkpoints) to completion.
if /usr/bin/python3 -c "import torch" 2>/dev/null; then
  id=$(PYTHON=/usr/bin/python3 PYTHONPATH="$repo/build/python" sbatch --parsable -N 4 "$repo/examples/slurm/pytorch.sbatch" \
    "$repo/configs/toy_quadratic.yaml" "$repo/tests/launch/worker_ckpt.py" --steps 200)
  while squeue -h -j "$id" 2>/dev/null | grep -q .; do sleep 1; done
  job_state "$id" | grep -q "JobState=COMPLETED .*ExitCode=0:0" ||
    fail "PyTorch job $id: $(job_state "$id"); $(tail -n 5 "signvote-$id.out")"
  [ -e "$work/ckpt-$id/step_000000200_w7/worker6.pt" ] || fail "PyTorch job $id: no saved step 200 of 7 workers"
  echo "slurm selftest: PyTorch job $id $(job_state "$id")"
else
  echo "slurm selftest: PyTorch job Skipped (no torch for /usr/bin/python3)"
fi

# 3. Node 3 dies mid-job.
id=$(sbatch --parsable -N 4 "$repo/examples/slurm/cpu.sbatch" "$repo/configs/toy_quadratic.yaml" --set run.steps=800 \
  --set run.checkpoint_every=50 --set faults.delay_rank=1 --set faults.delay_ms=25)
for _ in $(seq 300); do [ -e "$work/ckpt-$id/ckpt-000000000100.ckpt" ] && break; sleep 0.2; done
[ -e "$work/ckpt-$id/ckpt-000000000100.ckpt" ] || fail "node-kill job $id: no checkpoint 100; $(tail -n 5 "signvote-$id.out")"
kill -9 "$(cat /run/signvote-slurm/slurmd-sv-node3.pid)"
ip netns pids sv-node3 | xargs -r kill -9
ip netns exec sv-node3 ip link set eth0 down
killed=$(date +%s)
while squeue -h -j "$id" 2>/dev/null | grep -q .; do sleep 1; done
restart=$(grep -m1 "launch: restart" "signvote-$id.out" || true)
[ -n "$restart" ] || fail "node-kill job $id: no restart line; $(job_state "$id"); $(tail -n 5 "signvote-$id.out")"
job_state "$id" | grep -q "JobState=COMPLETED .*ExitCode=0:0" || fail "node-kill job $id: $(job_state "$id"); $restart"
grep -q "the job finished after 1 restart(s)" "signvote-$id.out" || fail "node-kill job $id did not finish after 1 restart"
echo "$restart" | grep -q "dropped sv-node3" || fail "node 3 was not dropped: $restart"
result="PASS: node-kill job $id $(job_state "$id")(finished $(($(date +%s) - killed)) s after the kill); ${restart#*launch: }"
