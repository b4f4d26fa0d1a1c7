#!/usr/bin/env bash
# CIFAR-10 ResNet-18 (width 16) trained by PyTorch workers with majority vote:
# 1 C++ server (configs/pytorch_cifar.yaml) + WORKERS ranks of
# examples/pytorch_cifar.py: 600 steps, batch 64 a worker, Signum momentum
# 0.9, two parameter groups (weight decay 1e-5 on weights, none on BN and
# biases), torch's cosine schedule from lr 3e-3 (--schedule constant --lr 1e-3:
# the settings of configs/cifar10_resnet18_w16_signum.yaml). Worker 0 prints the
# result as one JSON line. Builds nothing: run scripts/setup.sh first.
#   scripts/train_cifar_pytorch.sh DATA_DIR [WORKERS=7] [args of examples/pytorch_cifar.py]
#   scripts/train_cifar_pytorch.sh /work/shared/cifar10 7 --out out/pytorch_cifar.json
set -euo pipefail
cd "$(dirname "$0")/.."
DATA=${1:?usage: scripts/train_cifar_pytorch.sh DATA_DIR [WORKERS=7] [extra args]}
shift
WORKERS=7
if [ $# -gt 0 ] && [[ $1 =~ ^[0-9]+$ ]]; then WORKERS=$1; shift; fi
if [ ! -x build/signvote ] || [ ! -f build/python/signvote/libsignvote_native.so ]; then
  echo "build/signvote or the Python module in build/python is missing: run scripts/setup.sh first" >&2
  exit 1
fi
exec scripts/mpirun.sh -np 1 build/signvote serve configs/pytorch_cifar.yaml : \
  -np "$WORKERS" env PYTHONPATH=build/python OMP_NUM_THREADS=1 /usr/bin/python3 examples/pytorch_cifar.py \
  --data "$DATA" "$@"
