#!/usr/bin/python3
"""The link cost model of docs/scaling.md: per-round time of one vote or
all-reduce as bytes through the busiest link plus per-message latency.

  /usr/bin/python3 scripts/scaling_model.py            (prints the markdown tables)

d parameters; b = d/8 bytes of packed signs; f = 4d bytes of fp32;
W workers (one per node, or g per node for the hierarchy); B link rate
(bytes/s each way, full duplex); alpha per message (software + wire latency,
10 us assumed); a round's phases (votes in, results out) are sequential.

  single server apart   2 W b / B             + 2 alpha      server degree W in, W out
  colocated shards      2 (W-1)/W b / B       + 2 (W-1) alpha  every node W-1 in, W-1 out
  hierarchy (g/node)    intra-node fp32 reduce + bcast (NVLink, 150 GB/s)
                        + colocated vote among the n = W/g node leaders
  ring all-reduce       2 (W-1)/W f / B       + 2 (W-1) alpha
"""
ALPHA = 10e-6
NVLINK = 150e9  # bytes/s inside a node (hierarchy's fp32 reduce and broadcast)


def single(d, w, bps):
    return 2 * w * d / 8 / bps + 2 * ALPHA


def colocated(d, w, bps):
    return 2 * (w - 1) / w * d / 8 / bps + 2 * (w - 1) * ALPHA


def hierarchy(d, nodes, bps, g=8):
    intra = 2 * (g - 1) / g * 4 * d / NVLINK + 2 * d / 8 / NVLINK
    return intra + colocated(d, nodes, bps)


def ring(d, w, bps):
    return 2 * (w - 1) / w * 4 * d / bps + 2 * (w - 1) * ALPHA


def ms(t):
    return f"{1e3 * t:.1f}" if t < 10 else f"{t:.0f} s"


def main():
    for d, name in ((11173962, "ResNet-18, d = 11.2M"), (25557032, "ResNet-50, d = 25.6M")):
        print(f"\n**{name}** (ms per round; one worker per node, hierarchy: 8 GPUs per node)\n")
        print("| nodes | link | single server | colocated shards | hierarchy (8/node) | ring all-reduce | ring / colocated |")
        print("|---|---|---|---|---|---|---|")
        for nodes in (8, 64, 1024):
            for gbit in (10, 100, 400):
                bps = gbit * 1e9 / 8
                c = colocated(d, nodes, bps)
                r = ring(d, nodes, bps)
                print(f"| {nodes} | {gbit} Gbit/s | {ms(single(d, nodes, bps))} | {ms(c)} | "
                      f"{ms(hierarchy(d, nodes, bps))} | {ms(r)} | {r / c:.1f}x |")


if __name__ == "__main__":
    main()
