#!/usr/bin/env bash
# Portability check: runs the build's binaries on an emulated older CPU,
# qemu-x86_64 -cpu Haswell (AVX2, no AVX-512; Debian's qemu-user), and checks
#   1. signvote-bench kernels picks the AVX2 path, and refuses avx512;
#   2. the toy problem (1 server + 3 workers) trains under emulation with
#      kernels avx2 and its metrics (objective, bytes) equal, row for row,
#      a native run with the scalar kernels: the same votes;
#   3. one ResNet-18 training step (signvote_nn + oneDNN) runs there.
# Any SIGILL (an instruction Haswell lacks) fails the check.
#   scripts/check_portable.sh [BUILD_DIR] [STEPS]     (defaults: build 60)
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
steps=${2:-60}
qemu=(qemu-x86_64 -cpu Haswell)
if ! command -v qemu-x86_64 >/dev/null; then
  echo "check_portable: qemu-x86_64 missing: apt-get install qemu-user" >&2
  exit 1
fi
for b in signvote signvote-bench; do
  [ -x "$build/$b" ] || { echo "check_portable: no $build/$b (run scripts/setup.sh)" >&2; exit 1; }
done
work=$(mktemp -d /tmp/signvote-portable.XXXXXX)
trap 'rm -rf "$work"' EXIT
fail() { echo "check_portable: FAIL: $*" >&2; exit 1; }

# 1. Kernel dispatch on the emulated CPU.
# (qemu warns on stderr about CPUID bits TCG cannot emulate: kept in a log.)
json=$("${qemu[@]}" "$build/signvote-bench" kernels --dim 100003 --workers 27 --reps 1 --json 2>"$work/kernels.log") ||
  { tail -n 3 "$work/kernels.log"; fail "signvote-bench kernels under qemu Haswell"; }
grep -q '"isa": "avx2"' <<<"$json" || fail "kernels chose $(grep -o '"isa": "[a-z0-9]*"' <<<"$json") under Haswell"
if "${qemu[@]}" "$build/signvote-bench" kernels --dim 1000 --workers 3 --reps 1 --isa avx512 \
     >"$work/avx512.log" 2>&1; then
  fail "--isa avx512 ran on an emulated CPU without AVX-512"
fi
grep -q "not supported" "$work/avx512.log" || fail "--isa avx512: $(tail -n 1 "$work/avx512.log")"
echo "check_portable: kernels: avx2 picked under Haswell, avx512 refused"

# 2. Same votes: emulated AVX2 run against a native scalar run.
toy=(train configs/toy_quadratic.yaml --set cluster.workers=3 --set "run.steps=$steps" --set run.log_every=1)
scripts/mpirun.sh -np 4 "${qemu[@]}" "$build/signvote" "${toy[@]}" --metrics "$work/haswell.csv" \
  >"$work/haswell.log" 2>&1 || { tail -n 5 "$work/haswell.log"; fail "toy run under qemu Haswell"; }
grep -q "kernels avx2" "$work/haswell.log" || fail "the toy run under Haswell did not use the avx2 kernels"
scripts/mpirun.sh -np 4 "$build/signvote" "${toy[@]}" --set aggregation.isa=scalar \
  --metrics "$work/native.csv" >"$work/native.log" 2>&1 || { tail -n 5 "$work/native.log"; fail "native scalar toy run"; }
# step,objective,accuracy,lr,bytes_sent,bytes_recv: timings (later columns) differ.
cut -d, -f1-6 "$work/haswell.csv" >"$work/a" && cut -d, -f1-6 "$work/native.csv" >"$work/b"
cmp -s "$work/a" "$work/b" || { diff "$work/a" "$work/b" | head -n 5; fail "toy metrics differ"; }
echo "check_portable: toy: $steps steps under Haswell (avx2) equal the native scalar run row for row," \
     "final objective $(tail -n 1 "$work/a" | cut -d, -f2)"

# 3. The network layers and oneDNN on the emulated CPU.
"${qemu[@]}" "$build/signvote-bench" step --model resnet18 --width 4 --batch 2 --iters 1 --threads 1 --json \
  >"$work/step.json" 2>"$work/step.log" || { tail -n 3 "$work/step.log"; fail "ResNet-18 step under Haswell"; }
echo "check_portable: nn: one ResNet-18 step under Haswell: $(cat "$work/step.json")"
echo "check_portable: PASS"
