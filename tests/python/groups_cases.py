"""The torch.optim behaviour cases of run_binding_test.py (CASE groups SUB):
each a real MPMD job of `signvote serve` and worker_groups.py workers, which
check their replicas against closed forms themselves. Here: every worker
said OK with one hash, or every worker raised the expected error; and the
server's metrics where they tell (the lr a scheduler set, skipped rounds)."""
import csv
import os
import re

# sub-case: (workers, servers, steps, worker arguments)
CASES = {
    "idle": (3, 1, 10, []),
    "zeros": (3, 1, 10, ["--zeros"]),
    "partial": (4, 2, 12, []),
    "groups": (3, 1, 4, []),
    "steplr": (3, 1, 8, []),
    "skip": (3, 1, 8, []),
    "autocast": (3, 1, 6, []),
    "lr_mismatch": (3, 1, 8, []),
    "schedule_conflict": (3, 1, 8, ["--set", "optimizer.schedule=cosine"]),
}
ERRORS = {  # sub-case: (cause, offending rank, message)
    "lr_mismatch": ("lr_mismatch", 2, r"rank 2 applies lr 0.125 to parameter group 0, the other workers lr 0.0625"),
    "schedule_conflict": ("schedule_conflict", 1, r"rank 1 set lr 0.03125 for parameter group 0, but the server's "
                                                  r"optimizer.schedule drives the lr from lr 0.0625"),
}


def run_case(ctx, sub):
    workers, servers, steps, args = CASES[sub]
    worker_case = "odd_lr" if sub in ERRORS else "idle" if sub == "zeros" else sub
    cfg = os.path.join(ctx.work, f"groups_{sub}.yaml")
    with open(cfg, "w") as f:
        f.write(f"run: {{steps: {steps}, log_every: 1, hash_every: 1}}\ncluster: {{servers: {servers}}}\n"
                "aggregation: {method: majority_vote}\n")
    metrics = os.path.join(ctx.work, f"groups_{sub}.csv")
    line = ctx.mpirun(*ctx.serve(cfg, servers, metrics=metrics), "-np", str(workers), ctx.python,
                      os.path.join(ctx.here, "worker_groups.py"), worker_case, *args)
    if sub in ERRORS:
        out, t = ctx.run(line, want_ok=False)
        cause, rank, text = ERRORS[sub]
        ctx.expect_errors(out, t, "RunStopped", cause, rank, text)
        return
    out, _ = ctx.run(line)
    oks = re.findall(r"^OK (\d+) (\d+) (0x[0-9a-f]+)", ctx.lines(out), re.M)
    print(f"workers: {oks}")
    assert len(oks) == workers and len({h for _, _, h in oks}) == 1, "FAIL: not every worker ended with one hash"
    assert all(int(s) == steps for _, s, _ in oks), "FAIL: a worker ran another number of steps"
    rows = list(csv.DictReader(open(metrics)))
    if sub == "steplr":
        lrs = [float(r["lr"]) for r in rows]
        want = [2.0 ** -4] * 2 + [2.0 ** -5] * 2 + [2.0 ** -6] * 2 + [2.0 ** -7] * 2
        assert lrs == want, f"FAIL: the server logged lrs {lrs}, the scheduler set {want}"
    skipped = [int(r["skipped"]) for r in rows]
    assert skipped == [int(sub == "skip" and i == 3) for i in range(1, steps + 1)], f"FAIL: skipped column {skipped}"
