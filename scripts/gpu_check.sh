#!/usr/bin/env bash
# The one command for a GPU machine: every GPU code path once, against its
# CPU twin, and the performance lines against their targets. One JSON line
# per case on stdout (and in LOG_DIR/check.jsonl); the first line is the
# preflight, the last line is always the summary.
#
#   scripts/gpu_check.sh [LOG_DIR]          from a build tree (build/)
#   BUNDLE/scripts/gpu_check.sh [LOG_DIR]   from scripts/gpu_bundle.sh's folder
#
# LOG_DIR (default $OUT when set, else ./gpu-check-logs) receives every
# case's full log. Settings (this script's own, read here only):
#   GPU_CHECK_BUDGET_S   the whole check's deadline in seconds (default 420):
#                        each case's timeout comes out of what is left, and
#                        a case that no longer fits says "skipped": "budget"
#   GPU_CHECK_CUDA_LIBS  extra folders (a:b:c) to look for the CUDA libraries in
#   GPU_CHECK_ONLY       a regex of case names to run (the others say skipped)
#   GPU_CHECK_PYTHON     the Python with torch (default: python3 on PATH)
#
# A case runs when what it needs is there (its binary's shared libraries,
# a GPU, torch with CUDA); otherwise it says "skipped": "<what is missing>".
# Exit status: 0 when no case failed or missed its target, 1 otherwise.
set -euo pipefail
start=$SECONDS
budget=${GPU_CHECK_BUDGET_S:-420}
[[ "$budget" =~ ^[0-9]+$ ]] || { echo "gpu_check: GPU_CHECK_BUDGET_S=$budget is not a number of seconds" >&2; exit 2; }
deadline=$((start + budget))
reserve=8  # seconds kept for the summary and timeout's kill grace
here=$(cd "$(dirname "$0")/.." && pwd)
source "$here/scripts/gpu_check_lib.sh"
logs=${1:-${OUT:-$PWD/gpu-check-logs}}
mkdir -p "$logs"
logs=$(cd "$logs" && pwd)
: > "$logs/check.jsonl"

if [ -x "$here/bin/signvote" ]; then  # a bundle: its own lib/ first, its own Open MPI
  bin=$here/bin
  find_exe() { [ -x "$bin/$1" ] && echo "$bin/$1"; }
  pkglib=$(ls -d "$here"/openmpi/lib/*/ | head -1)
  export LD_LIBRARY_PATH="$here/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
  export OPAL_PREFIX="$here/openmpi" OPAL_BINDIR="$here/bin" OPAL_LIBDIR="$here/lib" OPAL_PKGLIBDIR="${pkglib%/}" \
         OPAL_PKGDATADIR="$here/openmpi/share/openmpi" OPAL_SYSCONFDIR="$here/openmpi/etc" OPAL_DATADIR="$here/openmpi/share"
  [ ! -d "$here/pmix" ] || export PMIX_PREFIX="$here/pmix" PMIX_PKGLIBDIR="$here/pmix/lib/pmix" \
                                 PMIX_PKGDATADIR="$here/pmix/share/pmix"
  mpirun_bin=$here/bin/mpirun
  pypath=$here/python
else
  bin=$here/build
  find_exe() { [ -x "$bin/$1" ] && { echo "$bin/$1"; return; }; find "$bin/tests" -name "$1" -type f -perm -u+x | head -1; }
  mpirun_bin=$(command -v mpirun || true)
  pypath=$here/build/python
fi
py=${GPU_CHECK_PYTHON:-$(command -v python3 || true)}

# The cases' data sets and checkpoints go to a scratch folder, removed at
# exit: LOG_DIR keeps only what is worth carrying back (logs, check.jsonl).
scratch=$(mktemp -d "${TMPDIR:-/tmp}/signvote-gpu-check.XXXXXX")
summary_done=0 broke_at="?"
set -E
trap 'broke_at="${BASH_SOURCE[0]##*/}:$LINENO: $BASH_COMMAND"' ERR
on_exit() {  # the last line is the summary, even when this script itself breaks
  local rc=$?
  rm -rf --one-file-system "$scratch"
  [ "$summary_done" = 1 ] && return
  emit check=summary status=fail error="gpu_check.sh stopped (exit $rc) at $broke_at" \
       seconds:=$((SECONDS - start)) logs="$logs"
  exit 1
}
trap on_exit EXIT

# Without ssh or rsh (a container), Open MPI's rsh launcher refuses to start
# even for ranks on this node, and so does a singleton MPI_Init (signvote
# devices in the preflight); the check is one node: leave it out.
command -v ssh > /dev/null || command -v rsh > /dev/null || export OMPI_MCA_plm=^rsh
preflight
glibc_ok || skip_all="glibc $glibc_have is older than the bundle's $glibc_need"
mpirun=("$mpirun_bin" --oversubscribe --mca pml ob1 --bind-to none)
[ "$(id -u)" -ne 0 ] || mpirun+=(--allow-run-as-root)

# --- on the device alone: the kernels, the layers, the model (NCHW, NHWC), NCCL --
run_test kernels_cuda 90 test_sign_kernels_cuda
run_test layers_cuda 120 test_layers_cuda
run_test model_cuda 150 test_model_cuda
run_test nhwc_cuda 120 test_nhwc_cuda
run_test nccl_1rank 60 test_nccl

# --- the benchmarks: targets fail the summary --------------------------------
step_line tf32
step_line fp32
kernels_line

# --- MPI: 1 server + 2 cuda workers, NCCL across 2 GPUs, the PyTorch binding --
fixture=$(find_exe make_cifar_fixture || true)
for mode in nodevice replicas allreduce resume compose; do
  run_mpi_case "mpi_$mode" 150 "$here/tests/mpi/gpu_checks.sh" "$mode" "$(find_exe signvote || true)" "$fixture" \
    "$scratch/mpi_$mode" "${mpirun[@]}"
done
nccl_2rank_case
binding_case

finish
