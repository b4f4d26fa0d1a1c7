#!/usr/bin/env bash
# Builds and gathers what scripts/gpu_check.sh needs into one folder, to copy
# to a GPU machine that lacks Debian's libraries (Open MPI, yaml-cpp, spdlog):
#
#   BUNDLE/bin/        signvote, signvote-bench, the GPU test binaries,
#                      make_cifar_fixture, mpirun (Open MPI's orterun), orted
#   BUNDLE/lib/        their shared libraries from ldd, except glibc's and
#                      the CUDA libraries (cudart, cuDNN, cuBLAS, NCCL: the
#                      GPU machine has its own; gpu_check.sh finds them)
#   BUNDLE/openmpi/    Open MPI's plugins and help texts (relocated with
#                      OPAL_PREFIX and friends by gpu_check.sh)
#   BUNDLE/pmix/       PMIx's plugins and help texts (PMIX_PREFIX and friends)
#   BUNDLE/python/     the signvote Python package (its native library is
#                      plain C ABI + ctypes: any Python 3 loads it)
#   BUNDLE/scripts/gpu_check*.sh, tests/mpi/, tests/python/, configs/,
#   bench/peer_pytorch_resnet18.py, MANIFEST (files, sizes, glibc needed)
#
#   scripts/gpu_bundle.sh [BUNDLE_DIR] [BUILD_DIR]
#       defaults: build-gpu/gpu-bundle, build-gpu
#
# BUILD_DIR is configured here when it has no cache yet: Release, the cuda
# workers required, oneDNN off (the CPU convolutions do not matter on the GPU
# machine, and libdnnl alone is ~40 MB), and only the targets the check runs
# are built. Needs what scripts/setup.sh installs plus the CUDA toolkit,
# cuDNN and NCCL in /usr/local/cuda. Fails when the bundle exceeds 40 MB
# (the device copy carries at most 64 MiB in all), and prints its size.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
build=${2:-$repo/build-gpu}
out=${1:-$build/gpu-bundle}
limit_bytes=$((40 * 1000 * 1000))

if [ ! -f "$build/CMakeCache.txt" ]; then
  cmake -S "$repo" -B "$build" -DCMAKE_BUILD_TYPE=Release -DSIGNVOTE_CUDA=ON -DSIGNVOTE_DNNL=OFF -DSIGNVOTE_PYTHON=ON
fi
build=$(cd "$build" && pwd)
targets=(signvote signvote-bench test_sign_kernels_cuda test_layers_cuda test_model_cuda test_nhwc_cuda test_nccl make_cifar_fixture
         signvote_python signvote_test_hooks)
cmake --build "$build" -j"$(nproc)" --target "${targets[@]}"

exe() {  # a built binary by name, anywhere in the build tree
  local f
  f=$(find "$build" -name "$1" -type f -perm -u+x -not -path '*/CMakeFiles/*' | head -1)
  [ -n "$f" ] || { echo "gpu_bundle: $1 was not built in $build" >&2; exit 1; }
  echo "$f"
}
bins=()
for b in signvote signvote-bench test_sign_kernels_cuda test_layers_cuda test_model_cuda test_nhwc_cuda test_nccl \
         make_cifar_fixture; do
  bins+=("$(exe "$b")")
done
orterun=$(readlink -f "$(command -v mpirun)")
orted=$(readlink -f "$(dirname "$(command -v mpirun)")/orted")  # also started by a singleton MPI_Init
pkglib=$(ompi_info --path pkglibdir --parsable | sed 's/^path:pkglibdir://')
pkgdata=$(ompi_info --path pkgdatadir --parsable | sed 's/^path:pkgdatadir://')

rm -rf --one-file-system "$out"
mkdir -p "$out"/{bin,lib,openmpi/lib,openmpi/share,scripts,tests/mpi,tests/python,bench,python}
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
# PMIx's own plugins and help texts (relocated with PMIX_PREFIX and friends).
libpmix=$(ldd "$pkglib"/*.so 2>/dev/null | awk '$1 ~ /^libpmix\.so/ {print $3}' | sort -u | head -1)
pmix=$(dirname "$(dirname "$(readlink -f "${libpmix:-/nonexistent/lib/x}")")")
if [ -d "$pmix/lib/pmix" ]; then
  mkdir -p "$out/pmix/lib" "$out/pmix/share"
  cp -r "$pmix/lib/pmix" "$out/pmix/lib/"
  cp -r "$pmix/share/pmix" "$out/pmix/share/"
fi
cp "$repo"/scripts/gpu_check.sh "$repo"/scripts/gpu_check_lib.sh "$repo"/scripts/gpu_check_cases.sh "$out/scripts/"
cp "$repo/tests/mpi/gpu_checks.sh" "$repo/tests/mpi/net_fixture.sh" "$out/tests/mpi/"
cp "$repo"/tests/python/*.py "$out/tests/python/"
cp -r "$repo/configs" "$out/"
cp "$repo/bench/peer_pytorch_resnet18.py" "$out/bench/"
cp -rL "$build/python/signvote" "$out/python/"
rm -rf "$out/python/signvote/__pycache__"
find "$build/tests/python" -maxdepth 1 -name '*.so' -exec cp {} "$out/tests/python/" \;

# Shared libraries of the binaries, the Python package's native library and
# Open MPI's plugins, minus glibc (the loader's own), the kernel's vDSO and
# the CUDA libraries.
skip='^(linux-vdso|ld-linux|libc\.so|libm\.so|libdl\.so|libpthread\.so|librt\.so|libcuda\.so|libcudart|libcudnn|libcublas|libnccl|libnvrtc|libnvJitLink)'
natives=("$out"/python/signvote/*.so "$out"/tests/python/*.so)
plugins=("$out"/openmpi/lib/*/*.so)
[ ! -d "$out/pmix/lib/pmix" ] || plugins+=("$out"/pmix/lib/pmix/*.so)
mapfile -t libs < <(ldd "${bins[@]}" "$orterun" "$orted" "${plugins[@]}" "${natives[@]}" 2>/dev/null |
  awk '$2 == "=>" && $3 ~ /^\// {print $3}' | sort -u)
for l in "${libs[@]}"; do
  name=$(basename "$l")
  [[ "$name" =~ $skip ]] && continue
  cp -L "$l" "$out/lib/$name"
done

# Symbol tables are not needed to run (a few MB of the limit).
strip --strip-unneeded "$out"/bin/* "$out"/lib/*.so* "${natives[@]}"
glibc=$(for f in "$out"/bin/* "$out"/lib/*.so* "${natives[@]}"; do objdump -T "$f" 2>/dev/null; done |
  grep -o 'GLIBC_2\.[0-9]*' | sort -t. -k2 -n -u | tail -1)
bytes=$(du -sb "$out" | cut -f1)
size=$(awk -v b="$bytes" 'BEGIN { printf "%.1f MB", b / 1e6 }')
{
  echo "signvote GPU bundle from $(git -C "$repo" rev-parse --short HEAD 2>/dev/null || echo unknown) on $(date -u +%F)"
  echo "needs: $glibc or newer; CUDA 13 runtime, cuDNN 9, cuBLAS and NCCL 2 on the GPU machine"
  echo "size: $size"
  (cd "$out" && find . -type f -printf '%s %p\n' | sort -k2)
} > "$out/MANIFEST"
if [ "$bytes" -gt "$limit_bytes" ]; then
  echo "gpu_bundle: $out is $size, over the 40 MB limit (largest: $(cd "$out" && du -ab | sort -rn | sed -n 2,4p | tr '\t\n' ' '))" >&2
  exit 1
fi
echo "gpu_bundle: $out ($size of 40 MB, needs $glibc); run there: $out/scripts/gpu_check.sh [LOG_DIR]"
