#!/usr/bin/env bash
# check_deb.sh CPACK BUILD_DIR OUT VERSION [PYTHON=ON|OFF]
# Builds the Debian package and checks what a cluster node would get: the
# file name, Depends computed by dpkg-shlibdeps (libopenmpi, yaml-cpp),
# openmpi-bin for mpirun, no CUDA library, and the files on PATH; with
# PYTHON=ON the Python package where Debian's python3 finds it, and python3.
set -euo pipefail
cpack=$1 build=$2 out=$3 version=$4 python=${5:-OFF}
rm -rf "$out"
mkdir -p "$out"
(cd "$build" && "$cpack" -G DEB -B "$out" >"$out/cpack.log" 2>&1) || { cat "$out/cpack.log" >&2; exit 1; }
deb="$out/signvote_${version}_amd64.deb"
[ -f "$deb" ] || { echo "deb: $deb not made; got: $(ls "$out")" >&2; exit 1; }
depends=$(dpkg-deb -f "$deb" Depends)
echo "deb: Depends: $depends"
for want in libopenmpi libyaml-cpp libc6 openmpi-bin; do
  grep -q "$want" <<<"$depends" || { echo "deb: Depends lacks $want" >&2; exit 1; }
done
if grep -qi "cuda\|cudnn\|nccl\|cublas" <<<"$depends"; then
  echo "deb: a CUDA library is a hard dependency" >&2; exit 1
fi
files=$(dpkg-deb -c "$deb")
for f in ./usr/bin/signvote ./usr/bin/signvote-bench ./usr/bin/signvote-mpirun ./usr/share/signvote/configs/toy_quadratic.yaml \
         ./usr/include/signvote/protocol.h; do
  grep -q " $f\$" <<<"$files" || { echo "deb: $f missing" >&2; exit 1; }
done
if [ "$python" = ON ]; then
  grep -q "python3 (>= 3" <<<"$depends" || { echo "deb: Depends lacks python3" >&2; exit 1; }
  ! grep -q "python3 (<<" <<<"$depends" || { echo "deb: python3 pinned to one minor version (the module has no Python ABI)" >&2; exit 1; }
  ! grep -q "libsignvote_test_hooks" <<<"$files" || { echo "deb: the tests' helper library is packaged" >&2; exit 1; }
  grep -q " ./usr/lib/python3/dist-packages/signvote/__init__.py\$" <<<"$files" &&
    grep -q " ./usr/lib/python3/dist-packages/signvote/_signvote.py\$" <<<"$files" &&
    grep -q " ./usr/lib/python3/dist-packages/signvote/libsignvote_native.so\$" <<<"$files" ||
    { echo "deb: the Python package is missing from usr/lib/python3/dist-packages/signvote" >&2; exit 1; }
fi
echo "deb: $(basename "$deb") ok"
