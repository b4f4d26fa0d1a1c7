#!/usr/bin/env bash
# The paper's Figure 1 toy problem on this machine: 1 server + 27 workers
# under mpirun. Trains SGD (fp32 all-reduce), signSGD and Signum with
# majority vote, then Signum against 0..14 sign-inverting adversaries;
# prints a table and writes out/demo/toy.png.
#   scripts/demo.sh [OUT_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
OUT=${1:-out/demo}
mkdir -p "$OUT"
BIN=build/signvote
NP=28
run() {  # run NAME CONFIG [--set ...]
  local name=$1 cfg=$2
  shift 2
  echo "== $name"
  scripts/mpirun.sh -np $NP "$BIN" train "$cfg" --metrics "$OUT/$name.csv" --overwrite \
    --set run.progress_seconds=5 "$@" 2>&1 | grep -E "error|step [0-9]+/[0-9]+ " | tail -n 2
}
run sgd configs/toy_quadratic_sgd.yaml
run signsgd configs/toy_quadratic.yaml --set optimizer.name=signsgd
run signum configs/toy_quadratic.yaml
for a in 0 6 12 14; do
  run adv$a configs/toy_quadratic_adversarial.yaml --set adversary.count=$a
done

echo
printf "%-28s %14s %14s %16s\n" run "objective@10" "final" "bytes/worker/step"
for name in sgd signsgd signum adv0 adv6 adv12 adv14; do
  awk -F, -v n="$name" 'NR==2{first=$2} END{printf "%-28s %14.4g %14.4g %16d\n", n, first, $2, $5}' "$OUT/$name.csv"
done
/usr/bin/python3 scripts/plot_toy.py "$OUT/toy.png" \
  --curve "SGD (fp32 all-reduce)=$OUT/sgd.csv" --curve "signSGD-MV=$OUT/signsgd.csv" --curve "Signum-MV=$OUT/signum.csv" \
  --adv "0=$OUT/adv0.csv" --adv "6=$OUT/adv6.csv" --adv "12=$OUT/adv12.csv" --adv "14=$OUT/adv14.csv"
