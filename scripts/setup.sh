#!/usr/bin/env bash
# Installs what signvote needs (Debian 12 packages, only when missing) and
# builds it into build/ (Release). Quick on a second run.
#   scripts/setup.sh [extra cmake args, e.g. -DSIGNVOTE_CUDA=OFF]
#   SIGNVOTE_EXTRA_PACKAGES="pkg ..." adds Debian packages to install.
#
# Configure is redone from a clean cache whenever the last one did not finish
# (failed, interrupted, or made by hand): build/.signvote-configured is written
# only after a configure succeeds and holds the arguments it used. With no
# arguments the last successful ones are kept.
set -euo pipefail
cd "$(dirname "$0")/.."

# ocl-icd-opencl-dev: Debian's oneDNN CMake package needs the OpenCL headers
# (only a Recommends of libdnnl-dev). dpkg-dev + file: cpack -G DEB.
PACKAGES=(build-essential cmake g++ pkg-config dpkg-dev file
          libopenmpi-dev openmpi-bin libeigen3-dev libspdlog-dev libyaml-cpp-dev
          libcli11-dev catch2 libdnnl-dev ocl-icd-opencl-dev
          python3 python3-numpy python3-matplotlib)
# Extra packages a calling script needs (scripts/test.sh: qemu-user).
read -r -a extra <<<"${SIGNVOTE_EXTRA_PACKAGES:-}"
PACKAGES+=("${extra[@]}")

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  how="apt-get update && apt-get install --no-install-recommends ${missing[*]}"
  SUDO=()
  if [ "$(id -u)" -ne 0 ]; then
    if sudo -n true 2>/dev/null; then
      SUDO=(sudo -n)
    else
      echo "setup: missing Debian packages: ${missing[*]}; not root and no sudo: run as root: $how" >&2
      exit 1
    fi
  fi
  echo "setup: installing ${missing[*]}"
  log=$(mktemp /tmp/signvote-apt.XXXXXX.log)
  if ! { "${SUDO[@]}" apt-get update -qq &&
         DEBIAN_FRONTEND=noninteractive "${SUDO[@]}" apt-get install -y -qq --no-install-recommends \
           "${missing[@]}"; } >"$log" 2>&1; then
    echo "setup: apt-get failed (log: $log); missing Debian packages: ${missing[*]}; install them with: $how" >&2
    exit 1
  fi
  rm -f "$log"
fi

BUILD_DIR=${SIGNVOTE_BUILD_DIR:-build}
STAMP="$BUILD_DIR/.signvote-configured"
JOBS=$(nproc)
args=(-DCMAKE_BUILD_TYPE=Release "$@")
if [ "$#" -eq 0 ] && [ -f "$STAMP" ]; then
  mapfile -t args <"$STAMP"
fi
if [ ! -f "$STAMP" ] || [ "$#" -gt 0 ]; then
  # A cache from a failed or interrupted configure can hold bad results
  # (and leave no Makefile): start from a clean one.
  rm -f "$STAMP" "$BUILD_DIR/CMakeCache.txt"
  rm -rf "$BUILD_DIR/CMakeFiles"
  cmake -S . -B "$BUILD_DIR" "${args[@]}"
  printf '%s\n' "${args[@]}" >"$STAMP"
fi
cmake --build "$BUILD_DIR" -j"$JOBS"
