"""A PyTorch LocalVote worker on the C++ quadratic toy (run_binding_test.py local).

    worker_local.py CONFIG --h H [--save DIR] [--resume DIR] [--set k=v ...]

The inner optimizer is torch.optim.SGD(lr=0.125, momentum=0.5): powers of two,
so that torch's fused multiply-adds round exactly as the C++ inner step's
separate ones, and the run can be compared bit for bit with `signvote train`
(inner.lr 0.125, inner.momentum 0.5). The gradients are the C++ toy's own
(test_hooks.ToyGradients). A second parameter never gets a gradient: it must
never move. Prints HASH <worker> <inner steps> <hex of x>, or ERROR lines.
"""
import argparse
import sys

import torch

import signvote
from signvote.torch import LocalVote
from test_hooks import ToyGradients, finish, guarded, load_worker, save_worker


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("config")
    ap.add_argument("--h", type=int, required=True)
    ap.add_argument("--save", default="")
    ap.add_argument("--resume", default="")
    ap.add_argument("--set", action="append", default=[])
    a = ap.parse_args()
    cfg = dict(kv.split("=", 1) for kv in a.set)
    dim = int(cfg.get("model.dim", 1000))
    rank, _ = signvote.world()
    x = torch.nn.Parameter(torch.full((dim,), 1.0))
    idle = torch.nn.Parameter(torch.full((5,), 2.0))
    settings = {k: v for k, v in cfg.items() if not k.startswith("model.")}
    def body():
        inner = torch.optim.SGD([x, idle], lr=0.125, momentum=0.5)
        opt = LocalVote(inner, local_steps=a.h, method="signum", lr=0.005, momentum=0.9, weight_decay=0.001,
                        settings=settings)
        w = opt.worker_index
        toy = ToyGradients(a.config, w)
        if a.resume:
            load_worker(a.resume, w, x, opt, toy, dim)
        step = opt.steps_done
        while not opt.stop_requested:
            step += 1
            opt.zero_grad()
            (x * 0).sum().backward()  # x.grad: the flat gradient slot, which the toy writes into
            loss = toy.compute(x.data_ptr(), x.grad.data_ptr(), dim, step)
            opt.step(loss=loss)
        if a.save:
            save_worker(a.save, w, x, opt)
        if not bool((idle == 2.0).all()):
            raise SystemExit(f"FAIL: worker {w}: a parameter without gradients moved")
        finish(opt, w, x.detach())
    return guarded(rank, body)


if __name__ == "__main__":
    sys.exit(main())
