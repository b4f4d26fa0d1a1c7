#!/usr/bin/python3
"""The rules a GPU check's output must follow on a machine without a GPU
(scripts/gpu_dry_run.sh): gpu_dry_run_rules.py RUN JSONL, RUN = all | no_nccl,
the check's exit status in DRY_RC. Exits 1 with one line per broken rule."""
import json
import os
import sys

run, path = sys.argv[1], sys.argv[2]
lines = [l for l in open(path) if l.strip()]
broken = []
try:
    rows = [json.loads(l) for l in lines]
except ValueError as e:
    print(f"gpu_dry_run: {run}: a line is not JSON: {e}")
    sys.exit(1)
by = {r["check"]: r for r in rows}
if not rows or rows[0]["check"] != "preflight":
    broken.append("the first line is not the preflight")
if not rows or rows[-1]["check"] != "summary":
    broken.append("the last line is not the summary")
pre = by.get("preflight", {})
libs = pre.get("cuda_libraries", {})
for lib, path_ in libs.items():
    want_found = not (run == "no_nccl" and lib.startswith("libnccl"))
    if (path_ is not None) != want_found:
        broken.append(f"preflight: {lib} {'not ' if want_found else ''}found")
if run == "all" and not isinstance(pre.get("signvote_devices"), dict):
    broken.append("preflight: `signvote devices --json` gave nothing (a singleton MPI_Init that cannot start?)")
if pre.get("gpus_visible") != 0:
    broken.append(f"preflight: gpus_visible {pre.get('gpus_visible')}, not 0")
nodev = by.get("mpi_nodevice", {})
if run == "all" and nodev.get("status") != "ok":
    broken.append(f"mpi_nodevice: {nodev.get('status')} ({nodev.get('last') or nodev.get('skipped')})")
if run == "no_nccl" and "libnccl" not in nodev.get("skipped", ""):
    broken.append(f"mpi_nodevice: not skipped for the missing NCCL ({nodev})")
for r in rows[1:-1]:
    if r["check"] != "mpi_nodevice" and r.get("status") != "skipped":
        broken.append(f"{r['check']}: {r.get('status')}, not skipped ({r.get('last', '')})")
summary = by.get("summary", {})
if summary.get("status") != "ok" or os.environ.get("DRY_RC") != "0":
    broken.append(f"summary {summary.get('status')}, exit status {os.environ.get('DRY_RC')}")
for b in broken:
    print(f"gpu_dry_run: {run}: {b}")
if not broken:
    print(f"gpu_dry_run: {run}: ok ({len(rows)} lines, {summary.get('skipped')} skipped)")
sys.exit(1 if broken else 0)
