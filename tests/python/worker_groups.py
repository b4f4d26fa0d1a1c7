"""A PyTorch worker for the torch.optim behaviour cases (tests/python/groups_cases.py):
abstentions, parameter groups, LR schedulers, skipped rounds.

    worker_groups.py CASE [--zeros]

Every case is deterministic: each worker computes the closed form of the
whole job (all workers' gradients, the vote over the workers present, the
fused apply) in exact dyadic arithmetic and compares its own replica with
it bit for bit. Prints one line per outcome:
  OK <worker> <steps> <hash>           the closed form held; the weight hash
  ERROR <rank> <Class> <cause> <rank> <message>   a signvote exception
"""
import argparse
import collections
import copy
import io
import math
import sys

import torch

import signvote
from signvote.torch import VoteOptimizer
from test_hooks import guarded  # beside this file

LR = 2.0 ** -6


def sign_pattern(w, t, n, salt=0):
    # +1 / -1 per coordinate, different for every worker and step
    return torch.tensor([1.0 if (w * 7 + t * 13 + i * 5 + salt) % 3 == 0 else -1.0 for i in range(n)])


def vote(ms, present, offset, t):
    # the server's tally over the workers present: +1 where 2 ones > P; a tie
    # (2 ones == P) is +1 iff coordinate + step is even (offset: the tensor's
    # first coordinate in the flat vector)
    P = sum(present)
    ones = sum((m >= 0).to(torch.int64) for m, p in zip(ms, present) if p)
    i = torch.arange(len(ms[0])) + offset
    up = (2 * ones > P) | ((2 * ones == P) & ((i + t) % 2 == 0))
    return torch.where(up, 1.0, -1.0).double(), P


def check(name, got, want):
    if not torch.equal(got.detach().double(), want.double()):
        bad = (got.detach().double() != want.double()).nonzero().flatten()[:5].tolist()
        raise SystemExit(f"FAIL: {name} differs from the closed form at {bad}: "
                         f"{got.detach().double()[bad].tolist()} vs {want.double()[bad].tolist()}")


def case_idle(a):
    # a and b get gradients, head never does; steps 1-3 have no gradient at all
    ps = [torch.nn.Parameter(torch.ones(n)) for n in (64, 37, 100)]
    x, head, b = ps
    opt = VoteOptimizer(ps, method="signum", lr=LR, momentum=0.5)
    w, W = opt.worker_index, opt.workers
    for t in range(1, 11):
        opt.zero_grad(set_to_none=not a.zeros)
        before = [p.detach().clone() for p in ps]
        if t > 3:
            ((x * sign_pattern(w, t, 64)).sum() + (b * sign_pattern(w, t, 100, 1)).sum()).backward()
        opt.step()
        if t <= 3 and not a.zeros:
            for p, q in zip(ps, before):
                check(f"step {t} without gradients", p, q)
    if a.zeros:  # zero gradients vote (sign(0) = +1): head moves by lr at every step
        check("head with zero gradients", head, torch.full((37,), 1.0 - 10 * LR))
    else:
        check("the idle head", head, torch.ones(37))
        if head.grad is not None:
            raise SystemExit("FAIL: the idle head got a gradient")
    return opt, ps


def case_partial(a):
    # A: every worker; B (across the two shards, starting inside a word):
    # the workers with (w + t) % 3 != 0; C (group 1, weight decay): nobody.
    sizes = (40, 1100, 5)
    A, B, C = (torch.nn.Parameter(torch.ones(n)) for n in sizes)
    opt = VoteOptimizer([{"params": [A, B]}, {"params": [C], "weight_decay": 0.5}], method="signum", lr=LR,
                        momentum=0.5)
    w, W = opt.worker_index, opt.workers
    x = [torch.ones(n, dtype=torch.float64) for n in sizes[:2]]
    m = [[torch.zeros(n, dtype=torch.float64) for n in sizes[:2]] for _ in range(W)]
    for t in range(1, 13):
        opt.zero_grad()
        here = [True, (w + t) % 3 != 0]
        loss = sum((p * sign_pattern(w, t, n, j)).sum() for j, (p, n, h) in enumerate(zip((A, B), sizes, here)) if h)
        loss.backward()
        opt.step()
        for j, n in enumerate(sizes[:2]):  # the closed form of the whole job
            present = [True if j == 0 else (k + t) % 3 != 0 for k in range(W)]
            for k in range(W):
                if present[k]:
                    m[k][j] = 0.5 * m[k][j] + 0.5 * sign_pattern(k, t, n, j).double()
            s, P = vote([m[k][j] for k in range(W)], present, sum(sizes[:j]), t)
            if P:
                x[j] -= LR * s
    check("A", A, x[0])
    check("B", B, x[1])
    check("C (nobody voted: no move, no decay)", C, torch.ones(5))
    check("this worker's momentum", opt.state_dict()["momentum"], torch.cat([m[w][0], m[w][1], torch.zeros(5)]))
    return opt, [A, B, C]


def case_groups(a):
    # weight decay 0.5 on P, none on Q; every gradient +1; exact for 4 steps
    P, Q = torch.nn.Parameter(torch.ones(50)), torch.nn.Parameter(torch.ones(30))
    opt = VoteOptimizer([{"params": [P], "weight_decay": 0.5}, {"params": [Q]}], method="signsgd", lr=2.0 ** -4)
    xp, xq = 1.0, 1.0
    for _ in range(4):
        opt.zero_grad()
        (P.sum() + Q.sum()).backward()
        opt.step()
        xp -= 2.0 ** -4 * (1.0 + 0.5 * xp)
        xq -= 2.0 ** -4
    check("P (weight decay 0.5)", P, torch.full((50,), xp, dtype=torch.float64))
    check("Q (no weight decay)", Q, torch.full((30,), xq, dtype=torch.float64))
    check_state_dict(opt)
    return opt, [P, Q]


def check_state_dict(opt):
    # through torch.save / torch.load as it is; another layout or another worker's state refused
    # (another worker count is accepted: tests/python/run_binding_test.py, case regrow)
    buf = io.BytesIO()
    torch.save(opt.state_dict(), buf)
    sd = torch.load(io.BytesIO(buf.getvalue()))
    want = [{"lr": 2.0 ** -4, "weight_decay": 0.5, "tensors": [50]}, {"lr": 2.0 ** -4, "weight_decay": 0.0,
                                                                       "tensors": [30]}]
    if sd["param_groups"] != want or sd["workers"] != opt.workers or sd["step"] != 4:
        raise SystemExit(f"FAIL: state_dict after torch.load: {sd['param_groups']}, {sd['workers']}, {sd['step']}")
    for change, text in ((lambda s: s["param_groups"][1].update(tensors=[20, 10]), "parameter group 1 of the "
                          "state_dict holds tensors of sizes [20, 10], this optimizer's [30]"),
                         (lambda s: s["param_groups"].pop(), "state_dict has 1 parameter groups, this optimizer 2"),
                         (lambda s: s.update(worker_index=(opt.worker_index + 1) % opt.workers),
                          "each worker resumes its own momentum")):
        bad = copy.deepcopy(sd)
        change(bad)
        try:
            opt.load_state_dict(bad)
        except ValueError as e:
            if text not in str(e):
                raise SystemExit(f"FAIL: refused with '{e}', expected '{text}'")
        else:
            raise SystemExit(f"FAIL: a state_dict was loaded: {text}")


def case_steplr(a):
    # StepLR halves the lr every 2 steps; every gradient +1: x = 1 - sum of the lrs
    x = torch.nn.Parameter(torch.ones(20))
    opt = VoteOptimizer([x], method="signsgd", lr=2.0 ** -4)
    sched = torch.optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)
    want, lrs = 1.0, []
    for _ in range(8):
        opt.zero_grad()
        x.sum().backward()
        lrs.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
        want -= lrs[-1]
    if lrs != [2.0 ** -4] * 2 + [2.0 ** -5] * 2 + [2.0 ** -6] * 2 + [2.0 ** -7] * 2:
        raise SystemExit(f"FAIL: StepLR gave {lrs}")
    check("x under StepLR", x, torch.full((20,), want, dtype=torch.float64))
    return opt, [x]


def case_odd_lr(a):
    # worker 1 changes its lr at step 3 (lr_mismatch); with settings
    # optimizer.schedule set, every worker's StepLR does (schedule_conflict)
    x = torch.nn.Parameter(torch.ones(20))
    opt = VoteOptimizer([x], method="signsgd", lr=2.0 ** -4, settings=dict(kv.split("=", 1) for kv in a.set))
    sched = torch.optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.5) if a.set else None
    for t in range(1, 9):
        opt.zero_grad()
        x.sum().backward()
        if t == 3 and opt.worker_index == 1 and sched is None:
            opt.param_groups[0]["lr"] = 2.0 ** -3
        opt.step()
        if sched:
            sched.step()
    raise SystemExit("FAIL: the run went on")


def case_autocast(a):
    # a small MLP under torch.autocast (bf16 on CPU): the parameters and
    # their gradients stay float32, so the vote takes them as they are
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(16, 32), torch.nn.ReLU(), torch.nn.Linear(32, 4))
    opt = VoteOptimizer(model.parameters(), method="signum", lr=LR, momentum=0.5)
    gen = torch.Generator().manual_seed(opt.worker_index)
    for _ in range(6):
        x, y = torch.randn(8, 16, generator=gen), torch.randint(0, 4, (8,), generator=gen)
        opt.zero_grad()
        with torch.autocast("cpu", dtype=torch.bfloat16):
            out = model(x)
        if out.dtype != torch.bfloat16:
            raise SystemExit(f"FAIL: autocast gave {out.dtype}")
        torch.nn.functional.cross_entropy(out.float(), y).backward()
        opt.step()
    if any(p.dtype != torch.float32 or p.grad.dtype != torch.float32 for p in model.parameters()):
        raise SystemExit("FAIL: a parameter or gradient is not float32")
    return opt, list(model.parameters())


class FakeScaler:
    """What torch.cuda.amp.GradScaler keeps per optimizer (CPU: torch 1.13's
    scaler is CUDA-only): the optimizer records found_inf there."""

    def __init__(self):
        self._scale = None
        self._per_optimizer_states = collections.defaultdict(lambda: {"found_inf_per_device": {}})


def case_skip(a):
    # worker 1's gradient is infinite at step 3: every worker skips that round
    x = torch.nn.Parameter(torch.ones(33))
    opt = VoteOptimizer([x], method="signum", lr=LR, momentum=0.5, nonfinite="skip")
    scaler = FakeScaler()
    for t in range(1, 9):
        opt.zero_grad()
        x.sum().backward()
        if t == 3 and opt.worker_index == 1:
            x.grad[5] = math.inf
        opt.step(grad_scaler=scaler)
        found = list(scaler._per_optimizer_states[id(opt)]["found_inf_per_device"].values())
        if len(found) != 1 or float(found[0]) != float(t == 3):
            raise SystemExit(f"FAIL: step {t}: found_inf recorded as {found}")
    if opt.skipped_steps != 1:
        raise SystemExit(f"FAIL: {opt.skipped_steps} skipped steps, not 1")
    check("x after a skipped round", x, torch.full((33,), 1.0 - 7 * LR, dtype=torch.float64))
    check("momentum after a skipped round", opt.state_dict()["momentum"], torch.full((33,), 1.0 - 2.0 ** -7))
    return opt, [x]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("case")
    ap.add_argument("--zeros", action="store_true", help="idle: zero_grad(set_to_none=False)")
    ap.add_argument("--set", action="append", default=[])
    a = ap.parse_args()
    rank, _ = signvote.world()

    def body():
        opt, ps = globals()[f"case_{a.case}"](a)
        flat = torch.cat([p.detach().reshape(-1) for p in ps])
        print(f"OK {opt.worker_index} {opt.steps_done} {signvote.weight_hash(flat):#018x}", flush=True)
        opt.close()
    return guarded(rank, body)


if __name__ == "__main__":
    sys.exit(main())
