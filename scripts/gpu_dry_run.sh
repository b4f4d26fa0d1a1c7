#!/usr/bin/env bash
# Runs a GPU bundle (scripts/gpu_bundle.sh) the way the GPU machine will, in
# a fresh Debian 12 minbase root: none of Debian's -dev packages, no Python,
# no Open MPI but the bundle's own. This machine's CUDA libraries are bound
# read-only at /opt/cuda (there is no GPU and no driver here), so:
#   run 1, every CUDA library there: the preflight, the no-device case and
#          the bundled mpirun must work; every other case says skipped;
#   run 2, NCCL hidden: the cases whose binaries need NCCL say so and are
#          skipped, the others run as in run 1; the check still ends with
#          its summary line.
# Prints both runs' JSON lines; exits non-zero when a run's output breaks
# these rules.
#
#   scripts/gpu_dry_run.sh BUNDLE_DIR [WORK_DIR]   (default /var/tmp/signvote-gpu-dry)
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
bundle=$(cd "${1:?usage: gpu_dry_run.sh BUNDLE_DIR [WORK_DIR]}" && pwd)
work=${2:-/var/tmp/signvote-gpu-dry}
cuda=${CUDA_HOME:-/usr/local/cuda}
source "$repo/scripts/chroot_lib.sh"
need_debootstrap
[ -d "$cuda/lib64" ] || { echo "gpu_dry_run: no CUDA libraries at $cuda/lib64" >&2; exit 1; }

# The minbase root is made once and kept pristine in WORK_DIR/base; each
# run works on a copy of it in WORK_DIR/run.
base=$work/base
if [ ! -f "$base/.signvote-minbase" ]; then
  fresh_dir "$base"
  echo "gpu_dry_run: debootstrap bookworm minbase into $base"
  debootstrap --variant=minbase bookworm "$base" "$(debian_mirror)" > "$work/debootstrap.log" 2>&1
  touch "$base/.signvote-minbase"
fi
fresh_dir "$work/run"
root=$work/run/root
cp -a "$base" "$root"
cp -a "$bundle" "$root/opt/bundle"
enter "$root"
bind_ro "$(readlink -f "$cuda/lib64")" "$root/opt/cuda/lib64"
# NCCL hidden: the same libraries, linked one by one, but libnccl.
mkdir -p "$root/opt/cuda-no-nccl"
for f in "$root"/opt/cuda/lib64/*.so*; do
  case $(basename "$f") in libnccl*) ;; *) ln -s "/opt/cuda/lib64/$(basename "$f")" "$root/opt/cuda-no-nccl/" ;; esac
done
! chroot "$root" /bin/sh -c 'command -v python3 || ls /usr/include/*.h' > /dev/null 2>&1 ||
  { echo "gpu_dry_run: the root is not bare (python3 or headers present)" >&2; exit 1; }

check_run() {  # check_run NAME CUDA_DIRS: runs the bundle's check, then the rules on its lines
  local name=$1 out=$work/run/$1.jsonl rc=0
  echo "gpu_dry_run: $name (GPU_CHECK_CUDA_LIBS=$2)"
  chroot "$root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root GPU_CHECK_CUDA_LIBS="$2" \
    GPU_CHECK_BUDGET_S=180 /opt/bundle/scripts/gpu_check.sh "/opt/logs-$name" > "$out" 2> "$work/run/$name.err" || rc=$?
  cat "$out"
  DRY_RC=$rc "$repo/scripts/gpu_dry_run_rules.py" "$name" "$out"
}
check_run all /opt/cuda/lib64
check_run no_nccl /opt/cuda-no-nccl
echo "gpu_dry_run: PASS (logs: $root/opt/logs-all, $root/opt/logs-no_nccl)"
