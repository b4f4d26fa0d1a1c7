#!/usr/bin/python3
"""plot_robustness.py OUT.png DIR: Figure 9 at CPU scale.

DIR holds {mv,krum}_{negative,random}_{0..3}_val.csv (written by
scripts/reproduce.sh fig9); the 0-adversary runs are {mv,krum}_0_val.csv.
One panel per (aggregator, adversary mode); one curve per adversary count.
"""
import csv
import os
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

out, run_dir = sys.argv[1], sys.argv[2]
aggs = [("mv", "majority vote (signSGD)"), ("krum", "Multi-Krum f = 2 (SGD)")]
modes = ["negative", "random"]
fig, axes = plt.subplots(2, 2, figsize=(9, 6.5), sharex=True, sharey=True)
for i, (agg, agg_label) in enumerate(aggs):
    for j, mode in enumerate(modes):
        ax = axes[i][j]
        for count in range(4):
            name = f"{agg}_0" if count == 0 else f"{agg}_{mode}_{count}"
            path = os.path.join(run_dir, name + "_val.csv")
            if not os.path.exists(path):
                continue
            rows = list(csv.DictReader(open(path)))
            ax.plot([int(r["step"]) for r in rows], [100 * float(r["val_accuracy"]) for r in rows],
                    marker="o", ms=3, label=f"{count} adversar{'y' if count == 1 else 'ies'}")
        ax.set_title(f"{agg_label}, {mode} adversaries", fontsize=9)
        ax.grid(alpha=0.3)
        ax.axhline(10, color="grey", lw=0.8, ls=":")
        if i == 1:
            ax.set_xlabel("step (7 workers x 64 images)")
        if j == 0:
            ax.set_ylabel("validation accuracy (%)")
        ax.legend(fontsize=8)
fig.suptitle("CIFAR-10 ResNet-18 width 16, 7 workers, momentum and weight decay off")
fig.tight_layout()
fig.savefig(out, dpi=90)
print(f"wrote {out}")
