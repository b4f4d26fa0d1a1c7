#!/usr/bin/env bash
# Installs what signvote needs (Debian 12 packages, only when missing) and
# builds it into build/ (Release). Quick on a second run.
#   scripts/setup.sh [extra cmake args, e.g. -DSIGNVOTE_CUDA=OFF]
#   SIGNVOTE_EXTRA_PACKAGES="pkg ..." adds required Debian packages,
#   SIGNVOTE_OPTIONAL_PACKAGES="pkg ..." optional ones.
#
# Configure is redone from a clean cache whenever the last one did not finish
# (failed, interrupted, or made by hand): build/.signvote-configured is written
# only after a configure succeeds and holds the arguments it used. With no
# arguments the last successful ones are kept.
set -euo pipefail
cd "$(dirname "$0")/.."

# Required: without these signvote does not build or its scripts do not run
# (plus SIGNVOTE_EXTRA_PACKAGES, what a calling script needs).
read -r -a extra <<<"${SIGNVOTE_EXTRA_PACKAGES:-}"
PACKAGES=(build-essential cmake g++ pkg-config
          libopenmpi-dev openmpi-bin libeigen3-dev libspdlog-dev libyaml-cpp-dev
          libcli11-dev catch2 libdnnl-dev python3 python3-numpy python3-matplotlib "${extra[@]}")
# Optional: installed when possible, else one warning and the build goes on.
#   ocl-icd-opencl-dev  Debian's oneDNN CMake package needs the OpenCL headers
#                       (only a Recommends of libdnnl-dev); without them the
#                       convolutions use the slower Eigen backend
#   dpkg-dev file       cpack -G DEB (the Debian package and its ctest)
#   SIGNVOTE_OPTIONAL_PACKAGES  what a calling script adds (scripts/test.sh: qemu-user)
read -r -a extra_opt <<<"${SIGNVOTE_OPTIONAL_PACKAGES:-}"
OPTIONAL=(ocl-icd-opencl-dev dpkg-dev file "${extra_opt[@]}")

not_installed() {  # not_installed PKG...: prints those dpkg does not have
  local p
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || echo "$p"
  done
}
mapfile -t missing < <(not_installed "${PACKAGES[@]}")
mapfile -t missing_opt < <(not_installed "${OPTIONAL[@]}")
all=("${missing[@]}" "${missing_opt[@]}")
if ((${#all[@]})); then
  how="apt-get update && apt-get install --no-install-recommends ${all[*]}"
  SUDO=() why=""
  if [ "$(id -u)" -ne 0 ]; then
    if sudo -n true 2>/dev/null; then SUDO=(sudo -n)
    elif [ -t 0 ] && command -v sudo >/dev/null; then SUDO=(sudo)  # may ask for the password
    else why="not root and no sudo without a password"
    fi
  fi
  if [ -z "$why" ]; then
    echo "setup: installing ${all[*]}"
    log=$(mktemp /tmp/signvote-apt.XXXXXX.log)
    if { "${SUDO[@]}" apt-get update -qq &&
         DEBIAN_FRONTEND=noninteractive "${SUDO[@]}" apt-get install -y -qq --no-install-recommends \
           "${all[@]}"; } >"$log" 2>&1; then
      rm -f "$log"
      missing=() missing_opt=()
    else
      why="apt-get failed (log: $log)"
    fi
  fi
  if ((${#missing[@]})); then
    echo "setup: missing Debian packages: ${all[*]}; $why: install them with: $how" >&2
    exit 1
  elif ((${#missing_opt[@]})); then
    echo "setup: warning: optional Debian packages not installed (${missing_opt[*]}; $why): see the ✗ lines below; install them with: $how" >&2
  fi
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
