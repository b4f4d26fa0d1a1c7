# Sourced by scripts/gpu_check_lib.sh: the cases that are more than one
# binary -- the performance lines against their targets, NCCL across two
# GPUs, the PyTorch binding -- and the summary.

json_number() {  # json_number KEY FILE: the first "KEY": number in the file's last JSON line
  grep '^{' "$2" 2>/dev/null | tail -1 | grep -o "\"$1\": *[-0-9.eE+]*" | head -1 | sed 's/.*: *//' || true
}
json_line() { grep '^{' "$1" 2>/dev/null | tail -1 || true; }
ratio_of() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.3f", a / b; else print 0 }'; }
at_least() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a + 0 >= b + 0) }'; }
bench_layouts() {  # the model layouts this signvote-bench offers (nhwc when built with it)
  if "$1" step --help 2>/dev/null | grep -q -- '--layout'; then echo "nchw nhwc"; else echo "nchw"; fi
}

# step_line MATH: ResNet-18 width 64, batch 128 on the GPU, ours at each
# model layout against PyTorch eager at its faster memory format (both
# timed by the peer), same GPU, same run. Target: ours (best layout) >= 1.0x.
step_line() {
  local math=$1 name=step_$1 exe why layout best=0 best_layout="" ours="" peer
  exe=$(find_exe signvote-bench || true)
  why=$(why_not "$name" "$exe")
  [ -n "$why" ] || [ "$gpus" -gt 0 ] || why="no GPU visible"
  [ -n "$why" ] || [ "$torch_cuda" = true ] || why="no torch with CUDA for the PyTorch peer (python: ${py:-none}, torch: ${torch_version:-none})"
  if [ -n "$why" ]; then skip "$name" "$why"; return; fi
  for layout in $(bench_layouts "$exe"); do
    local args=(step --device cuda --math "$math" --width 64 --batch 128 --iters 30 --warmup 5 --json)
    [ "$layout" = nchw ] || args+=(--layout "$layout")
    run_logged "${name}_$layout" 90 "$exe" "${args[@]}"
    if [ "$rc" != 0 ]; then report "${name}_$layout"; return; fi
    local ips
    ips=$(json_number images_per_s "$log")
    ours+="${ours:+, }\"$layout\": $(json_line "$log")"
    if at_least "$ips" "$best"; then best=$ips best_layout=$layout; fi
  done
  run_logged "${name}_pytorch" 150 "$py" "$here/bench/peer_pytorch_resnet18.py" --device cuda --math "$math" \
    --width 64 --batch 128 --iters 30 --warmup 5
  if [ "$rc" != 0 ]; then report "${name}_pytorch"; return; fi
  peer=$(json_number images_per_s "$log")
  local r status=ok
  r=$(ratio_of "$best" "$peer")
  at_least "$r" 1.0 || status=below_target
  count "$status" "$name"
  emit check="$name" status="$status" model=resnet18 width:=64 batch:=128 target:=1.0 ratio:="$r" \
       signvote_images_per_s:="$best" signvote_layout="$best_layout" pytorch_images_per_s:="$peer" \
       signvote:="{$ours}" pytorch:="$(json_line "$log")"
}

# kernels_line: Signum's momentum+pack and the apply against a device-to-device
# copy of the same bytes (the NaN counters are reset outside the timed loop).
kernels_line() {
  local name=kernels_vs_copy exe why
  exe=$(find_exe signvote-bench || true)
  why=$(why_not "$name" "$exe")
  [ -n "$why" ] || [ "$gpus" -gt 0 ] || why="no GPU visible"
  if [ -n "$why" ]; then skip "$name" "$why"; return; fi
  run_logged "$name" 90 "$exe" kernels-cuda --dim 11173962 --workers 27 --reps 30 --json
  if [ "$rc" != 0 ]; then report "$name"; return; fi
  local mp ap status=ok
  mp=$(json_number momentum_pack_ratio "$log")
  ap=$(json_number apply_ratio "$log")
  at_least "$mp" 0.8 && at_least "$ap" 0.8 || status=below_target
  count "$status" "$name"
  emit check="$name" status="$status" target:=0.8 momentum_pack_ratio:="${mp:-0}" apply_ratio:="${ap:-0}" \
       bench:="$(json_line "$log")"
}

# nccl_2rank_case: the NCCL all-reduce across two ranks on two GPUs.
nccl_2rank_case() {
  local name=nccl_2rank exe why
  exe=$(find_exe test_nccl || true)
  why=$(why_not "$name" "$exe")
  [ -n "$why" ] || [ "$gpus" -ge 2 ] || why="needs 2 GPUs, $gpus visible"
  [ -n "$why" ] || [ -n "$mpirun_bin" ] || why="no mpirun"
  if [ -n "$why" ]; then skip "$name" "$why"; return; fi
  run_logged "$name" 90 "${mpirun[@]}" -np 2 "$exe" --ranks 2
  report "$name"
}

# binding_case: the PyTorch binding's workers on CUDA tensors against CPU
# tensors (and on cuda:1 with device 0 current, when two GPUs are visible).
binding_case() {
  local name=binding_cuda sv why
  sv=$(find_exe signvote || true)
  why=$(why_not "$name" "$sv")
  [ -n "$why" ] || [ -f "$here/tests/python/run_binding_test.py" ] || why="tests/python not in this tree"
  [ -n "$why" ] || [ -d "$pypath/signvote" ] || why="no Python package at $pypath"
  [ -n "$why" ] || [ "$torch_cuda" = true ] || why="no torch with CUDA (python: ${py:-none}, torch: ${torch_version:-none})"
  if [ -n "$why" ]; then skip "$name" "$why"; return; fi
  run_logged "$name" 150 "$py" "$here/tests/python/run_binding_test.py" cuda --signvote "$sv" \
    --pythonpath "$pypath" --work "$scratch/$name" --mpirun "${mpirun[*]}"
  report "$name"
}

finish() {
  local status=ok
  ((n_fail == 0 && n_below == 0)) || status=fail
  summary_done=1
  emit check=summary status="$status" ok:="$n_ok" failed:="$n_fail" below_target:="$n_below" skipped:="$n_skipped" \
       failing:="$(jlist $failed_names)" seconds:=$((SECONDS - start)) budget_s:="$budget" logs="$logs"
  [ "$status" = ok ]
}
