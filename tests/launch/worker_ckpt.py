"""A PyTorch worker that saves and resumes itself with signvote.checkpoints,
for `signvote launch --mpmd` (tests/launch/launch_real.sh, python case).

    worker_ckpt.py --checkpoint-dir DIR [--steps 400] [--every 50]

A linear model (40 -> 25, 1,025 parameters, the same initial weights on every
worker) fitted to random batches drawn from (step, worker). Worker 1 sleeps
20 ms a step, so a run lasts long enough to be killed in. Prints
  RESUMED <worker> <step> <weights hash> <joined 0|1>   after a resume
  HASH <worker> <steps done> <weights hash>             at the end
"""
import argparse
import time

import torch

import signvote
from signvote.checkpoints import Checkpoints
from signvote.torch import VoteOptimizer


def weights_hash(model):
    return signvote.weight_hash(torch.cat([p.detach().reshape(-1) for p in model.parameters()]))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--checkpoint-dir", required=True)
    ap.add_argument("--steps", type=int, default=400)
    ap.add_argument("--every", type=int, default=50, help="steps between saves")
    a = ap.parse_args()
    ck_dir, steps, every = a.checkpoint_dir, a.steps, a.every
    torch.manual_seed(1)
    model = torch.nn.Linear(40, 25)
    opt = VoteOptimizer(model.parameters(), method="signum", lr=0.005, momentum=0.9, weight_decay=0.001, steps=steps)
    ck = Checkpoints(ck_dir, keep=100)
    r = ck.resume(opt, model)
    k = opt.worker_index
    if r is not None:
        print(f"RESUMED {k} {r['step']} {weights_hash(model):#018x} {int(r['joined'])}", flush=True)
    step = r["step"] if r is not None else 0
    while not opt.stop_requested:
        step += 1
        g = torch.Generator().manual_seed(1000003 * step + k)
        x, y = torch.randn(16, 40, generator=g), torch.randn(16, 25, generator=g)
        opt.zero_grad()
        loss = ((model(x) - y) ** 2).mean()
        loss.backward()
        opt.step(loss=loss)
        if opt.steps_done % every == 0:
            ck.save(opt, model)
        if k == 1:
            time.sleep(0.02)
    print(f"HASH {k} {opt.steps_done} {weights_hash(model):#018x}", flush=True)
    opt.close()


if __name__ == "__main__":
    main()
