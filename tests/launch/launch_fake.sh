#!/usr/bin/env bash
# `signvote launch` against a fake mpirun (fake_mpirun.sh): how it sorts
# each kind of failure, which hosts and worker count it restarts with, and
# its limits. Six hosts of one slot each: 1 server + 5 workers.
#   launch_fake.sh SIGNVOTE CONFIG CASE
set -euo pipefail
sv=$1 cfg=$2 case=$3
here=$(cd "$(dirname "$0")" && pwd)
export FAKE_DIR
FAKE_DIR=$(mktemp -d)
trap 'rm -rf --one-file-system "$FAKE_DIR"' EXIT
printf 'nodeA slots=1\nnodeB slots=1\nnodeC slots=1\nnodeD slots=1\nnodeE slots=1\nnodeF slots=1\n' > "$FAKE_DIR/hosts"
fail() { echo "FAIL ($case): $*" >&2; echo "--- launcher log:" >&2; cat "$FAKE_DIR/log" >&2 || true; exit 1; }

# launch EXPECTED_RC [launch options...]: runs the launcher on $FAKE_DIR/script.
launch() {
  local want=$1 rc=0
  shift
  "$sv" launch -np 6 --hostfile "$FAKE_DIR/hosts" --mpirun "$here/fake_mpirun.sh" --backoff-s 0 --probe-timeout-s 2 \
    "$@" "$cfg" --set cluster.workers=5 --set cluster.servers=1 > "$FAKE_DIR/log" 2>&1 || rc=$?
  [ "$rc" = "$want" ] || fail "exit status $rc, expected $want"
}
jobs_run() { grep -vc -- ' devices --json' "$FAKE_DIR/calls" || true; }
job() { grep -v -- ' devices --json' "$FAKE_DIR/calls" | sed -n "${1}p"; }
has() { grep -qF -- "$1" "$FAKE_DIR/log" || fail "the log lacks '$1'"; }

case $case in
  node_lost)  # a node dies: restart on the 5 left with 4 workers, from the start (no checkpoint)
    printf 'step 3 kill nodeC\nok\n' > "$FAKE_DIR/script"
    launch 0
    [ "$(jobs_run)" = 2 ] || fail "$(jobs_run) tries, expected 2"
    job 2 | grep -q -- "-np 5 " || fail "the restart is not -np 5: $(job 2)"
    job 2 | grep -q -- "--set cluster.workers=4 --set cluster.servers=1" || fail "restart args: $(job 2)"
    job 2 | grep -q -- "--run-id $(job 1 | sed -E 's/.*--run-id ([0-9a-f]+).*/\1/')" || fail "the run id changed"
    ! grep -q nodeC "$FAKE_DIR/log.hosts" 2>/dev/null
    has "restart 1/3: mpirun noticed that process rank 3"; has "(host nodeC)"; has "dropped nodeC"
    has "workers 5 -> 4, servers 1 -> 1"; has "resuming step 0 (no checkpoint yet"; has "3 step(s)"
    has "the job finished after 1 restart(s)" ;;
  deterministic)  # a bad config: never restarted, the job's status and line
    printf 'error\nok\n' > "$FAKE_DIR/script"
    launch 1
    [ "$(jobs_run)" = 1 ] || fail "restarted a deterministic error"
    has "is not restarted (a deterministic error): [12:00:00.000] [rank 0] [error] cfg.yaml: key 'optimizer.lr'" ;;
  tagged)  # a worker_late stop (exit 75, tagged): restarted with every host
    printf 'late\nok\n' > "$FAKE_DIR/script"
    launch 0
    job 2 | grep -q -- "-np 6 " || fail "the restart is not -np 6: $(job 2)"
    has "every host answers"; has "workers 5 -> 5" ;;
  max_restarts)  # every try loses a node: --max-restarts 2 then stop with 75
    printf 'kill nodeA\nkill nodeB\nkill nodeC\nok\n' > "$FAKE_DIR/script"
    launch 75 --max-restarts 2
    [ "$(jobs_run)" = 3 ] || fail "$(jobs_run) tries, expected 3"
    has "--max-restarts 2 exhausted" ;;
  min_workers)  # too few workers left
    printf 'kill nodeB\nok\n' > "$FAKE_DIR/script"
    launch 75 --min-workers 5
    [ "$(jobs_run)" = 1 ] || fail "restarted below --min-workers"
    has "only 4 worker(s) fit"; has "fewer than --min-workers 5" ;;
  stall)  # a round stalled past --stall-timeout-s: stopped and restarted
    printf 'stall\nok\n' > "$FAKE_DIR/script"
    launch 0 --stall-timeout-s 3
    has "a round stalled for 3 s or more"; has "restart 1/3" ;;
  readmit)  # a dropped host that answers again comes back at the next restart
    printf 'kill nodeB\nrevive nodeB kill nodeD\nok\n' > "$FAKE_DIR/script"
    launch 0
    job 3 | grep -q -- "-np 5 " || fail "third try: $(job 3)"
    has "dropped nodeD; re-admitted nodeB" ;;
  grow)  # --grow-check-s: a dropped host answering again triggers a restart with it
    printf 'kill nodeB\nrevive nodeB hang\nok\n' > "$FAKE_DIR/script"
    launch 0 --grow-check-s 1
    [ "$(jobs_run)" = 3 ] || fail "$(jobs_run) tries, expected 3"
    job 3 | grep -q -- "-np 6 " || fail "the grow restart is not -np 6: $(job 3)"
    has "grow check: host nodeB answers again"; has "re-admitted nodeB"; has "restart 1/3" ;;
  killed_launcher)  # SIGKILL to the launcher: its job goes too
    printf 'hang\n' > "$FAKE_DIR/script"
    "$sv" launch -np 6 --hostfile "$FAKE_DIR/hosts" --mpirun "$here/fake_mpirun.sh" "$cfg" \
      --set cluster.workers=5 --set cluster.servers=1 > "$FAKE_DIR/log" 2>&1 &
    pid=$!
    for _ in $(seq 100); do [ -s "$FAKE_DIR/hang.pid" ] && break; sleep 0.1; done
    job_pid=$(cat "$FAKE_DIR/hang.pid")
    kill -9 "$pid"
    for _ in $(seq 50); do kill -0 "$job_pid" 2>/dev/null || break; sleep 0.1; done
    ! kill -0 "$job_pid" 2>/dev/null || fail "the job (pid $job_pid) outlived the launcher" ;;
  bad_input)  # the launcher's own input errors: one line each, exit 1, no job run
    echo "nodeA slots=x" > "$FAKE_DIR/hosts"
    printf 'ok\n' > "$FAKE_DIR/script"
    launch 1
    has "line 1: 'slots=x' needs a positive count"
    printf 'nodeA slots=1\nnodeB slots=1\n' > "$FAKE_DIR/hosts"
    launch 1
    has "-np 6 needs 6 slots; the hosts (nodeA nodeB) have 2"
    printf 'nodeA slots=6\n' > "$FAKE_DIR/hosts"
    rc=0; "$sv" launch -np 4 --hostfile "$FAKE_DIR/hosts" --mpirun "$here/fake_mpirun.sh" "$cfg" \
      --set cluster.workers=5 > "$FAKE_DIR/log" 2>&1 || rc=$?
    [ "$rc" = 1 ] || fail "-np mismatch: exit $rc"
    has "needs -np 6, but -np is 4"
    [ ! -s "$FAKE_DIR/calls" ] || fail "a job ran despite bad input" ;;
  odd_workers)  # --odd-workers: 4 workers fit on the 5 hosts left, the restart takes 3 (no coordinate ever ties)
    printf 'step 3 kill nodeC\nok\n' > "$FAKE_DIR/script"
    launch 0 --odd-workers
    job 2 | grep -q -- "-np 4 " || fail "the restart is not -np 4: $(job 2)"
    job 2 | grep -q -- "--set cluster.workers=3 --set cluster.servers=1" || fail "restart args: $(job 2)"
    has "workers 5 -> 3 (4 fit; --odd-workers), servers 1 -> 1" ;;
  probes_back)  # no host answers at first (the probe's own trouble): probed again, every host restarts
    printf 'killall\nok\n' > "$FAKE_DIR/script"
    (for _ in $(seq 100); do grep -q nodeF "$FAKE_DIR/dead" 2>/dev/null && break; sleep 0.05; done
     sleep 1; : > "$FAKE_DIR/dead") &
    launch 0
    wait
    has "no host answered its probe"; has "probing again in 2 s"; has "workers 5 -> 5"
    job 2 | grep -q -- "-np 6 " || fail "the restart is not -np 6: $(job 2)" ;;
  mpmd_node_lost)  # PyTorch workers (--mpmd): a node dies; the same worker command with W - 1, serve --append
    ck="$FAKE_DIR/states"
    mkdir -p "$ck/step_000000020_w5" "$ck/step_000000030_w5"
    for k in 0 1 2 3 4; do touch "$ck/step_000000020_w5/worker$k.pt"; done
    touch "$ck/step_000000030_w5/worker0.pt"  # incomplete: the kill came while saving
    printf 'step 33 kill nodeC\nok\n' > "$FAKE_DIR/script"
    rc=0
    "$sv" launch --mpmd --checkpoint-dir "$ck" -np 1 --hostfile "$FAKE_DIR/hosts" --mpirun "$here/fake_mpirun.sh" \
      --backoff-s 0 --probe-timeout-s 2 "$cfg" --metrics "$FAKE_DIR/m.csv" : -np 5 python3 train.py -np 2 --ck "$ck" \
      > "$FAKE_DIR/log" 2>&1 || rc=$?
    [ "$rc" = 0 ] || fail "exit status $rc"
    job 1 | grep -qF -- "serve $cfg --metrics $FAKE_DIR/m.csv --set cluster.workers=5 --set cluster.servers=1 : -np 5 python3 train.py -np 2 --ck $ck" ||
      fail "first try: $(job 1)"
    job 2 | grep -qF -- "--set cluster.workers=4 --set cluster.servers=1 --append : -np 4 python3 train.py -np 2" ||
      fail "restart: $(job 2)"
    has "workers 5 -> 4, servers 1 -> 1"; has "resuming step 20 ($ck/step_000000020_w5)"; has "13 step(s)" ;;
  mpmd_bad_input)  # --mpmd's own input errors: one line each, exit 1, no job run
    printf 'nodeA slots=6\n' > "$FAKE_DIR/hosts"
    printf 'ok\n' > "$FAKE_DIR/script"
    m=("$sv" launch --hostfile "$FAKE_DIR/hosts" --mpirun "$here/fake_mpirun.sh")
    rc=0; "${m[@]}" --mpmd -np 1 "$cfg" > "$FAKE_DIR/log" 2>&1 || rc=$?
    [ "$rc" = 1 ] || fail "no ':': exit $rc"; has "--mpmd needs the workers after a ':'"
    rc=0; "${m[@]}" -np 6 "$cfg" : -np 3 python3 w.py > "$FAKE_DIR/log" 2>&1 || rc=$?
    [ "$rc" = 1 ] || fail "':' without --mpmd: exit $rc"; has "a ':' (an MPMD line) needs --mpmd"
    rc=0; "${m[@]}" --mpmd -np 1 "$cfg" : -np 0 python3 w.py > "$FAKE_DIR/log" 2>&1 || rc=$?
    [ "$rc" = 1 ] || fail "-np 0: exit $rc"; has "the workers' -np after ':' must be a positive count, not '0'"
    rc=0; "${m[@]}" --mpmd -np 2 "$cfg" : -np 3 python3 w.py > "$FAKE_DIR/log" 2>&1 || rc=$?
    [ "$rc" = 1 ] || fail "servers mismatch: exit $rc"; has "key 'cluster.servers' = 1 needs the servers' -np 1"
    rc=0; "${m[@]}" --mpmd -np 1 "$cfg" : -np 6 python3 w.py > "$FAKE_DIR/log" 2>&1 || rc=$?
    [ "$rc" = 1 ] || fail "too few slots: exit $rc"; has "-np 1 : -np 6 needs 7 slots"
    [ ! -s "$FAKE_DIR/calls" ] || fail "a job ran despite bad input" ;;
  *) fail "unknown case" ;;
esac
echo "ok: $case"
