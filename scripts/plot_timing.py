#!/usr/bin/python3
"""plot_timing.py OUT.png LABEL=metrics.csv ...: the paper's Figure 4 timing breakdown.

Stacked bars of the mean seconds per step spent in compute, compression
(t_pack), communication (t_comm, which includes the server's tally) and the
update (t_apply), from signvote metrics CSVs (rows after the first 10% are
averaged, skipping warm-up). Prints the same numbers as CSV.
"""
import csv
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

PARTS = [("t_compute", "compute"), ("t_pack", "compress"), ("t_comm", "communicate"), ("t_apply", "apply")]


def means(path):
    rows = list(csv.DictReader(open(path)))
    rows = rows[len(rows) // 10:] or rows
    return {k: sum(float(r[k]) for r in rows) / len(rows) for k, _ in PARTS}


out = sys.argv[1]
runs = [(item.rpartition("=")[0], means(item.rpartition("=")[2])) for item in sys.argv[2:]]  # labels may hold "="
print("run," + ",".join(k for k, _ in PARTS))
for label, m in runs:
    print(label + "," + ",".join(f"{m[k]:.5f}" for k, _ in PARTS))
fig, ax = plt.subplots(figsize=(6, 4))
bottom = [0.0] * len(runs)
for key, name in PARTS:
    vals = [m[key] for _, m in runs]
    ax.bar([label for label, _ in runs], vals, bottom=bottom, label=name)
    bottom = [b + v for b, v in zip(bottom, vals)]
ax.set(ylabel="seconds per step (mean over workers)", title="Time per step by phase")
ax.legend()
fig.tight_layout()
fig.savefig(out, dpi=110)
print(f"wrote {out}")
