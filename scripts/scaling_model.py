#!/usr/bin/python3
"""The link cost model of docs/scaling.md: per-round time of one vote or
all-reduce as bytes through the busiest link plus per-message latency.

  /usr/bin/python3 scripts/scaling_model.py            (prints the markdown tables)
  /usr/bin/python3 scripts/scaling_model.py --local    (local steps over wide-area links)

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
import math
import sys

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


def ring_bits(d, w, bps, bits):
    """A ring all-reduce of `bits`-bit values (fp32 32, fp16 16, int8 8)."""
    return 2 * (w - 1) / w * bits / 8 * d / bps + 2 * (w - 1) * ALPHA


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


# Local steps over wide-area links (docs/scaling.md, "Local steps"). One
# round every H steps; communication per step = round time / H. A vote
# round's phases send their W-1 messages at once: 2 wire latencies plus the
# per-message software cost; a ring's 2 (W-1) steps each wait a wire latency.
# The step time of a node of 8 H100s: 6 d FLOPs per token, TOKENS tokens per
# node per step, 989 TFLOP/s dense bf16 per GPU at 40% MFU (assumptions).
WAN_LATENCY = 30e-3  # one wide-area hop, one way (between sites of a continent)
TOKENS = 256 * 1024
H100_NODE = 989e12 * 0.4 * 8
PAYLOAD_BITS = (("vote", 1), ("fp32 ring (DiLoCo)", 32), ("fp16 ring (OpenDiLoCo)", 16), ("int8 ring (INTELLECT-1)", 8))


def wan_round(d, w, bps, bits):
    if bits == 1:  # colocated shards: 2 (W-1)/W b per link, the messages of a phase in parallel
        return 2 * (w - 1) / w * d / 8 / bps + 2 * WAN_LATENCY + 2 * (w - 1) * ALPHA
    return 2 * (w - 1) / w * bits / 8 * d / bps + 2 * (w - 1) * WAN_LATENCY


def step_time(d):
    return 6 * d * TOKENS / H100_NODE


def h_for_10_percent(round_s, d):
    """The smallest H with round_s / H <= 10% of a step."""
    return max(1, math.ceil(round_s / (0.1 * step_time(d))))


def secs(t):
    return f"{t:.0f} s" if t >= 10 else f"{t:.1f} s"


def local_tables():
    print("| design | bits per parameter per step, both ways |")
    print("|---|---|")
    for name, bits in PAYLOAD_BITS:
        cost = "2 (1 up, 1 down)" if bits == 1 else f"~{2 * bits} (2 (W-1)/W x {bits})"
        print(f"| {name}, every step | {cost} |")
        print(f"| {name}, every H steps | {cost.split()[0].lstrip('~')}/H |")
    for d, name in ((1e9, "1B parameters"), (10e9, "10B parameters")):
        print(f"\n**{name}** (a step of 8 H100s: {step_time(d):.2f} s). Each cell: the round's time, and the H "
              "that keeps communication under 10% of the step time\n")
        print("| nodes | link | " + " | ".join(n for n, _ in PAYLOAD_BITS) + " |")
        print("|---|---|" + "---|" * len(PAYLOAD_BITS))
        for nodes in (8, 64, 1024):
            for mbit, label in ((1000, "1 Gbit/s"), (100, "100 Mbit/s")):
                bps = mbit * 1e6 / 8
                cells = [wan_round(d, nodes, bps, bits) for _, bits in PAYLOAD_BITS]
                print(f"| {nodes} | {label} | " + " | ".join(f"{secs(r)}, H = {h_for_10_percent(r, d)}" for r in cells) + " |")
    d, w = 701466, 7  # the emulated cluster: CIFAR ResNet-18 w16, 7 nodes, 1 Mbit/s, ~0 latency
    print(f"\nThe emulated point (d = {d}, 7 nodes, 1 Mbit/s): vote round "
          f"{2 * (w - 1) / w * d / 8 / 125e3:.2f} s, fp32 ring {2 * (w - 1) / w * 4 * d / 125e3:.1f} s")


if __name__ == "__main__":
    if sys.argv[1:] == ["--local"]:
        local_tables()
    else:
        main()
