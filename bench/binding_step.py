"""One optimizer step of the PyTorch binding against PyTorch's own optimizers
on the same parameters (one worker rank; bench/run_binding_step.sh launches
it beside `signvote serve`). Prints one JSON object:

  vote_step_ms       VoteOptimizer.step(): Signum momentum + pack, the round
                     trip with the C++ server (packed signs, d/8 bytes each
                     way), the fused apply; median of --iters
  torch_sgd_ms       torch.optim.SGD(momentum=0.9, foreach=True).step()
  torch_signum_ms    Signum written with torch's foreach ops (the update the
                     vote applies, without the vote)
  ratio_vs_sgd       torch_sgd_ms / vote_step_ms (> 1: the vote step is faster)
  ratio_vs_signum    torch_signum_ms / vote_step_ms

The parameters are ResNet-18's tensor shapes at --width (64: 11.2M floats).
"""
import argparse
import json
import statistics
import time

import torch

from signvote.torch import VoteOptimizer


def resnet18_shapes(w):
    shapes, cin = [(w, 3, 3, 3), (w,), (w,)], w
    for stage in range(4):
        c = w << stage
        for block in range(2):
            shapes += [(c, cin if block == 0 else c, 3, 3), (c,), (c,), (c, c, 3, 3), (c,), (c,)]
            if block == 0 and (stage > 0 or cin != c):
                shapes += [(c, cin, 1, 1), (c,), (c,)]
        cin = c
    return shapes + [(10, cin), (10,)]


def timed(fn, iters, warmup=3):
    for _ in range(warmup):
        fn()
    out = []
    for _ in range(iters):
        t0 = time.perf_counter()
        fn()
        out.append(1e3 * (time.perf_counter() - t0))
    return statistics.median(out)


def params(shapes, seed):
    g = torch.Generator().manual_seed(seed)
    ps = [torch.nn.Parameter(torch.randn(s, generator=g)) for s in shapes]
    for p in ps:
        p.grad = torch.randn(p.shape, generator=g)
    return ps


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--width", type=int, default=64)
    ap.add_argument("--iters", type=int, default=20)
    ap.add_argument("--threads", type=int, default=1)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    shapes = resnet18_shapes(a.width)

    ps = params(shapes, 0)
    sgd = torch.optim.SGD(ps, lr=1e-3, momentum=0.9, foreach=True)
    sgd_ms = timed(sgd.step, a.iters)

    ps = params(shapes, 0)
    ms = [torch.zeros_like(p) for p in ps]
    gs = [p.grad for p in ps]
    xs = [p.data for p in ps]

    def signum():
        torch._foreach_mul_(ms, 0.9)
        torch._foreach_add_(ms, gs, alpha=0.1)
        torch._foreach_add_(xs, [torch.sign(m) for m in ms], alpha=-1e-3)

    signum_ms = timed(signum, a.iters)

    ps = params(shapes, 0)
    opt = VoteOptimizer(ps, method="signum", lr=1e-3, momentum=0.9, steps=a.iters + 3)
    vote_ms = timed(opt.step, a.iters)
    opt.close()
    d = sum(p.numel() for p in ps)
    print(json.dumps({"bench": "binding_step", "dim": d, "width": a.width, "threads": a.threads,
                      "isa": __import__("signvote").isa(), "vote_step_ms": round(vote_ms, 3),
                      "torch_sgd_ms": round(sgd_ms, 3), "torch_signum_ms": round(signum_ms, 3),
                      "ratio_vs_sgd": round(sgd_ms / vote_ms, 3), "ratio_vs_signum": round(signum_ms / vote_ms, 3),
                      "torch": torch.__version__}))


if __name__ == "__main__":
    main()
