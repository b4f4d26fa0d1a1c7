#!/usr/bin/env bash
# Builds signvote (scripts/setup.sh) and runs the whole test suite with ctest.
# GPU tests report "skipped" when no CUDA device is present.
set -euo pipefail
cd "$(dirname "$0")/.."
# qemu-user: the portability test runs the binaries on an emulated Haswell.
# python3-torch: the PyTorch binding's tests (CPU torch 1.13).
SIGNVOTE_OPTIONAL_PACKAGES="qemu-user python3-torch ${SIGNVOTE_OPTIONAL_PACKAGES:-}" scripts/setup.sh
cd "${SIGNVOTE_BUILD_DIR:-build}"
ctest --output-on-failure -j2 --timeout 600 "$@"
