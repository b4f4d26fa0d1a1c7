#!/usr/bin/env bash
# gpu_checks.sh MODE SIGNVOTE FIXTURE_BIN WORKDIR MPIRUN...
# Runs of small_cnn on a generated CIFAR-format fixture with cuda workers.
#   nodevice:  CUDA_VISIBLE_DEVICES="" hides every GPU: the run stops with
#              "no CUDA device visible to rank N" on the worker ranks and a
#              non-zero exit within seconds (runs on any machine).
#   replicas:  1 server + 2 cuda workers for 30 steps with the weight hash
#              compared every step (run.hash_every=1): bit-identical replicas.
#   allreduce: the fp32 baseline (SGD) on 2 cuda workers, replicas compared
#              every step (NCCL when each worker has a GPU of its own, MPI
#              through the host when they share one).
#   resume:    a CPU run's checkpoint resumed on cuda workers: the run goes on
#              from step 11 to 16, and `signvote eval` of the CPU checkpoint
#              on cpu and on cuda agrees (accuracy equal, loss within 1e-3).
#   compose:   4 cuda workers in 2 "nodes" (cluster.hierarchy: node): the
#              overlapped schedule (per-part node averages: NCCL, or MPI
#              through the host when GPUs are shared) ends bit-identical to
#              the whole one.
# Modes other than nodevice exit 77 (ctest: skipped) with the reason when
# no CUDA device is visible; several worker ranks share one GPU there
# (model.share_gpus) so a one-GPU machine runs them.
set -euo pipefail
source "$(dirname "$0")/net_fixture.sh"
cfg+=(--set cluster.workers=2 --set run.eval_every=10 --set run.log_every=5 --set run.hash_every=1 --set model.math=fp32 --set model.share_gpus=true)

if [ "$mode" = nodevice ]; then
  start=$(date +%s)
  if CUDA_VISIBLE_DEVICES="" "${mpirun[@]}" -x CUDA_VISIBLE_DEVICES -np 3 "$sv" "${cfg[@]}" --set model.device=cuda \
       > "$work/out.txt" 2>&1; then
    cat "$work/out.txt"; echo "FAIL: a run without a visible GPU succeeded"; exit 1
  fi
  cat "$work/out.txt"
  grep -q "no CUDA device visible to rank [12]" "$work/out.txt"
  [ $(( $(date +%s) - start )) -lt 30 ] || { echo "FAIL: took more than 30 s to stop"; exit 1; }
  echo "PASS: one clear line, non-zero exit"
  exit 0
fi

devices=$("$sv" devices --json)
if ! grep -q '"count": [1-9]' <<< "$devices"; then  # no Python needed (a bare GPU machine)
  echo "Skipped: no CUDA device visible ($devices)"
  exit 77
fi
echo "devices: $devices"
case $mode in
  replicas)
    "${mpirun[@]}" -np 3 "$sv" "${cfg[@]}" --set model.device=cuda --set run.steps=30 --metrics "$work/m.csv" 2>&1 | tee "$work/out.txt"
    grep -q "step 30/30" "$work/out.txt"
    echo "PASS: 30 steps, weight hashes equal on both cuda workers at every step"
    ;;
  allreduce)
    "${mpirun[@]}" -np 3 "$sv" "${cfg[@]}" --set model.device=cuda --set run.steps=20 --set aggregation.method=allreduce \
      --set optimizer.name=sgd --set optimizer.lr=0.05 --set optimizer.momentum=0.9 2>&1 | tee "$work/out.txt"
    grep -q "step 20/20" "$work/out.txt"
    grep -o "fp32 sums (all-reduce baseline, node average) through [A-Z]*" "$work/out.txt"
    echo "PASS: all-reduce baseline on cuda workers, replicas bit-identical"
    ;;
  compose)
    node=(--set model.device=cuda --set run.steps=12 --set cluster.workers=4 --set cluster.hierarchy=node
          --set cluster.ranks_per_node=2 --set cluster.servers=2)
    "${mpirun[@]}" -np 6 "$sv" "${cfg[@]}" "${node[@]}" --checkpoint-dir "$work/whole"
    "${mpirun[@]}" -np 6 "$sv" "${cfg[@]}" "${node[@]}" --set aggregation.overlap=true --checkpoint-dir "$work/overlap" \
      2>&1 | tee "$work/out.txt"
    grep -q "step 12/12" "$work/out.txt"
    for d in whole overlap; do
      "$sv" inspect "$work/$d" | grep -v "blob   config\|scalar run_id\|scalar elapsed_ms" | tail -n +2 > "$work/$d.txt"
    done
    diff "$work/whole.txt" "$work/overlap.txt"
    echo "PASS: the hierarchy's overlapped schedule on cuda workers is bit-identical to the whole one"
    ;;
  resume)
    "${mpirun[@]}" -np 3 "$sv" "${cfg[@]}" --set run.steps=10 --checkpoint-dir "$work/cpu"
    cp -r "$work/cpu" "$work/gpu"
    "${mpirun[@]}" -np 3 "$sv" "${cfg[@]}" --set model.device=cuda --set run.steps=16 --checkpoint-dir "$work/gpu" \
      --resume "$work/gpu" 2>&1 | tee "$work/out.txt"
    grep -q "step 16/16" "$work/out.txt"
    "$sv" inspect "$work/gpu" | grep -q "scalar step = 16"
    a=$("$sv" eval --checkpoint "$work/cpu/ckpt-10.ckpt" --split val --json --device cpu)
    b=$("$sv" eval --checkpoint "$work/cpu/ckpt-10.ckpt" --split val --json --device cuda)
    echo "cpu: $a cuda: $b"
    /usr/bin/env python3 -c "import json,sys; a=json.loads(sys.argv[1]); b=json.loads(sys.argv[2]); assert a['n']==b['n']==100; assert abs(a['accuracy']-b['accuracy'])<=0.011, (a,b); assert abs(a['loss']-b['loss'])<=1e-3*max(1,a['loss']), (a,b)" "$a" "$b"
    echo "PASS: a CPU checkpoint resumes and evaluates on the GPU"
    ;;
  *) echo "unknown mode $mode"; exit 2 ;;
esac
