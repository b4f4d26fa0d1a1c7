#!/usr/bin/env bash
# Installs what signvote needs (Debian 12 packages, only when missing) and
# builds it into build/ (Release). Quick on a second run.
#   scripts/setup.sh [extra cmake args, e.g. -DSIGNVOTE_CUDA=OFF]
set -euo pipefail
cd "$(dirname "$0")/.."

PACKAGES=(build-essential cmake g++ pkg-config
          libopenmpi-dev openmpi-bin libeigen3-dev libspdlog-dev libyaml-cpp-dev
          libcli11-dev catch2 libdnnl-dev python3 python3-numpy python3-matplotlib)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}"
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

BUILD_DIR=${SIGNVOTE_BUILD_DIR:-build}
JOBS=$(nproc)
if [ ! -f "$BUILD_DIR/CMakeCache.txt" ] || [ "$#" -gt 0 ]; then
  cmake -S . -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=Release "$@"
fi
cmake --build "$BUILD_DIR" -j"$JOBS"
