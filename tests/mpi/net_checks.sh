#!/usr/bin/env bash
# net_checks.sh MODE SIGNVOTE FIXTURE_BIN WORKDIR MPIRUN...
#   resume: a run of 2N steps and a run of N steps resumed to 2N end with
#           bit-identical weights, momenta, BN statistics and data order.
#   eval:   `signvote eval` of the final checkpoint reports the accuracy the
#           run itself logged for its last validation.
# MODEL/EXTRA (env) pick the problem: the toy by default.
set -euo pipefail
mode=$1 sv=$2 fixture=$3 work=$4
shift 4
mpirun=("$@")
rm -rf "$work" && mkdir -p "$work"
"$fixture" "$work/data" 600
cfg=(train "$(dirname "$0")/../../configs/cifar10_resnet18_w16_signum.yaml"
     --set model.name=small_cnn --set cluster.workers=3 --set data.path="$work/data" --set data.val_count=100
     --set data.batch_size=16 --set run.eval_every=8 --set run.log_every=2 --set run.hash_every=1
     --set run.checkpoint_every=0 --set optimizer.milestones=[])
case $mode in
  resume)
    "${mpirun[@]}" -np 4 "$sv" "${cfg[@]}" --set run.steps=20 --checkpoint-dir "$work/a"
    "${mpirun[@]}" -np 4 "$sv" "${cfg[@]}" --set run.steps=10 --checkpoint-dir "$work/b"
    "${mpirun[@]}" -np 4 "$sv" "${cfg[@]}" --set run.steps=20 --checkpoint-dir "$work/b" --resume "$work/b"
    "$sv" inspect "$work/a" | grep -v "blob   config" | tail -n +2 > "$work/a.txt"
    "$sv" inspect "$work/b" | grep -v "blob   config" | tail -n +2 > "$work/b.txt"
    cat "$work/a.txt"
    grep -q "scalar step = 20" "$work/b.txt"
    diff "$work/a.txt" "$work/b.txt" && echo "PASS: resumed run is bit-identical"
    ;;
  eval)
    "${mpirun[@]}" -np 4 "$sv" "${cfg[@]}" --set run.steps=24 --checkpoint-dir "$work/c" --metrics "$work/m.csv"
    logged=$(tail -n 1 "$work/m_val.csv" | cut -d, -f3)
    json=$("$sv" eval --checkpoint "$work/c/latest.ckpt" --split val --json)
    echo "run logged val accuracy $logged; eval says $json"
    /usr/bin/env python3 -c "import json,sys; r=json.loads(sys.argv[1]); a=float(sys.argv[2]); assert r['n']==100, r; assert abs(r['accuracy']-a)<1e-6, (r, a); assert a>0.3, a; print('PASS')" "$json" "$logged"
    "$sv" eval --checkpoint "$work/c" --split test --json
    ;;
esac
