#!/usr/bin/env python3
"""Summary of bench/run_before_after.sh's JSON lines (file given as argv[1]):
the best figure of each build over its passes, and new/old. For times
(lower is better) the ratio is old/new, so > 1 always means the new build
is faster; prints one JSON object."""
import json
import sys

# (bench, field, higher_is_better)
HEADLINES = [
    ("kernels", "pack_GBps", True),
    ("kernels", "momentum_pack_GBps", True),
    ("kernels", "apply_GBps", True),
    ("kernels", "tally_ms", False),
    ("comm_1_shard", "vote_round_ms", False),
    ("comm_7_shards", "vote_round_ms", False),
    ("step_vs_pytorch", "threads_1.signvote_images_per_s", True),
    ("step_vs_pytorch", "threads_2.signvote_images_per_s", True),
    ("step_vs_pytorch", "threads_1.ratio", True),
    ("step_vs_pytorch", "threads_2.ratio", True),
]


def field(result, path):
    for key in path.split("."):
        result = result[key]
    return float(result)


def main(path):
    rows = [json.loads(line) for line in open(path) if line.strip()]
    rows = [r for r in rows if "bench" in r]  # a file that also holds an earlier summary
    summary = {}
    for bench, name, higher in HEADLINES:
        best = {}
        for build in ("old", "new"):
            values = [field(r["result"], name) for r in rows if r["bench"] == bench and r["build"] == build]
            if not values:
                break
            best[build] = max(values) if higher else min(values)
        if len(best) < 2:
            continue
        speedup = best["new"] / best["old"] if higher else best["old"] / best["new"]
        summary[f"{bench}.{name}"] = {"old": best["old"], "new": best["new"], "new_vs_old": round(speedup, 3)}
    print(json.dumps({"summary": summary}))


if __name__ == "__main__":
    main(sys.argv[1])
