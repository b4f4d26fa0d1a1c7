"""A PyTorch worker on the C++ quadratic toy (tests/python/run_binding_test.py).

    worker_toy.py CONFIG [--method M] [--lr X] [--nan-at STEP] [--leave-at STEP]
                  [--extra N] [--save DIR] [--resume DIR] [--set k=v ...]
                  [--device cpu|cuda:N [--current-device K] [--side-stream] --save-x DIR]

The gradients come from the C++ worker's own quadratic (test_hooks.ToyGradients,
a test-only library: same RNG stream as `signvote train` gives this worker),
so the updates can be compared bit for bit with the C++ path. Prints one
line per outcome:
  HASH <worker> <step> <hex>            the weight hash after the last step
  ERROR <worker> <Class> <cause> <rank> <message>   a signvote exception
"""
import argparse
import os
import sys

import torch

import signvote
from signvote.torch import VoteOptimizer
from test_hooks import ToyGradients, finish, load_worker, print_error, save_worker  # beside this file; the library: $SIGNVOTE_TEST_HOOKS


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("config")
    ap.add_argument("--method", default="signum")
    ap.add_argument("--lr", type=float, default=0.005)
    ap.add_argument("--wd", type=float, default=0.001)
    ap.add_argument("--nan-at", type=int, default=0)
    ap.add_argument("--nan-worker", type=int, default=1)
    ap.add_argument("--bad-value", default="nan", help="what --nan-at writes: nan, inf or -inf")
    ap.add_argument("--leave-at", type=int, default=0)
    ap.add_argument("--leave-all", action="store_true", help="every worker leaves at --leave-at (else worker 1)")
    ap.add_argument("--odd-lr", type=float, default=0, help="worker 1 asks for this lr instead")
    ap.add_argument("--odd-method", default="", help="worker 1 asks for this method instead")
    ap.add_argument("--exit-early", action="store_true", help="worker 1's script returns before it joins")
    ap.add_argument("--extra", type=int, default=0, help="worker 1 has this many more parameters")
    ap.add_argument("--frozen", action="store_true",
                    help="a frozen parameter before and after x is given too: it must never change")
    ap.add_argument("--save", default="")
    ap.add_argument("--resume", default="")
    ap.add_argument("--new-ok", action="store_true", help="--resume: a worker without a saved state joins afresh")
    ap.add_argument("--device", default="cpu", help="cpu, cuda or cuda:N: where the parameters live")
    ap.add_argument("--current-device", type=int, default=-1, help="cuda: this device is current throughout")
    ap.add_argument("--side-stream", action="store_true",
                    help="cuda: the gradients are made on a stream other than the optimizer's")
    ap.add_argument("--save-x", default="", help="write the final weights to DIR/x<worker>.pt")
    ap.add_argument("--set", action="append", default=[])
    a = ap.parse_args()
    if a.current_device >= 0:
        torch.cuda.set_device(a.current_device)
    cfg = dict(kv.split("=", 1) for kv in a.set)
    dim = int(cfg.get("model.dim", 0)) or 1000
    rank, _ = signvote.world()
    x = torch.nn.Parameter(torch.full((dim + (a.extra if rank == 2 else 0),), float(cfg.get("model.init", 1.0)),
                                      device=a.device))
    settings = {k: v for k, v in cfg.items() if not k.startswith("model.")}
    if a.exit_early and rank == 2:
        print("EXIT 2 before joining", flush=True)
        return 0
    try:
        lr = a.odd_lr if a.odd_lr and rank == 2 else a.lr
        method = a.odd_method if a.odd_method and rank == 2 else a.method
        frozen = [torch.nn.Parameter(torch.full((n,), 3.0, device=a.device), requires_grad=False)
                  for n in ((7, 33) if a.frozen else ())]
        params = [frozen[0], x, frozen[1]] if a.frozen else [x]
        opt = VoteOptimizer(params, method=method, lr=lr, momentum=0.9, betas=(0.9, 0.99),
                            weight_decay=a.wd, settings=settings)
        w = opt.worker_index
        (x * 0).sum().backward()  # x.grad: the optimizer's flat gradient slot, which the toy writes into
        toy = ToyGradients(a.config, w)
        side = cuda_streams(a, x.device)
        if a.resume:
            load_worker(a.resume, w, x, opt, toy, dim, new_ok=a.new_ok)
        step = opt.steps_done
        while not opt.stop_requested:
            step += 1
            if a.leave_at and step == a.leave_at and (w == 1 or a.leave_all):
                opt.close()
                print(f"LEFT {w} {step}", flush=True)
                return 0
            if a.device == "cpu":
                loss = toy.compute(x.data_ptr(), x.grad.data_ptr(), dim, step)
            else:  # the toy runs on the host: stage x and g
                xh, gh = x.detach().cpu(), torch.empty(dim)
                loss = toy.compute(xh.data_ptr(), gh.data_ptr(), dim, step)
                x.grad.copy_(gh)
            if a.nan_at and step == a.nan_at and w == a.nan_worker:
                x.grad[7] = float(a.bad_value)
            opt.step(loss=loss)
            if a.current_device >= 0 and torch.cuda.current_device() != a.current_device:
                raise SystemExit(f"FAIL: step() left cuda:{torch.cuda.current_device()} current, "
                                 f"not cuda:{a.current_device}")
        if side is not None:
            torch.cuda.current_stream(x.device).synchronize()
        if a.save:
            save_worker(a.save, w, x, opt)
        if a.save_x:
            torch.save(x.detach().cpu(), os.path.join(a.save_x, f"x{w}.pt"))
        if any(not bool((f == 3.0).all()) or f.grad is not None for f in frozen):
            raise SystemExit(f"FAIL: worker {w}: a frozen parameter moved or got a gradient")
        finish(opt, w, x)
    except signvote.Error as e:
        print_error(rank, e)
        return 1
    return 0


def cuda_streams(a, device):
    """--side-stream: after the optimizer took its stream, a new stream
    becomes the current stream of the parameters' device, so the gradients
    and the reads of x run there; --current-device stays current (a stream
    made current also makes its device current: set it back)."""
    if not a.side_stream:
        return None
    side = torch.cuda.Stream(device=device)
    torch.cuda.set_stream(side)
    if a.current_device >= 0:
        torch.cuda.set_device(a.current_device)
    assert torch.cuda.current_stream(device) == side
    return side


if __name__ == "__main__":
    sys.exit(main())
