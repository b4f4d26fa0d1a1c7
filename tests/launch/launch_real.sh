#!/usr/bin/env bash
# `signvote launch` over real mpirun jobs, killed mid-run. Three emulated
# hosts on this machine: Open MPI's rsh agent runs each host's daemon under
# its own hostname (unshare --uts) and refuses a host listed as dead, as ssh
# to a lost node would. Toy quadratic, 1 server + 5 workers; host nodeA has
# 3 slots (ranks 0-2), nodeB 2 (ranks 3-4), nodeC 1 (rank 5).
#   launch_real.sh SIGNVOTE CONFIG CASE
# Needs root (unshare --uts); prints "Skipped: ..." and exits 77 otherwise.
set -euo pipefail
sv=$1 cfg=$2 case=$3
if [ "$(id -u)" -ne 0 ] || ! command -v unshare >/dev/null; then echo "Skipped: needs root and unshare"; exit 77; fi
dir=$(mktemp -d)
cleanup() {
  pkill -9 -f -- "$dir/ckpt" 2>/dev/null || true
  rm -rf --one-file-system "$dir"
}
trap cleanup EXIT
fail() { echo "FAIL ($case): $*" >&2; echo "--- launcher log:" >&2; cat "$dir/log" >&2 || true; exit 1; }
touch "$dir/dead"
cat > "$dir/agent" <<AGENT
#!/bin/sh
host=\$1
shift
if grep -qx "\$host" "$dir/dead"; then echo "ssh: connect to host \$host port 22: No route to host" >&2; exit 255; fi
exec unshare --uts sh -c 'hostname "\$1" && shift && eval "exec \$*"' sh "\$host" "\$@"
AGENT
chmod +x "$dir/agent"
printf 'nodeA slots=3\nnodeB slots=2\nnodeC slots=1\n' > "$dir/hosts"
mpi=(--mpirun-arg=--mca --mpirun-arg=plm_rsh_agent --mpirun-arg="$dir/agent" --mpirun-arg=--mca --mpirun-arg=pml
     --mpirun-arg=ob1 --mpirun-arg=--bind-to --mpirun-arg=none --mpirun-arg=--mca --mpirun-arg=mpi_yield_when_idle
     --mpirun-arg=1)
# 400 steps, one every >= 20 ms (worker rank 1 sleeps before each vote), a checkpoint every 50.
train=(--set cluster.workers=5 --set cluster.servers=1 --set run.steps=400 --set run.checkpoint_every=50
       --set run.keep_checkpoints=100
       --set run.log_every=10 --set run.progress_seconds=0.5 --set faults.delay_rank=1 --set faults.delay_ms=20
       --checkpoint-dir "$dir/ckpt" --metrics "$dir/m.csv")
start_launch() {  # start_launch [launch options]: in the background, pid in $launcher
  "$sv" launch -np 6 --hostfile "$dir/hosts" --backoff-s 0 --probe-timeout-s 5 "${mpi[@]}" "$@" "$cfg" "${train[@]}" \
    > "$dir/log" 2>&1 &
  launcher=$!
}
rank_pid() {  # the pid of world rank $1's signvote train process
  local p
  for p in $(pgrep -f -- "$dir/ckpt" || true); do
    if tr '\0' '\n' < "/proc/$p/environ" 2>/dev/null | grep -qx "OMPI_COMM_WORLD_RANK=$1" &&
       grep -q "train" "/proc/$p/cmdline" 2>/dev/null; then echo "$p"; return; fi
  done
}
wait_for() {  # wait_for SECONDS CONDITION...
  local t=$1
  shift
  for _ in $(seq $((t * 10))); do "$@" && return 0; sleep 0.1; done
  fail "timed out waiting for: $*"
}
finish() {  # wait for the launcher; its status must be $1
  local rc=0
  wait "$launcher" || rc=$?
  [ "$rc" = "$1" ] || fail "launcher exit status $rc, expected $1"
}
has() { grep -qF -- "$1" "$dir/log" || fail "the log lacks '$1'"; }

case $case in
  worker_killed)  # SIGKILL to worker rank 5 (all of nodeC): W 5 -> 4, from the last checkpoint, to the end
    start_launch
    wait_for 60 test -e "$dir/ckpt/ckpt-000000000100.ckpt"
    echo nodeC >> "$dir/dead"
    kill -9 "$(rank_pid 5)"
    finish 0
    has "(host nodeC)"; has "dropped nodeC"; has "workers 5 -> 4, servers 1 -> 1"
    has "the job finished after 1 restart(s)"
    step=$(grep -oE 'resuming step [0-9]+' "$dir/log" | grep -oE '[0-9]+$')
    [ "$step" -ge 100 ] || fail "resumed step $step"
    file=$(printf '%s/ckpt/ckpt-%012d.ckpt' "$dir" "$step")
    want=$("$sv" inspect "$file" | awk '$1 == "array" && $2 == "params" {print $NF}') || fail "cannot inspect $file"
    [ -n "$want" ] || fail "no params hash in $file"
    grep -qF "at step $step (params hash $want)" "$dir/log" ||
      fail "the restart's weights are not checkpoint $step's ($want)"
    tail -n 1 "$dir/m.csv" | grep -qE '^400,.*,4$' || fail "metrics end: $(tail -n 1 "$dir/m.csv")"
    grep -qE "^$((step + 10)),.*,4$" "$dir/m.csv" || fail "no row of 4 workers after step $step" ;;
  server_killed)  # SIGKILL to the server (rank 0, nodeA stays up): same W
    start_launch
    wait_for 60 test -e "$dir/ckpt/ckpt-000000000100.ckpt"
    kill -9 "$(rank_pid 0)"
    finish 0
    has "every host answers"; has "workers 5 -> 5, servers 1 -> 1"; has "the job finished after 1 restart(s)"
    tail -n 1 "$dir/m.csv" | grep -qE '^400,.*,5$' || fail "metrics end: $(tail -n 1 "$dir/m.csv")" ;;
  before_checkpoint)  # killed before the first checkpoint: from step 0 again, same run id, metrics replaced
    start_launch
    wait_for 60 grep -q "delays its vote of step 20 " "$dir/log"
    [ ! -e "$dir/ckpt/latest.ckpt" ] || fail "a checkpoint came before the kill"
    kill -9 "$(rank_pid 4)"
    finish 0
    has "resuming step 0 (no checkpoint yet: from the start)"; has "the job finished after 1 restart(s)"
    [ "$(grep -c '^10,' "$dir/m.csv")" = 1 ] || fail "step 10 twice in the metrics" ;;
  deterministic)  # the job refuses its input (a checkpoint that is not there): one try, the job's status and line
    train+=(--resume "$dir/none")
    start_launch
    finish 1
    has "is not restarted (a deterministic error)"; has "--resume '$dir/none': no such file or directory"
    [ "$(grep -c "signvote train" "$dir/log" || true)" = 0 ]
    [ "$(grep -c 'launch: restart' "$dir/log" || true)" = 0 ] || fail "restarted" ;;
  killed_launcher)  # SIGKILL to the launcher: no rank is left
    start_launch
    wait_for 60 grep -q "delays its vote of step 20 " "$dir/log"
    kill -9 "$launcher"
    for _ in $(seq 100); do [ -z "$(pgrep -f -- "$dir/ckpt" || true)" ] && break; sleep 0.1; done
    [ -z "$(pgrep -f -- "$dir/ckpt" || true)" ] || fail "ranks outlived the launcher: $(pgrep -af -- "$dir/ckpt")" ;;
  python_worker_killed)  # --mpmd: SIGKILL to a PyTorch worker (rank 5, all of nodeC): W 5 -> 4, each resumes itself
    py=/usr/bin/python3
    export PYTHONPATH="$(dirname "$sv")/python${PYTHONPATH:+:$PYTHONPATH}"
    "$py" -c "import torch, signvote.checkpoints" 2>/dev/null || { echo "Skipped: needs $py with torch and the signvote package"; exit 77; }
    "$sv" launch --mpmd --checkpoint-dir "$dir/ckpt" -np 1 --hostfile "$dir/hosts" --backoff-s 0 --probe-timeout-s 5 \
      "${mpi[@]}" "$cfg" --set run.steps=400 --set run.log_every=10 --set run.progress_seconds=0.5 \
      --metrics "$dir/m.csv" : -np 5 "$py" "$(dirname "$0")/worker_ckpt.py" --checkpoint-dir "$dir/ckpt" > "$dir/log" 2>&1 &
    launcher=$!
    wait_for 90 test -e "$dir/ckpt/step_000000100_w5/worker4.pt"
    echo nodeC >> "$dir/dead"
    for p in $(pgrep -f -- "worker_ckpt.py --checkpoint-dir $dir/ckpt" || true); do
      tr '\0' '\n' < "/proc/$p/environ" 2>/dev/null | grep -qx "OMPI_COMM_WORLD_RANK=5" && kill -9 "$p"
    done
    finish 0
    has "(host nodeC)"; has "workers 5 -> 4, servers 1 -> 1"; has "the job finished after 1 restart(s)"
    step=$(grep -oE 'resuming step [0-9]+' "$dir/log" | grep -oE '[0-9]+$')
    [ "$step" -ge 100 ] || fail "resumed step $step"
    has "resuming step $step ($dir/ckpt/step_$(printf %09d "$step")_w5)"
    want=$("$py" -c "import sys, torch, signvote; m = torch.load(sys.argv[1])['model']
print(f\"{signvote.weight_hash(torch.cat([m['weight'].reshape(-1), m['bias'].reshape(-1)])):#018x}\")" \
      "$dir/ckpt/step_$(printf %09d "$step")_w5/worker0.pt")
    # mpirun may join two ranks' lines: count the records, not the lines
    [ "$(grep -oE "RESUMED [0-9]+ $step $want [01]" "$dir/log" | grep -cE "^RESUMED [0-3] $step $want 0")" = 4 ] ||
      fail "4 workers should resume step $step with the saved weights $want: $(grep RESUMED "$dir/log")"
    [ "$(grep -oE 'HASH [0-9]+ [0-9]+ 0x[0-9a-f]{16}' "$dir/log" | grep -cE '^HASH [0-3] 400 ')" = 4 ] ||
      fail "4 workers should finish step 400"
    [ "$(grep -oE 'HASH [0-9]+ [0-9]+ 0x[0-9a-f]{16}' "$dir/log" | awk '{print $4}' | sort -u | wc -l)" = 1 ] ||
      fail "the replicas differ"
    tail -n 1 "$dir/m.csv" | grep -qE '^400,.*,4$' || fail "metrics end: $(tail -n 1 "$dir/m.csv")" ;;
  *) fail "unknown case" ;;
esac
echo "ok: $case"
