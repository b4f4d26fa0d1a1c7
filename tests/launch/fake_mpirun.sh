#!/usr/bin/env bash
# A stand-in for mpirun in the launcher's tests (launch_fake.sh). State in
# $FAKE_DIR: `calls` (one line per call: its arguments), `dead` (hosts whose
# probe fails), `script` (line t = what try t does; words, in order):
#   revive HOST    take HOST off the dead list first
#   step N         print a progress line for step N
#   kill HOST      mpirun's line for a rank killed on HOST, HOST dies, exit 137
#   killall        the same for nodeA, but every host fails its probes until `dead` is emptied
#   error          a rank's own error line, exit 1
#   late           a worker_late round error tagged [infrastructure], exit 75
#   stall          stall lines, 1 s more each 0.2 s, until stopped
#   hang           sleep until stopped (records its pid in hang.pid)
#   ok             exit 0
set -euo pipefail
: "${FAKE_DIR:?}"
echo "$*" >> "$FAKE_DIR/calls"
touch "$FAKE_DIR/dead"
args=("$@")
for ((i = 0; i < ${#args[@]}; i++)); do
  if [ "${args[$i]}" = devices ]; then  # a probe: mpirun --host H:1 -np 1 signvote devices --json
    for ((j = 0; j < ${#args[@]}; j++)); do
      [ "${args[$j]}" = --host ] && host=${args[$((j + 1))]%%:*}
    done
    if grep -qx "${host:?}" "$FAKE_DIR/dead"; then exit 1; fi
    exit 0
  fi
done
try=$(grep -vc -- ' devices --json' "$FAKE_DIR/calls")
read -r -a words <<< "$(sed -n "${try}p" "$FAKE_DIR/script")"
for ((i = 0; i < ${#words[@]}; i++)); do
  w=${words[$i]}
  case $w in
    revive) h=${words[$((i + 1))]}; i=$((i + 1)); grep -vx "$h" "$FAKE_DIR/dead" > "$FAKE_DIR/dead.tmp" || true
            mv "$FAKE_DIR/dead.tmp" "$FAKE_DIR/dead" ;;
    step) echo "[12:00:00.000] [rank 0] [info] step ${words[$((i + 1))]}/100 | 1.0 steps/s"; i=$((i + 1)) ;;
    kill) h=${words[$((i + 1))]}; echo "$h" >> "$FAKE_DIR/dead"
          echo "mpirun noticed that process rank 3 with PID 0 on node $h exited on signal 9 (Killed)." >&2; exit 137 ;;
    killall) printf 'nodeA\nnodeB\nnodeC\nnodeD\nnodeE\nnodeF\n' >> "$FAKE_DIR/dead"
             echo "mpirun noticed that process rank 1 with PID 0 on node nodeA exited on signal 9 (Killed)." >&2; exit 137 ;;
    error) echo "[12:00:00.000] [rank 0] [error] cfg.yaml: key 'optimizer.lr' = -1 is out of range" >&2; exit 1 ;;
    late) echo "[12:00:00.000] [rank 0] [error] server rank 0 stopped the run at step 5: rank 2 missed the round deadline 3 rounds in a row (worker_late) [infrastructure]" >&2; exit 75 ;;
    stall) for s in $(seq 1 1000); do
             echo "[12:00:00.000] [rank 0] [warning] server rank 0: step 7: still waiting for the votes of worker rank 3 ($s s after the first vote; without cluster.round_deadline_ms the round waits for every worker)"
             sleep 0.2
           done ;;
    hang) echo $$ > "$FAKE_DIR/hang.pid"; exec sleep 1000 ;;
    ok) exit 0 ;;
  esac
done
exit 0
