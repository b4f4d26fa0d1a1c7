#!/usr/bin/env bash
# gpu_check_script.sh WORKDIR: scripts/gpu_check.sh from the build tree, on a
# machine without a GPU, twice:
#   full budget: the rules of scripts/gpu_dry_run_rules.py (preflight first,
#                summary last, every CUDA library found, the no-device case
#                ok, every other case skipped, summary ok, exit 0);
#   a 14 s budget: the whole check ends within the budget plus the kill
#                grace, later cases say "skipped": "budget ...", and the
#                summary is still the last line.
# Exits 77 (skipped) when a GPU is visible: gpu_check.sh then runs for real.
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
work=$1
rm -rf "$work" && mkdir -p "$work"
devices=$("$repo/build/signvote" devices --json 2>/dev/null || true)
if grep -q '"count": [1-9]' <<< "$devices"; then echo "Skipped: a GPU is visible ($devices)"; exit 77; fi

rc=0
GPU_CHECK_PYTHON=/usr/bin/python3 GPU_CHECK_BUDGET_S=240 "$repo/scripts/gpu_check.sh" "$work/full" > "$work/full.jsonl" || rc=$?
cat "$work/full.jsonl"
DRY_RC=$rc "$repo/scripts/gpu_dry_run_rules.py" all "$work/full.jsonl"
[ -s "$work/full/mpi_nodevice.log" ] || { echo "FAIL: no log for mpi_nodevice under $work/full"; exit 1; }
[ -z "$(find "$work/full" -mindepth 1 -type d)" ] || { echo "FAIL: case data left under the log folder"; exit 1; }

t0=$SECONDS rc=0
GPU_CHECK_PYTHON=/usr/bin/python3 GPU_CHECK_BUDGET_S=14 "$repo/scripts/gpu_check.sh" "$work/short" > "$work/short.jsonl" || rc=$?
took=$((SECONDS - t0))
cat "$work/short.jsonl"
/usr/bin/python3 - "$work/short.jsonl" "$took" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
took = int(sys.argv[2])
assert rows[0]["check"] == "preflight", rows[0]
assert rows[-1]["check"] == "summary", rows[-1]
budget = [r for r in rows[:-1] if str(r.get("skipped", "")).startswith("budget")]
assert budget, "no case was skipped for the budget"
assert took <= 14 + 10, f"the check took {took} s on a 14 s budget"
print(f"PASS: {len(budget)} cases skipped for the budget, {took} s on a 14 s budget")
PY
