#!/usr/bin/env bash
# One optimizer step of the PyTorch binding (VoteOptimizer, 1 C++ server + 1
# PyTorch worker, the round trip included) against torch.optim.SGD and a
# foreach Signum on the same ResNet-18-shaped parameters. Prints one JSON
# line (bench/binding_step.py). Builds nothing: run scripts/setup.sh first.
#   bench/run_binding_step.sh [WIDTH=64] [ITERS=20] [THREADS=1]
set -euo pipefail
cd "$(dirname "$0")/.."
width=${1:-64} iters=${2:-20} threads=${3:-1} wait=${4:-sleep}
if [ ! -x build/signvote ] || [ ! -f build/python/signvote/libsignvote_native.so ]; then
  echo "build/signvote or the Python module in build/python is missing: run scripts/setup.sh first" >&2
  exit 1
fi
cfg=$(mktemp /tmp/signvote-binding-bench.XXXXXX.yaml)
trap 'rm -f "$cfg"' EXIT
printf 'run: {log_every: 1000, progress_seconds: 3600}\ncluster: {server_wait: %s}\naggregation: {method: majority_vote}\n' "$wait" >"$cfg"
scripts/mpirun.sh -np 1 build/signvote serve "$cfg" --log-level warn : \
  -np 1 env PYTHONPATH=build/python OMP_NUM_THREADS="$threads" /usr/bin/python3 bench/binding_step.py \
  --width "$width" --iters "$iters" --threads "$threads"
