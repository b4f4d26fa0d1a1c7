#!/usr/bin/python3
"""Writes tests/nn/fixtures/resnet18_w2.bin: a PyTorch reference for the
whole-network test of signvote_nn (tests/nn/test_model_reference.cpp).

Model: the CIFAR ResNet-18 of bench/peer_pytorch_resnet18.py at width 2
(channels 2,4,8,16; 11,420 parameters), batch 2, 3x16x16 inputs, computed in
float64 with Debian's python3-torch. Weights, BN affine parameters and BN
running stats are random (not the default init), so the fixture checks the
arithmetic, not the initialiser. One train-mode step (forward, mean
cross-entropy, backward) is recorded, then an eval-mode forward with the
updated running stats.

Binary format, little-endian, version 1 (reader: tests/nn/fixture_reader.h):
  u32  magic  = 0x46524E53 ("SNRF")
  u32  version = 1
  i32  width, batch, in_channels, image_size, num_classes
  i32  num_params   P (sum over named_parameters(), in that order)
  i32  num_buffers  B (running_mean, running_var of every BN, module order;
                       num_batches_tracked is not stored)
  f32  params[P]          weights as loaded into the model
  f32  buffers_before[B]  running stats before the step
  f32  images[batch*in_channels*image_size*image_size]   NCHW
  i32  labels[batch]
  f32  logits_train[batch*num_classes]
  f64  loss               mean cross-entropy
  f32  grads[P]           d loss / d params, same order as params
  f32  buffers_after[B]   running stats after the train step
  f32  logits_eval[batch*num_classes]
  u32  magic (end marker)

Run:  /usr/bin/python3 scripts/make_nn_reference.py [--out PATH]
"""
import argparse
import os
import struct
import sys

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "bench"))
from peer_pytorch_resnet18 import ResNet18  # noqa: E402

MAGIC = 0x46524E53
VERSION = 1


def randomize(model, gen):
    with torch.no_grad():
        for name, p in model.named_parameters():
            if p.dim() > 1:  # conv / linear weights: N(0, 2/fan_in)
                fan_in = p[0].numel()
                p.copy_(torch.randn(p.shape, generator=gen, dtype=p.dtype) * (2.0 / fan_in) ** 0.5)
            elif name.endswith("weight"):  # BN gamma
                p.copy_(0.5 + torch.rand(p.shape, generator=gen, dtype=p.dtype))
            else:  # BN beta, linear bias
                p.copy_(0.1 * torch.randn(p.shape, generator=gen, dtype=p.dtype))
        for m in model.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.running_mean.copy_(0.1 * torch.randn(m.running_mean.shape, generator=gen, dtype=torch.float64))
                m.running_var.copy_(0.5 + torch.rand(m.running_var.shape, generator=gen, dtype=torch.float64))


def buffers(model):
    out = []
    for m in model.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            out += [m.running_mean.detach().clone(), m.running_var.detach().clone()]
    return torch.cat([b.flatten() for b in out])


def f32(t):
    return np.ascontiguousarray(t.detach().cpu().numpy().astype("<f4")).tobytes()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "..", "tests", "nn",
                                                  "fixtures", "resnet18_w2.bin"))
    ap.add_argument("--width", type=int, default=2)
    ap.add_argument("--batch", type=int, default=2)
    ap.add_argument("--size", type=int, default=16)
    args = ap.parse_args()
    classes, cin = 10, 3

    gen = torch.Generator().manual_seed(20190101)
    model = ResNet18(args.width, classes, cin).double()
    randomize(model, gen)
    # Params are rounded to float32 first so both sides start from the same values.
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(p.float().double())
        for m in model.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.running_mean.copy_(m.running_mean.float().double())
                m.running_var.copy_(m.running_var.float().double())
    params = torch.cat([p.detach().flatten() for p in model.parameters()])
    buf_before = buffers(model)
    x = torch.randn(args.batch, cin, args.size, args.size, generator=gen, dtype=torch.float64)
    x = x.float().double()
    labels = torch.randint(0, classes, (args.batch,), generator=gen)

    model.train()
    logits = model(x)
    loss = F.cross_entropy(logits, labels)
    loss.backward()
    grads = torch.cat([p.grad.flatten() for p in model.parameters()])
    buf_after = buffers(model)
    model.eval()
    with torch.no_grad():
        logits_eval = model(x)

    with open(args.out, "wb") as f:
        f.write(struct.pack("<II", MAGIC, VERSION))
        f.write(struct.pack("<7i", args.width, args.batch, cin, args.size, classes,
                            params.numel(), buf_before.numel()))
        f.write(f32(params) + f32(buf_before) + f32(x))
        f.write(np.asarray(labels.numpy(), dtype="<i4").tobytes())
        f.write(f32(logits) + struct.pack("<d", loss.item()) + f32(grads))
        f.write(f32(buf_after) + f32(logits_eval))
        f.write(struct.pack("<I", MAGIC))
    print(f"wrote {args.out}: {params.numel()} params, {buf_before.numel()} buffers, "
          f"loss {loss.item():.6f}, {os.path.getsize(args.out)} bytes")


if __name__ == "__main__":
    main()
