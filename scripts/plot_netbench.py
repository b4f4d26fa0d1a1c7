#!/usr/bin/python3
"""Table and plot of scripts/netbench.sh's runs: measured round times next to
the link model (busiest link's bytes each way / link rate).

  /usr/bin/python3 scripts/plot_netbench.py OUT/netbench.jsonl OUT_DIR
"""
import json
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

RATES = {"1gbit": 1e9, "100mbit": 1e8}
PLACEMENT = {
    "single": lambda r: "1 server apart",
    "sharded": lambda r: f"{r['servers']} shards colocated",
    "alltoall": lambda r: "all-to-all (no server in the data path)",
}
SHORT = {"single": "1 server", "sharded": "sharded", "alltoall": "all-to-all"}


def main():
    runs = [json.loads(line) for line in open(sys.argv[1]) if line.strip()]
    out = sys.argv[2]
    rows = ["| link | W | placement | vote round (ms) | model (ms) | ring all-reduce (ms) | model (ms) | all-reduce / vote |",
            "|---|---|---|---|---|---|---|---|"]
    for r in runs:
        bps = RATES[r["rate"]] / 8
        # the all-to-all moves the colocated shards' bytes per link
        link = r["critical_link_bytes"]["server_apart" if r["placement"] == "single" else "colocated"]
        rows.append("| {} | {} | {} | {:.0f} | {:.0f} | {:.0f} | {:.0f} | {:.1f}x |".format(
            r["rate"], r["workers"], PLACEMENT[r["placement"]](r),
            r["vote_round_ms"], 1e3 * link / bps, r["allreduce_round_ms"],
            1e3 * r["critical_link_bytes"]["ring_allreduce"] / bps, r["ratio_allreduce_over_vote"]))
    table = "\n".join(rows) + f"\n\nQueue {runs[0]['queue_ms']} ms per tbf; d = {runs[0]['dim']:,}; medians of {runs[0]['reps']}+ rounds.\n"
    open(f"{out}/netbench.md", "w").write(table)
    print(table)
    fig, axes = plt.subplots(1, 2, figsize=(13, 4))
    for ax, rate in zip(axes, ["1gbit", "100mbit"]):
        sel = [r for r in runs if r["rate"] == rate]
        labels = [f"W={r['workers']}\n{SHORT[r['placement']]}" for r in sel]
        xs = range(len(sel))
        ax.bar([x - 0.2 for x in xs], [r["vote_round_ms"] for r in sel], 0.4, label="majority vote round")
        ax.bar([x + 0.2 for x in xs], [r["allreduce_round_ms"] for r in sel], 0.4, label="ring all-reduce round")
        ax.set_xticks(list(xs), labels)
        ax.set_yscale("log")
        ax.set_ylabel("ms per round (log)")
        ax.set_title(f"{rate}, d = 11.2M")
        ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(f"{out}/netbench.png", dpi=120)


if __name__ == "__main__":
    main()
