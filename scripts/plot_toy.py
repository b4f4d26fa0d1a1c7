#!/usr/bin/python3
"""Draws the paper's Figure 1 from signvote metrics CSVs.

  plot_toy.py OUT.png --curve LABEL=run.csv ... [--adv COUNT=run.csv ...]

Left: objective against step for each --curve (SGD, signSGD, Signum-MV).
Right: objective against step for each adversary count in the sweep.
"""
import argparse
import csv

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def read(path):
    steps, obj = [], []
    with open(path) as f:
        for row in csv.DictReader(f):
            steps.append(int(row["step"]))
            obj.append(float(row["objective"]))
    return steps, obj


def pairs(items):
    out = []
    for item in items or []:
        label, _, path = item.rpartition("=")
        out.append((label, path))
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("out")
    ap.add_argument("--curve", action="append", help="LABEL=metrics.csv")
    ap.add_argument("--adv", action="append", help="ADVERSARIES=metrics.csv")
    ap.add_argument("--workers", type=int, default=27)
    a = ap.parse_args()
    curves, sweep = pairs(a.curve), pairs(a.adv)
    fig, axes = plt.subplots(1, 2 if sweep else 1, figsize=(11 if sweep else 6, 4), squeeze=False)
    ax = axes[0][0]
    for label, path in curves:
        ax.plot(*read(path), label=label)
    ax.set(yscale="log", xlabel="step", ylabel="objective f(x) = ½‖x‖²", title=f"{a.workers} workers, d = 1000")
    ax.legend()
    if sweep:
        ax = axes[0][1]
        cmap = plt.get_cmap("viridis")
        for i, (count, path) in enumerate(sweep):
            ax.plot(*read(path), color=cmap(i / max(1, len(sweep) - 1)), label=f"{count} of {a.workers} adversarial")
        ax.set(yscale="log", xlabel="step", ylabel="objective", title="Signum-MV vs sign-inverting adversaries")
        ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(a.out, dpi=110)
    print(f"wrote {a.out}")


if __name__ == "__main__":
    main()
