#!/usr/bin/python3
"""plot_cifar.py OUT.png LABEL=run_val.csv ...: validation accuracy against step."""
import csv
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

out = sys.argv[1]
fig, ax = plt.subplots(figsize=(6, 4))
for item in sys.argv[2:]:
    label, _, path = item.partition("=")
    rows = list(csv.DictReader(open(path)))
    ax.plot([int(r["step"]) for r in rows], [100 * float(r["val_accuracy"]) for r in rows], marker="o", ms=3, label=label)
ax.set(xlabel="step (7 workers x 64 images)", ylabel="validation accuracy (%)", title="CIFAR-10 ResNet-18 width 16, 7 workers")
ax.grid(alpha=0.3)
ax.legend()
fig.tight_layout()
fig.savefig(out, dpi=110)
print(f"wrote {out}")
