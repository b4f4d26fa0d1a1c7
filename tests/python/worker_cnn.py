"""A small CNN trained by PyTorch workers with the vote, on a CIFAR-format
fixture (tests/mpi/make_cifar_fixture): worker k of W takes every W-th
image of data_batch_1.bin. Worker 0 prints
  CNN <test accuracy> <mean loss of the first 5 steps> <of the last 5>

    worker_cnn.py DATA [LOADER_WORKERS]

LOADER_WORKERS > 0: the batches come from a torch DataLoader with that many
worker processes, started after the optimizer joined the job (forked after
MPI_Init), as an ordinary training script does.
"""
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from signvote.torch import VoteOptimizer


def load(path):
    raw = np.fromfile(path, dtype=np.uint8).reshape(-1, 3073)
    x = torch.from_numpy(raw[:, 1:].astype(np.float32) / 255.0).reshape(-1, 3, 32, 32)
    return (x - 0.5) / 0.25, torch.from_numpy(raw[:, 0].astype(np.int64))


def main():
    data = sys.argv[1]
    loader_workers = int(sys.argv[2]) if len(sys.argv) > 2 else 0
    torch.manual_seed(0)  # the same initial weights on every worker
    torch.set_num_threads(1)
    model = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(4),
                          nn.Conv2d(8, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(4),
                          nn.Flatten(), nn.Linear(16 * 2 * 2, 10))
    opt = VoteOptimizer(model.parameters(), method="signum", lr=0.002, momentum=0.9)
    x, y = load(f"{data}/data_batch_1.bin")
    x, y = x[opt.worker_index::opt.workers], y[opt.worker_index::opt.workers]
    g = torch.Generator().manual_seed(1 + opt.worker_index)
    losses = []
    for bx, by in batches(x, y, g, loader_workers):
        if opt.stop_requested:
            break
        opt.zero_grad()
        loss = F.cross_entropy(model(bx), by)
        loss.backward()
        opt.step(loss=loss)
        losses.append(loss.item())
    opt.close()
    if opt.worker_index == 0:
        tx, ty = load(f"{data}/test_batch.bin")
        with torch.no_grad():
            acc = (model(tx).argmax(1) == ty).float().mean().item()
        print(f"CNN {acc:.4f} {np.mean(losses[:5]):.4f} {np.mean(losses[-5:]):.4f}", flush=True)


def batches(x, y, g, loader_workers):
    """Batches of 32 without end: drawn here, or by a DataLoader's worker
    processes (forked after MPI_Init) when loader_workers > 0."""
    if loader_workers == 0:
        while True:
            idx = torch.randint(0, len(y), (32,), generator=g)
            yield x[idx], y[idx]
    loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(x, y), batch_size=32, shuffle=True,
                                         drop_last=True, num_workers=loader_workers, generator=g,
                                         persistent_workers=True)
    while True:
        yield from loader


if __name__ == "__main__":
    main()
