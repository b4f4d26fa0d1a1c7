#!/usr/bin/env bash
# net_checks.sh MODE SIGNVOTE FIXTURE_BIN WORKDIR MPIRUN...
#   resume: a run of 2N steps and a run of N steps resumed to 2N end with
#           bit-identical weights, momenta, BN statistics and data order.
#   schedule: a cosine schedule with warm-up: a run resumed from step 10 of
#           a 20-step run ends bit-identical to it (the lr follows run.steps
#           and the elapsed time kept in the checkpoint, not the restart).
#   eval:   `signvote eval` of the final checkpoint reports the accuracy the
#           run itself logged for its last validation.
#   overlap: with 3 server shards, a run that sends each shard as the
#           backward pass finishes it (aggregation.overlap) ends with the
#           same weights, momenta and statistics, bit for bit, as one that
#           sends after the pass; so does one that cuts the shards into
#           buckets of 16 KB of gradient (aggregation.bucket_bytes).
#   alltoall: the server-less vote (aggregation.transport: alltoall, the
#           workers tally chunks) ends bit-identical to the server's vote.
#   compose: the exchanges and schedules compose (worker/exchange.h). With
#           2 nodes of 2 workers (cluster.hierarchy: node), the overlapped
#           schedule, with and without buckets, ends bit-identical to the
#           whole one; so do the all-to-all under the hierarchy, with and
#           without overlap, against the hierarchy's server vote; and the
#           overlapped all-to-all against the server's vote.
#   probes: a run with gradient probes trains exactly like one without
#           (same losses, accuracies and validation), and writes one SNR row
#           per layer and pass and one gradient row per weight and batch.
#   local:  local steps (aggregation.local_steps = 4, inner AdamW): a run of
#           24 inner steps and one stopped at 12 and resumed end bit-identical
#           (x_start, every worker's inner state, momentum and data position
#           are in the checkpoint); under local steps the all-to-all and 2
#           overlapped server shards with buckets end bit-identical to the
#           plain vote, and the overlapped all-to-all under the hierarchy (2
#           nodes x 2 workers) to the hierarchy's server vote.
#   regrow: a checkpoint of 3 workers at step 12 (mid-epoch) resumed with 2
#           and with 4 workers to step 20: each starts from the checkpoint's
#           weights (the params hash), the replicas stay identical (hash every
#           step), the metrics continue with the new `workers` column, and a
#           second resume with 2 workers ends bit-identical to the first (the
#           re-cut data order and fresh momenta are deterministic).
# MODEL/EXTRA (env) pick the problem: the toy by default.
set -euo pipefail
source "$(dirname "$0")/net_fixture.sh"
cfg+=(--set cluster.workers=3 --set run.eval_every=8 --set run.log_every=2 --set run.hash_every=1)
case $mode in
  resume)
    "${mpirun[@]}" -np 4 "$sv" "${cfg[@]}" --set run.steps=20 --checkpoint-dir "$work/a"
    "${mpirun[@]}" -np 4 "$sv" "${cfg[@]}" --set run.steps=10 --checkpoint-dir "$work/b"
    "${mpirun[@]}" -np 4 "$sv" "${cfg[@]}" --set run.steps=20 --checkpoint-dir "$work/b" --resume "$work/b"
    # each worker wrote its own part (one shared directory): worker 0 gathered no momentum
    [ "$(ls "$work/b" | grep -c '^ckpt-000000000020\.part-[0-2]-of-3$')" = 3 ]
    "$sv" inspect "$work/a" | grep -v "blob   config\|scalar run_id\|scalar elapsed_ms" | tail -n +2 > "$work/a.txt"
    "$sv" inspect "$work/b" | grep -v "blob   config\|scalar run_id\|scalar elapsed_ms" | tail -n +2 > "$work/b.txt"
    cat "$work/a.txt"
    grep -q "scalar step = 20" "$work/b.txt"
    diff "$work/a.txt" "$work/b.txt" && echo "PASS: resumed run is bit-identical"
    ;;
  regrow)
    "${mpirun[@]}" -np 4 "$sv" "${cfg[@]}" --set run.steps=12 --checkpoint-dir "$work/a" --metrics "$work/a.csv"
    want=$("$sv" inspect "$work/a" | awk '$1 == "array" && $2 == "params" {print $NF}')
    for w in 2 4 2; do
      run=$work/w$w; [ -d "$run" ] && run=$work/w${w}again
      cp -r "$work/a" "$run" && cp "$work/a.csv" "$run.csv"
      "${mpirun[@]}" -np $((w + 1)) "$sv" "${cfg[@]}" --set cluster.workers=$w --set run.steps=20 --resume "$run" \
        --metrics "$run.csv" > "$run.log" 2>&1 || { cat "$run.log"; exit 1; }
      grep -q "of 3 workers with $w (key 'cluster.workers')" "$run.log"
      grep -q "at step 12 (params hash $want)" "$run.log"
      [ "$(awk -F, 'NR > 1 && $1 <= 12 {print $NF}' "$run.csv" | sort -u)" = 3 ]
      [ "$(awk -F, 'NR > 1 && $1 > 12 {print $NF}' "$run.csv" | sort -u)" = "$w" ]
      grep -q "scalar step = 20" <("$sv" inspect "$run")
    done
    diff <("$sv" inspect "$work/w2" | grep -v "blob   config\|run_id\|elapsed_ms" | tail -n +2) \
         <("$sv" inspect "$work/w2again" | grep -v "blob   config\|run_id\|elapsed_ms" | tail -n +2)
    echo "PASS: resumed with 2 and 4 workers from the checkpoint of 3"
    ;;
  local)
    loc=(--set aggregation.local_steps=4 --set inner.name=adamw --set inner.lr=0.002 --set inner.weight_decay=0.01
         --set inner.schedule=cosine --set run.log_every=4 --set run.hash_every=4 --set run.eval_every=12)
    strip() { "$sv" inspect "$1" | grep -v "blob   config\|scalar run_id\|scalar elapsed_ms" | tail -n +2; }
    "${mpirun[@]}" -np 4 "$sv" "${cfg[@]}" --set run.steps=8 --checkpoint-dir "$work/h0"
    "${mpirun[@]}" -np 4 "$sv" "${cfg[@]}" --set run.steps=8 --set aggregation.local_steps=1 --checkpoint-dir "$work/h1"
    diff <(strip "$work/h0") <(strip "$work/h1")
    echo "PASS: aggregation.local_steps = 1 is the run without local steps, bit for bit"
    "${mpirun[@]}" -np 4 "$sv" "${cfg[@]}" "${loc[@]}" --set run.steps=24 --checkpoint-dir "$work/a"
    "${mpirun[@]}" -np 4 "$sv" "${cfg[@]}" "${loc[@]}" --set run.steps=24 --set run.checkpoint_every=12 \
      --set run.time_limit_s=0 --checkpoint-dir "$work/full"
    "${mpirun[@]}" -np 4 "$sv" "${cfg[@]}" "${loc[@]}" --set run.steps=24 --checkpoint-dir "$work/b" \
      --resume "$work/full/ckpt-000000000012.ckpt"
    strip "$work/a" > "$work/a.txt"
    strip "$work/b" > "$work/b.txt"
    grep -q "scalar step = 24" "$work/b.txt"
    diff "$work/a.txt" "$work/b.txt"
    echo "PASS: a local-steps run resumed at inner step 12 is bit-identical"
    five=(--set cluster.workers=4 --set cluster.ranks_per_node=2 --set run.steps=16)
    # run NAME NP [--set KEY=VALUE ...]: a 4-worker local-steps run, its checkpoint's listing in NAME.txt
    run() { local name=$1 np=$2; shift 2
      "${mpirun[@]}" -np "$np" "$sv" "${cfg[@]}" "${loc[@]}" "${five[@]}" "$@" --checkpoint-dir "$work/$name"
      strip "$work/$name" > "$work/$name.txt"; }
    run plain 5
    run alltoall 5 --set aggregation.transport=alltoall
    run overlap 6 --set cluster.servers=2 --set aggregation.overlap=true --set aggregation.bucket_bytes=8192
    run node 5 --set cluster.hierarchy=node
    run node_alltoall 5 --set cluster.hierarchy=node --set aggregation.transport=alltoall --set aggregation.overlap=true
    for v in alltoall overlap; do diff "$work/plain.txt" "$work/$v.txt"; done
    diff "$work/node.txt" "$work/node_alltoall.txt"
    echo "PASS: under local steps the all-to-all and 2 overlapped shards with buckets equal the plain vote, and the overlapped all-to-all under the hierarchy equals the hierarchy's vote, bit for bit"
    ;;
  schedule)
    sched=(--set optimizer.schedule=cosine --set optimizer.warmup_steps=4 --set run.steps=20 --set run.checkpoint_every=10)
    "${mpirun[@]}" -np 4 "$sv" "${cfg[@]}" "${sched[@]}" --checkpoint-dir "$work/a" --metrics "$work/a.csv"
    "${mpirun[@]}" -np 4 "$sv" "${cfg[@]}" "${sched[@]}" --checkpoint-dir "$work/b" --resume "$work/a/ckpt-000000000010.ckpt" --metrics "$work/b.csv"
    "$sv" inspect "$work/a" | grep -v "blob   config\|scalar run_id\|scalar elapsed_ms" | tail -n +2 > "$work/a.txt"
    "$sv" inspect "$work/b" | grep -v "blob   config\|scalar run_id\|scalar elapsed_ms" | tail -n +2 > "$work/b.txt"
    grep -q "scalar step = 20" "$work/b.txt"
    diff "$work/a.txt" "$work/b.txt"
    diff <(tail -n 5 "$work/a.csv" | cut -d, -f1-6) <(tail -n 5 "$work/b.csv" | cut -d, -f1-6)  # same lr, objective, bytes
    echo "PASS: resumed cosine run is bit-identical"
    ;;
  overlap)
    sharded=(--set cluster.servers=3 --set run.steps=16 --set run.checkpoint_every=0)
    "${mpirun[@]}" -np 6 "$sv" "${cfg[@]}" "${sharded[@]}" --checkpoint-dir "$work/plain"
    "${mpirun[@]}" -np 6 "$sv" "${cfg[@]}" "${sharded[@]}" --set aggregation.overlap=true --checkpoint-dir "$work/overlap"
    "$sv" inspect "$work/plain" | grep -v "blob   config\|scalar run_id\|scalar elapsed_ms" | tail -n +2 > "$work/a.txt"
    "$sv" inspect "$work/overlap" | grep -v "blob   config\|scalar run_id\|scalar elapsed_ms" | tail -n +2 > "$work/b.txt"
    grep -q "scalar step = 16" "$work/b.txt"
    diff "$work/a.txt" "$work/b.txt"
    "${mpirun[@]}" -np 6 "$sv" "${cfg[@]}" "${sharded[@]}" --set aggregation.overlap=true --set aggregation.bucket_bytes=16384 \
      --checkpoint-dir "$work/buckets"
    "$sv" inspect "$work/buckets" | grep -v "blob   config\|scalar run_id\|scalar elapsed_ms" | tail -n +2 > "$work/c.txt"
    diff "$work/a.txt" "$work/c.txt" && echo "PASS: overlapped runs, with and without buckets, are bit-identical"
    ;;
  alltoall)
    short=(--set run.steps=16 --set run.checkpoint_every=0)
    "${mpirun[@]}" -np 4 "$sv" "${cfg[@]}" "${short[@]}" --checkpoint-dir "$work/server"
    "${mpirun[@]}" -np 4 "$sv" "${cfg[@]}" "${short[@]}" --set aggregation.transport=alltoall --checkpoint-dir "$work/alltoall"
    "$sv" inspect "$work/server" | grep -v "blob   config\|scalar run_id\|scalar elapsed_ms" | tail -n +2 > "$work/a.txt"
    "$sv" inspect "$work/alltoall" | grep -v "blob   config\|scalar run_id\|scalar elapsed_ms" | tail -n +2 > "$work/b.txt"
    grep -q "scalar step = 16" "$work/b.txt"
    diff "$work/a.txt" "$work/b.txt" && echo "PASS: the all-to-all vote is bit-identical to the server's"
    ;;
  compose)
    short=(--set run.steps=12 --set run.checkpoint_every=0)
    node=(--set cluster.workers=4 --set cluster.hierarchy=node --set cluster.ranks_per_node=2)
    same() {  # same REF DIR: DIR's checkpoint is REF's, bit for bit
      "$sv" inspect "$work/$1" | grep -v "blob   config\|scalar run_id\|scalar elapsed_ms" | tail -n +2 > "$work/$1.txt"
      "$sv" inspect "$work/$2" | grep -v "blob   config\|scalar run_id\|scalar elapsed_ms" | tail -n +2 > "$work/$2.txt"
      grep -q "scalar step = 12" "$work/$2.txt"
      diff "$work/$1.txt" "$work/$2.txt"
      echo "same: $2 = $1"
    }
    run() {  # run NP DIR ARGS...
      local np=$1 dir=$2
      shift 2
      "${mpirun[@]}" -np "$np" "$sv" "${cfg[@]}" "${short[@]}" "$@" --checkpoint-dir "$work/$dir"
    }
    run 6 node "${node[@]}" --set cluster.servers=2
    run 6 node_overlap "${node[@]}" --set cluster.servers=2 --set aggregation.overlap=true
    run 6 node_buckets "${node[@]}" --set cluster.servers=2 --set aggregation.overlap=true --set aggregation.bucket_bytes=16384
    run 5 node_1 "${node[@]}"
    run 5 node_a2a "${node[@]}" --set aggregation.transport=alltoall
    run 5 node_a2a_overlap "${node[@]}" --set aggregation.transport=alltoall --set aggregation.overlap=true
    run 4 server
    run 4 a2a_overlap --set aggregation.transport=alltoall --set aggregation.overlap=true
    same node node_overlap
    same node node_buckets
    same node_1 node_a2a
    same node_1 node_a2a_overlap
    same server a2a_overlap
    echo "PASS: every composed exchange and schedule is bit-identical to its plain twin"
    ;;
  eval)
    "${mpirun[@]}" -np 4 "$sv" "${cfg[@]}" --set run.steps=24 --checkpoint-dir "$work/c" --metrics "$work/m.csv"
    logged=$(tail -n 1 "$work/m_val.csv" | cut -d, -f3)
    json=$("$sv" eval --checkpoint "$work/c/latest.ckpt" --split val --json)
    echo "run logged val accuracy $logged; eval says $json"
    /usr/bin/env python3 -c "import json,sys; r=json.loads(sys.argv[1]); a=float(sys.argv[2]); assert r['n']==100, r; assert abs(r['accuracy']-a)<1e-6, (r, a); assert a>0.3, a; print('PASS')" "$json" "$logged"
    "$sv" eval --checkpoint "$work/c" --split test --json
    ;;
  probes)
    "${mpirun[@]}" -np 4 "$sv" "${cfg[@]}" --set run.steps=24 --metrics "$work/plain.csv"
    "${mpirun[@]}" -np 4 "$sv" "${cfg[@]}" --set run.steps=24 --metrics "$work/probed.csv" \
      --set probes.epochs=[0,1] --set probes.every=10 --set probes.batches=3 --set probes.weights=4
    # step,objective,accuracy,lr,bytes_sent,bytes_recv (the rest are timings)
    diff <(cut -d, -f1-6 "$work/plain.csv") <(cut -d, -f1-6 "$work/probed.csv")
    diff <(cut -d, -f1-5 "$work/plain_val.csv") <(cut -d, -f1-5 "$work/probed_val.csv")  # all but elapsed_s
    /usr/bin/env python3 - "$work" <<'PY'
import csv, sys
w = sys.argv[1]
snr = list(csv.DictReader(open(f"{w}/probed_snr.csv")))
grads = list(csv.DictReader(open(f"{w}/probed_grads.csv")))
layers = {r["name"] for r in snr}
passes = sorted({(int(r["step"]), r["kind"]) for r in snr})
# 500 training images / 3 workers = 166 each: 10 batches of 16 per worker.
# Full passes before step 1 (epoch 0) and after step 10 (epoch 1); periodic
# ones after steps 0 (covered by the full pass), 10 (idem) and 20.
assert passes == [(0, "epoch"), (10, "epoch"), (20, "periodic")], passes
assert len(snr) == len(layers) * 3, (len(snr), len(layers))
for r in snr:
    want = 30 if r["kind"] == "epoch" else 9
    assert int(float(r["batches"])) == want, r
    assert float(r["noise"]) >= 0 and float(r["mean_sq"]) >= 0, r
assert len(grads) == 2 * 30 * 4, len(grads)
assert len({r["index"] for r in grads}) == 4
print(f"PASS: {len(layers)} layers, passes {passes}, {len(grads)} gradient rows, training unchanged")
PY
    ;;
esac
