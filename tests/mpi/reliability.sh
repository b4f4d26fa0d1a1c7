#!/usr/bin/env bash
# reliability.sh CASE SIGNVOTE WORKDIR MPIRUN...
# Faults and bad input on the toy problem (1 server + 2 workers): every case
# must end every rank within seconds (a hang is `timeout`'s exit 124, a
# failure here), with the exit status and the one-line error it expects, and
# lose no file. See docs/reliability.md for the cases.
set -euo pipefail
case_=$1 sv=$2 work=$3
shift 3
mpirun=("$@")
rm -rf "$work" && mkdir -p "$work"
cfg=(train "$(dirname "$0")/../../configs/toy_quadratic.yaml" --set cluster.workers=2 --set run.log_every=5)
out="$work/out.txt"

# run ok|fail REGEX ARGS...: a 3-rank job, bounded by 60 s.
run() {
  local want=$1 regex=$2 rc=0
  shift 2
  timeout 60 "${mpirun[@]}" -np 3 "$sv" "$@" >"$out" 2>&1 || rc=$?
  tail -n 15 "$out"
  echo "exit status: $rc"
  [ "$rc" -ne 124 ] || { echo "FAIL: the job hung (killed after 60 s)"; exit 1; }
  if [ "$want" = ok ] && [ "$rc" -ne 0 ]; then echo "FAIL: expected success"; exit 1; fi
  if [ "$want" = fail ] && [ "$rc" -eq 0 ]; then echo "FAIL: expected a non-zero exit"; exit 1; fi
  grep -Eq -- "$regex" "$out" || { echo "FAIL: output does not match /$regex/"; exit 1; }
}
# tmpfs DIR SIZE: a small filesystem (needs root); exit 77 = ctest Skipped.
tmpfs() {
  mkdir -p "$1"
  if ! mount -t tmpfs -o "size=$2" tmpfs "$1" 2>/dev/null; then
    echo "Skipped: mounting a tmpfs needs root"
    exit 77
  fi
  trap "umount -l '$1' 2>/dev/null || true" EXIT
}
no_temp_files() {  # no_temp_files DIR: DIR exists and holds no .tmp- file
  local names
  names=$(ls -A "$1")
  if grep -q '\.tmp-' <<<"$names"; then echo "FAIL: temp files left in $1"; ls -la "$1"; exit 1; fi
}

case $case_ in
  disk_full_mid_run)  # room for two checkpoints: the third fails at step 60, after round 1
    tmpfs "$work/small" 3m
    run fail "rank [0-9]+\].*(No space left|write failed)" "${cfg[@]}" --set model.dim=100000 --set run.steps=100 \
      --set run.checkpoint_every=20 --checkpoint-dir "$work/small/ckpt"
    no_temp_files "$work/small/ckpt"
    ;;
  checkpoint_dir_is_file)
    echo data >"$work/file"
    run fail "checkpoint dir '.*/file' exists and is not a directory" "${cfg[@]}" --checkpoint-dir "$work/file"
    [ "$(cat "$work/file")" = data ] || { echo "FAIL: the file changed"; exit 1; }
    ;;
  resume_earlier_needs_rewind)
    run ok "checkpoint" "${cfg[@]}" --set run.steps=60 --set run.checkpoint_every=20 --checkpoint-dir "$work/d"
    run fail "later checkpoints of this run .*--rewind" "${cfg[@]}" --set run.steps=80 \
      --resume "$work/d/ckpt-000000000020.ckpt" --checkpoint-dir "$work/d"
    run ok "moved 2 later checkpoint" "${cfg[@]}" --set run.steps=80 --resume "$work/d/ckpt-000000000020.ckpt" \
      --checkpoint-dir "$work/d" --rewind
    # A resumed file alone infers no directory, and says so.
    run ok "a file, so no checkpoints will be written" "${cfg[@]}" --set run.steps=90 \
      --resume "$work/d/ckpt-000000000080.ckpt"
    [ -f "$work/d/rewound-20/ckpt-000000000060.ckpt" ] || { echo "FAIL: later checkpoints not kept"; exit 1; }
    ;;
  resume_keeps_checkpointing)
    run ok "checkpoint" "${cfg[@]}" --set run.steps=40 --checkpoint-dir "$work/d"
    run ok "step 80: checkpoint .*/d/ckpt-000000000080.ckpt" "${cfg[@]}" --set run.steps=80 --resume "$work/d"
    ;;
  other_runs_checkpoints_kept)
    run ok "checkpoint" "${cfg[@]}" --set run.steps=60 --set run.checkpoint_every=20 --checkpoint-dir "$work/b"
    run ok "checkpoint" "${cfg[@]}" --set run.steps=40 --checkpoint-dir "$work/a"
    before=$(ls -l --time-style=+%s.%N "$work/b")
    run fail "holds checkpoints of another run" "${cfg[@]}" --set run.steps=100 --resume "$work/a" --checkpoint-dir "$work/b"
    [ "$before" = "$(ls -l --time-style=+%s.%N "$work/b")" ] || { echo "FAIL: $work/b changed"; exit 1; }
    ;;
  steps_not_beyond_checkpoint)
    run ok "checkpoint" "${cfg[@]}" --set run.steps=100 --checkpoint-dir "$work/d"
    run fail "key 'run.steps' = 60 is not beyond step 100" "${cfg[@]}" --set run.steps=60 --resume "$work/d"
    ;;
  stale_temp_files_removed)
    run ok "checkpoint" "${cfg[@]}" --set run.steps=20 --checkpoint-dir "$work/d"
    head -c 1000 /dev/zero >"$work/d/.ckpt-000000000040.ckpt.tmp-4242-0"
    run ok "removed 1 temp file" "${cfg[@]}" --set run.steps=40 --resume "$work/d"
    no_temp_files "$work/d"
    ;;
  metrics_write_error)  # the server's metrics file fills a 16 KiB tmpfs mid-run
    tmpfs "$work/small" 16k
    run fail "rank 0\].*write failed: No space left" "${cfg[@]}" --set run.steps=5000 --set run.log_every=1 \
      --metrics "$work/small/m.csv"
    ;;
  failed_setup_touches_no_file)
    echo "old,row" >"$work/m.csv"
    run fail "needs mpirun -np 4" "${cfg[@]}" --set cluster.workers=3 --metrics "$work/m.csv" --overwrite
    [ "$(cat "$work/m.csv")" = "old,row" ] || { echo "FAIL: m.csv was changed by a run that never started"; exit 1; }
    run fail "run.threads" "${cfg[@]}" --set run.threads=999 --metrics "$work/new.csv"
    [ ! -e "$work/new.csv" ] || { echo "FAIL: a failed setup created new.csv"; exit 1; }
    ;;
  config_is_directory)
    run fail "config file '.*': not a regular file \(a directory\)" train "$work"
    ;;
  *) echo "unknown case $case_"; exit 2 ;;
esac
echo PASS
