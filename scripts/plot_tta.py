#!/usr/bin/python3
"""plot_tta.py OUT.png TITLE LABEL=run_val.csv ...

Validation accuracy (%) against wall-clock seconds (the val CSV's elapsed_s),
one curve per run; prints each run's last row and its best accuracy.
"""
import csv
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

out, title = sys.argv[1], sys.argv[2]
fig, ax = plt.subplots(figsize=(7, 4.5))
for arg in sys.argv[3:]:
    label, _, path = arg.rpartition("=")
    rows = list(csv.DictReader(open(path)))
    if not rows:
        sys.exit(f"plot_tta.py: {path} has no validation rows")
    t = [float(r["elapsed_s"]) for r in rows]
    acc = [100 * float(r["val_accuracy"]) for r in rows]
    ax.plot(t, acc, "o-", markersize=3, label=label)
    best = max(range(len(acc)), key=acc.__getitem__)
    print(f"{label}: last {acc[-1]:.2f}% at step {rows[-1]['step']} ({t[-1]:.0f} s); "
          f"best {acc[best]:.2f}% at step {rows[best]['step']} ({t[best]:.0f} s)")
ax.set_xlabel("wall-clock seconds")
ax.set_ylabel("validation accuracy (%)")
ax.set_title(title, fontsize=10)
ax.legend(fontsize=8)
fig.tight_layout()
fig.savefig(out, dpi=120)
