#!/usr/bin/env bash
# Gathers what scripts/gpu_check.sh needs into one folder, to copy to a GPU
# machine that lacks Debian's libraries (Open MPI, yaml-cpp, spdlog, oneDNN):
#
#   BUNDLE/bin/        signvote, signvote-bench, the GPU test binaries,
#                      make_cifar_fixture, mpirun (Open MPI's orterun), orted
#   BUNDLE/lib/        their shared libraries from ldd, except glibc's and
#                      the CUDA libraries (cudart, cuDNN, cuBLAS, NCCL: the
#                      GPU machine has its own, gpu_check.sh finds them)
#   BUNDLE/openmpi/    Open MPI's plugins and help texts (relocated with
#                      OPAL_PREFIX and friends by gpu_check.sh)
#   BUNDLE/scripts/gpu_check.sh, tests/mpi/gpu_checks.sh, configs/,
#   bench/peer_pytorch_resnet18.py, MANIFEST (files, sizes, glibc needed)
#
#   scripts/gpu_bundle.sh [BUILD_DIR] [BUNDLE_DIR]   (defaults: build, build/gpu-bundle)
#
# Fails when the build has no cuda workers, a binary is missing, or the
# bundle exceeds 60 MB.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "${1:-$repo/build}" && pwd)
out=${2:-$build/gpu-bundle}
limit_mb=60

bins=("$build/signvote" "$build/signvote-bench" "$build/tests/kernels/test_sign_kernels_cuda"
      "$build/tests/cuda/test_layers_cuda" "$build/tests/cuda/test_model_cuda" "$build/tests/mpi/make_cifar_fixture")
for b in "${bins[@]}"; do
  [ -x "$b" ] || { echo "gpu_bundle: missing $b (build with the CUDA toolkit, cuDNN and NCCL in /usr/local/cuda)" >&2; exit 1; }
done
orterun=$(readlink -f "$(command -v mpirun)")
orted=$(readlink -f "$(dirname "$(command -v mpirun)")/orted")  # also started by a singleton MPI_Init
pkglib=$(ompi_info --path pkglibdir --parsable | sed 's/^path:pkglibdir://')
pkgdata=$(ompi_info --path pkgdatadir --parsable | sed 's/^path:pkgdatadir://')

rm -rf "$out"
mkdir -p "$out"/{bin,lib,openmpi/lib,openmpi/share,scripts,tests/mpi,bench}
cp "${bins[@]}" "$orterun" "$orted" "$out/bin/"
[ "$(basename "$orterun")" = mpirun ] || mv "$out/bin/$(basename "$orterun")" "$out/bin/mpirun"
# Open MPI's plugins for one node's shared memory and TCP; the fabric ones
# (OFI, UCX, PSM, verbs) and OpenSHMEM's would pull in their libraries.
mkdir -p "$out/openmpi/lib/$(basename "$pkglib")" "$out/openmpi/etc"
deny='(ofi|ucx|psm|openib|uct|scoll|spml|sshmem|memheap|atomic_)'
for p in "$pkglib"/*.so; do
  [[ "$(basename "$p")" =~ $deny ]] || cp "$p" "$out/openmpi/lib/$(basename "$pkglib")/"
done
cp -r "$pkgdata" "$out/openmpi/share/"
sysconf=$(ompi_info --path sysconfdir --parsable | sed 's/^path:sysconfdir://')
cp "$sysconf/openmpi-mca-params.conf" "$out/openmpi/etc/"
cp "$repo/scripts/gpu_check.sh" "$out/scripts/"
cp "$repo/tests/mpi/gpu_checks.sh" "$repo/tests/mpi/net_fixture.sh" "$out/tests/mpi/"
cp -r "$repo/configs" "$out/"
cp "$repo/bench/peer_pytorch_resnet18.py" "$out/bench/"

# Shared libraries of the binaries and of Open MPI's plugins, minus glibc
# (the loader's own), the kernel's vDSO and the CUDA libraries.
skip='^(linux-vdso|ld-linux|libc\.so|libm\.so|libdl\.so|libpthread\.so|librt\.so|libcuda\.so|libcudart|libcudnn|libcublas|libnccl|libnvrtc|libnvJitLink)'
mapfile -t libs < <(ldd "${bins[@]}" "$orterun" "$orted" "$out"/openmpi/lib/*/*.so 2>/dev/null |
  awk '$2 == "=>" && $3 ~ /^\// {print $3}' | sort -u)
for l in "${libs[@]}"; do
  name=$(basename "$l")
  [[ "$name" =~ $skip ]] && continue
  cp -L "$l" "$out/lib/$name"
done

# Symbol tables are not needed to run (a few MB of the limit).
strip --strip-unneeded "$out"/bin/* "$out"/lib/*.so*
glibc=$(for f in "$out"/bin/* "$out"/lib/*.so*; do objdump -T "$f" 2>/dev/null; done |
  grep -o 'GLIBC_2\.[0-9]*' | sort -t. -k2 -n -u | tail -1)
size_mb=$(du -sm "$out" | cut -f1)
{
  echo "signvote GPU bundle from $(git -C "$repo" rev-parse --short HEAD 2>/dev/null || echo unknown) on $(date -u +%F)"
  echo "needs: $glibc or newer; CUDA 13 runtime, cuDNN 9, cuBLAS and NCCL on the GPU machine"
  echo "size: ${size_mb} MB"
  (cd "$out" && find . -type f -printf '%s %p\n' | sort -k2)
} > "$out/MANIFEST"
if [ "$size_mb" -ge "$limit_mb" ]; then
  echo "gpu_bundle: $out is ${size_mb} MB, over the ${limit_mb} MB limit" >&2
  exit 1
fi
echo "gpu_bundle: $out (${size_mb} MB, needs $glibc); run there: $out/scripts/gpu_check.sh"
