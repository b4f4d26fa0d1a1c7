#!/usr/bin/env bash
# install_consumer.sh CMAKE BUILD_DIR CONSUMER_SRC WORK
# Installs BUILD_DIR into WORK/prefix, builds the consumer project against it
# (public headers only: src/ is nowhere on its include path) and runs it.
set -euo pipefail
cmake=$1 build=$2 src=$3 work=$4
rm -rf "$work"
mkdir -p "$work"
"$cmake" --install "$build" --prefix "$work/prefix" >"$work/install.log"
for f in bin/signvote bin/signvote-bench include/signvote/config.h \
         share/signvote/configs/toy_quadratic.yaml; do
  [ -e "$work/prefix/$f" ] || { echo "install: $f missing from the prefix" >&2; exit 1; }
done
if grep -rlE '#include "(kernels|core|comm|server|worker|nn|data|robust|cli)/' "$work/prefix/include/signvote"; then
  echo "install: a public header includes a src/ header (above)" >&2
  exit 1
fi
cfg=$(find "$work/prefix" -name signvoteConfig.cmake)
[ -n "$cfg" ] || { echo "install: no signvoteConfig.cmake under the prefix" >&2; exit 1; }
"$cmake" -S "$src" -B "$work/build" -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_PREFIX_PATH="$work/prefix" -DCMAKE_EXPORT_COMPILE_COMMANDS=ON >"$work/configure.log" 2>&1 ||
  { cat "$work/configure.log" >&2; exit 1; }
tree=$(cd "$src/../.." && pwd)
for flag in "-I$tree/src" "-I$tree/include" "-isystem $tree/src" "-isystem $tree/include"; do
  if grep -qF -- "$flag" "$work/build/compile_commands.json"; then
    echo "install: the consumer's include path reaches into the source tree ($flag)" >&2; exit 1
  fi
done
"$cmake" --build "$work/build" -j2 >"$work/build.log" 2>&1 || { cat "$work/build.log" >&2; exit 1; }
"$work/build/kernels_user"
"$work/build/engine_user"
echo "install: consumer built against $(dirname "$cfg") and ran"
