#!/usr/bin/env bash
# Runs `signvote-bench step` and bench/peer_pytorch_resnet18.py back to back
# at 1 and 2 threads (same model, batch, width, iterations) and prints one
# JSON object with both images/s numbers and ratio = signvote / pytorch.
# The peer runs its fastest CPU setting: it times contiguous and channels_last
# and reports the faster (memory_format in its JSON).
#
#   bench/run_step_vs_pytorch.sh [BUILD_DIR] [BATCH] [WIDTH] [ITERS] [CONV]
#   defaults:                     build      32      64      10      (model default:
#                                                                    dnnl_wino, dnnl, eigen)
# Each (threads) pair is measured twice, alternating signvote and PyTorch,
# and the better run of each is kept, so a burst of load from other
# processes on a shared machine hurts both sides alike. /proc/loadavg is
# recorded before and after so a loaded run can be recognised.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
build="${1:-$here/../build}"
batch="${2:-32}"
width="${3:-64}"
iters="${4:-10}"
conv="${5:-}"
conv_opt=()
[[ -n "$conv" ]] && conv_opt=(--conv "$conv")
bench="$build/signvote-bench"
[[ -x "$bench" ]] || { echo "no $bench (build target signvote-bench)" >&2; exit 1; }

# The peer: Debian's python3-torch (CPU). Installed here when missing and we
# may (root, or password-less sudo); otherwise one line saying how.
if ! /usr/bin/python3 -c 'import torch' 2>/dev/null; then
  how="apt-get install --no-install-recommends python3-torch"
  sudo=()
  [[ "$(id -u)" -eq 0 ]] || sudo=(sudo -n)
  if [[ "$(id -u)" -ne 0 ]] && ! sudo -n true 2>/dev/null; then
    echo "run_step_vs_pytorch: PyTorch (python3-torch) is missing; as root run: $how" >&2
    exit 1
  fi
  echo "run_step_vs_pytorch: installing python3-torch" >&2
  if ! { "${sudo[@]}" apt-get update -qq &&
         DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends \
           python3-torch; } >/dev/null 2>&1 || ! /usr/bin/python3 -c 'import torch' 2>/dev/null; then
    echo "run_step_vs_pytorch: could not install python3-torch; as root run: apt-get update && $how" >&2
    exit 1
  fi
fi

field() {  # field NAME JSON -> numeric value
  /usr/bin/python3 -c 'import json,sys; print(json.loads(sys.argv[2])[sys.argv[1]])' "$1" "$2"
}
best() { /usr/bin/python3 -c 'import sys; print(max(float(a) for a in sys.argv[1:]))' "$@"; }

load_start="$(cut -d' ' -f1-3 /proc/loadavg)"
results=()
for t in 1 2; do
  ours=() theirs=()
  last_ours="" last_theirs=""
  for rep in 1 2; do
    last_ours="$("$bench" step --model resnet18 --batch "$batch" --width "$width" \
      --threads "$t" --iters "$iters" "${conv_opt[@]}" --json)"
    ours+=("$(field images_per_s "$last_ours")")
    last_theirs="$(OMP_NUM_THREADS="$t" /usr/bin/python3 "$here/peer_pytorch_resnet18.py" \
      --threads "$t" --batch "$batch" --width "$width" --iters "$iters")"
    theirs+=("$(field images_per_s "$last_theirs")")
  done
  o="$(best "${ours[@]}")"
  p="$(best "${theirs[@]}")"
  r="$(/usr/bin/python3 -c "print(round($o / $p, 3))")"
  results+=("\"threads_$t\":{\"signvote_images_per_s\":$o,\"pytorch_images_per_s\":$p,\"ratio\":$r,\"signvote_runs\":[$(IFS=,; echo "${ours[*]}")],\"pytorch_runs\":[$(IFS=,; echo "${theirs[*]}")],\"signvote_last\":$last_ours}")
done
load_end="$(cut -d' ' -f1-3 /proc/loadavg)"
echo "{\"model\":\"resnet18\",\"loadavg_start\":\"$load_start\",\"loadavg_end\":\"$load_end\",\"batch\":$batch,\"width\":$width,\"iters\":$iters,$(IFS=,; echo "${results[*]}")}"
