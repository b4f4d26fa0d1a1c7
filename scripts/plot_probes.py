#!/usr/bin/python3
"""plot_probes.py RUN.csv OUTDIR: the gradient probes of one run as PNGs.

Reads RUN_grads.csv and RUN_snr.csv (written with `probes:` set, see
docs/configuration.md) and writes
  OUTDIR/fig2_grad_hist.png  histograms of the chosen weights' mini-batch
                             gradients, one row per full pass (epoch), one
                             column per weight, with the mean marked;
  OUTDIR/fig3_snr.png        per-layer SNR of the mini-batch gradient against
                             training step (weights of conv / linear layers);
and prints a CSV summary (pass, layer-median SNR; weight, skewness) to stdout.
"""
import csv
import os
import statistics
import sys
from collections import defaultdict

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

run, outdir = sys.argv[1], sys.argv[2]
stem = os.path.splitext(run)[0]
os.makedirs(outdir, exist_ok=True)


def skewness(xs):
    m = statistics.fmean(xs)
    sd = statistics.pstdev(xs)
    return 0.0 if sd == 0 else statistics.fmean([((x - m) / sd) ** 3 for x in xs])


grads_path = stem + "_grads.csv"
if os.path.exists(grads_path):
    samples = defaultdict(list)  # (epoch, weight) -> grads
    names = {}
    for r in csv.DictReader(open(grads_path)):
        key = (int(r["epoch"]), int(r["weight"]))
        samples[key].append(float(r["grad"]))
        names[int(r["weight"])] = f'{r["layer"]}[{r["index"]}]'
    epochs = sorted({e for e, _ in samples})
    weights = sorted(names)
    fig, axes = plt.subplots(len(epochs), len(weights), figsize=(3.2 * len(weights), 2.4 * len(epochs)), squeeze=False)
    print("kind,epoch,weight,n,mean,std,skewness")
    for i, e in enumerate(epochs):
        for j, w in enumerate(weights):
            xs = samples[(e, w)]
            ax = axes[i][j]
            ax.hist(xs, bins=40, color="C0", alpha=0.8)
            ax.axvline(statistics.fmean(xs), color="C3", lw=1)
            ax.axvline(0, color="k", lw=0.6, ls=":")
            ax.set_title(f"epoch {e}: {names[w]}", fontsize=8)
            ax.tick_params(labelsize=7)
            ax.locator_params(axis="x", nbins=4)
            print(f"grad,{e},{names[w]},{len(xs)},{statistics.fmean(xs):.4g},{statistics.pstdev(xs):.4g},{skewness(xs):.3f}")
    fig.suptitle("mini-batch gradients of randomly chosen weights over a full pass (red: mean)", fontsize=9)
    fig.tight_layout()
    fig.savefig(os.path.join(outdir, "fig2_grad_hist.png"), dpi=80)

snr_rows = list(csv.DictReader(open(stem + "_snr.csv")))
by_layer = defaultdict(list)
order = {}
for r in snr_rows:
    name = r["name"]
    if not name.endswith(".weight") or "bn" in name or "shortcut.1" in name:
        continue  # conv and linear weights only
    by_layer[name].append((int(r["step"]), float(r["snr"])))
    order[name] = int(r["layer"])
fig, ax = plt.subplots(figsize=(6.5, 4))
cmap = plt.get_cmap("viridis")
names = sorted(by_layer, key=order.get)
for k, name in enumerate(names):
    pts = sorted(by_layer[name])
    ax.plot([s for s, _ in pts], [max(v, 1e-4) for _, v in pts], color=cmap(k / max(1, len(names) - 1)), lw=1,
            label=name if k in (0, len(names) // 2, len(names) - 1) else None)
ax.set_yscale("log")
ax.set(xlabel="step", ylabel="SNR  ||E g||^2 / sum Var[g]  (per layer)",
       title="SNR of the mini-batch gradient (dark: input side, light: output side)")
ax.grid(alpha=0.3)
ax.legend(fontsize=7)
fig.tight_layout()
fig.savefig(os.path.join(outdir, "fig3_snr.png"), dpi=90)
print("kind,step,pass,batches,median_layer_snr")
passes = defaultdict(list)
for r in snr_rows:
    if r["name"] in by_layer:
        passes[(int(r["step"]), r["kind"], r["batches"])].append(float(r["snr"]))
for (step, kind, batches), vals in sorted(passes.items()):
    print(f"snr,{step},{kind},{batches},{statistics.median(vals):.4g}")
print(f"wrote {outdir}/fig2_grad_hist.png and {outdir}/fig3_snr.png", file=sys.stderr)
