#!/usr/bin/env bash
# check_deb.sh CPACK BUILD_DIR OUT VERSION
# Builds the Debian package and checks what a cluster node would get: the
# file name, Depends computed by dpkg-shlibdeps (libopenmpi, yaml-cpp),
# openmpi-bin for mpirun, no CUDA library, and the files on PATH.
set -euo pipefail
cpack=$1 build=$2 out=$3 version=$4
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
echo "deb: $(basename "$deb") ok"
