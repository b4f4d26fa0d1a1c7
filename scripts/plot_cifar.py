#!/usr/bin/python3
"""plot_cifar.py OUT.png [--panel TITLE] LABEL=run_val.csv ... [--panel TITLE ...]

Validation accuracy against step; each --panel starts a new subplot (side by
side, shared y axis) holding the curves named after it.
"""
import csv
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

out = sys.argv[1]
panels = []  # [(title, [(label, path)])]
args = sys.argv[2:]
i = 0
while i < len(args):
    if args[i] == "--panel":
        panels.append((args[i + 1], []))
        i += 2
        continue
    if not panels:
        panels.append(("CIFAR-10 ResNet-18 width 16, 7 workers", []))
    label, _, path = args[i].rpartition("=")
    panels[-1][1].append((label, path))
    i += 1
fig, axes = plt.subplots(1, len(panels), figsize=(6 * len(panels), 4), sharey=True, squeeze=False)
for ax, (title, curves) in zip(axes[0], panels):
    for label, path in curves:
        rows = list(csv.DictReader(open(path)))
        ax.plot([int(r["step"]) for r in rows], [100 * float(r["val_accuracy"]) for r in rows], marker="o", ms=3,
                label=label)
    ax.set(xlabel="step (7 workers x 64 images)", title=title)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
axes[0][0].set_ylabel("validation accuracy (%)")
fig.tight_layout()
fig.savefig(out, dpi=90)
print(f"wrote {out}")
