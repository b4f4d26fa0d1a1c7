#!/usr/bin/python3
"""PyTorch peer of `signvote-bench step`: one worker's forward + backward +
Signum step on the CIFAR ResNet-18 (same architecture as signvote_nn's
"resnet18": 3x3 stem, no max-pool, BasicBlocks [2,2,2,2], 1x1 conv+BN
shortcut on downsample, global avg-pool, linear).

Prints one JSON object: images_per_s (batch / median step seconds), the
median step in ms, and the settings. Warm-up iterations are excluded.
PyTorch's fastest CPU setting is measured: both memory formats (contiguous
NCHW and channels_last) are timed and the faster one is reported, with the
other's figure alongside.

  /usr/bin/python3 bench/peer_pytorch_resnet18.py --threads 1 --batch 32

On a GPU (--device cuda) the same step runs with cudnn.benchmark = True and
the math mode of `signvote-bench step --math` (tf32: cuDNN convolutions may
use TF32, PyTorch's default; fp32: they may not; matmuls stay FP32 in both,
PyTorch's default). Steps are timed between torch.cuda.synchronize() calls.
"""
import argparse
import json
import statistics
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


class BasicBlock(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.shortcut = nn.Sequential()
        if stride != 1 or cin != cout:
            self.shortcut = nn.Sequential(
                nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return F.relu(out + self.shortcut(x))


class ResNet18(nn.Module):
    """Parameter order (named_parameters) is the order signvote_nn uses."""

    def __init__(self, width=64, num_classes=10, in_channels=3):
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, width, 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        layers, cin = [], width
        for i, stride in enumerate([1, 2, 2, 2]):
            cout = width * (1 << i)
            layers.append(nn.Sequential(BasicBlock(cin, cout, stride),
                                        BasicBlock(cout, cout, 1)))
            cin = cout
        self.layer1, self.layer2, self.layer3, self.layer4 = layers
        self.linear = nn.Linear(cin, num_classes)

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.layer4(self.layer3(self.layer2(self.layer1(out))))
        out = F.adaptive_avg_pool2d(out, 1).flatten(1)
        return self.linear(out)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--width", type=int, default=64)
    ap.add_argument("--iters", type=int, default=10)
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--lr", type=float, default=1e-4)
    ap.add_argument("--wd", type=float, default=5e-4)
    ap.add_argument("--device", choices=("cpu", "cuda"), default="cpu")
    ap.add_argument("--math", choices=("fp32", "tf32"), default="tf32")
    args = ap.parse_args()

    torch.set_num_threads(args.threads)
    if args.device == "cuda":
        torch.backends.cudnn.benchmark = True
        torch.backends.cudnn.allow_tf32 = args.math == "tf32"
        torch.backends.cuda.matmul.allow_tf32 = False
    results = {fmt: time_format(args, fmt) for fmt in ("contiguous", "channels_last")}
    best = min(results, key=results.get)
    med = results[best]
    print(json.dumps({
        "impl": "pytorch", "torch": torch.__version__, "model": "resnet18",
        "device": args.device, "math": args.math if args.device == "cuda" else "fp32",
        "width": args.width, "batch": args.batch, "threads": args.threads,
        "iters": args.iters, "memory_format": best, "step_ms": med * 1e3,
        "images_per_s": args.batch / med,
        "images_per_s_by_format": {f: args.batch / t for f, t in results.items()},
        "num_params": sum(p.numel() for p in ResNet18(args.width).parameters())}))


def time_format(args, fmt):
    """Median seconds of one Signum training step in memory format `fmt`."""
    torch.manual_seed(0)
    mf = torch.channels_last if fmt == "channels_last" else torch.contiguous_format
    dev = torch.device(args.device)
    model = ResNet18(args.width).train().to(dev, memory_format=mf)
    params = list(model.parameters())
    moms = [torch.zeros_like(p) for p in params]
    x = torch.randn(args.batch, 3, 32, 32).to(dev).contiguous(memory_format=mf)
    y = torch.randint(0, 10, (args.batch,)).to(dev)
    sync = torch.cuda.synchronize if args.device == "cuda" else (lambda: None)

    def step():
        for p in params:
            p.grad = None
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        with torch.no_grad():  # Signum: m = 0.9 m + 0.1 g; x -= lr (sign(m) + wd x)
            for p, m in zip(params, moms):
                m.mul_(0.9).add_(p.grad, alpha=0.1)
                p.sub_(args.lr * (torch.sign(m) + args.wd * p))
        return loss.item()

    for _ in range(args.warmup):
        step()
    times = []
    for _ in range(args.iters):
        sync()
        t0 = time.perf_counter()
        step()
        sync()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


if __name__ == "__main__":
    main()
