"""signvote.checkpoints without MPI: which saved steps count as complete,
what save() leaves on disk, what worker 0 prunes, and what resume() loads
for a saved worker and for one new to the job (stand-in optimizers).

    test_checkpoints.py PYTHONPATH_OF_THE_PACKAGE
"""
import os
import sys
import tempfile

sys.path.insert(0, sys.argv[1])
try:
    import torch
except ImportError:
    print("Skipped: no torch")
    sys.exit(77)
from signvote.checkpoints import Checkpoints, complete_steps  # noqa: E402


class FakeOpt:
    def __init__(self, k, w, step):
        self.worker_index, self.workers, self.steps_done = k, w, step
        self.loaded, self.joined = None, False

    def state_dict(self):
        return {"momentum_of": self.worker_index, "step": self.steps_done}

    def load_state_dict(self, sd):
        self.loaded = sd

    def join_resumed(self):
        self.joined = True


def check(cond, what):
    if not cond:
        print(f"FAIL: {what}")
        sys.exit(1)


def main():
    d = tempfile.mkdtemp()
    ck = Checkpoints(d, keep=2)
    check(complete_steps(d) == [] and ck.resume(FakeOpt(0, 3, 0), torch.nn.Linear(2, 2)) is None, "empty: a fresh start")
    models = {}
    for step in (10, 20, 30):
        for k in range(3):
            m = torch.nn.Linear(2, 2)
            with torch.no_grad():
                m.weight.fill_(step + k)
            models[(step, k)] = m
            if step == 30 and k == 2:
                continue  # the kill came while step 30 was being saved
            ck.save(FakeOpt(k, 3, step), m, extra={"pos": step * 10 + k})
    steps = [s for s, _, _ in complete_steps(d)]
    check(steps == [10, 20], f"complete steps {steps}, expected [10, 20] (30 lacks worker 2)")
    check(not any(".tmp" in f for _, _, fs in os.walk(d) for f in fs), "a temporary file was left")
    os.makedirs(os.path.join(d, "step_000000099_w3"))  # empty: never complete
    os.makedirs(os.path.join(d, "notes"))              # not a step: ignored
    check([s for s, _, _ in complete_steps(d)] == [10, 20], "an empty or foreign folder counted")
    # worker 1 of 3 resumes its own file of step 20
    opt, m = FakeOpt(1, 3, 0), torch.nn.Linear(2, 2)
    r = ck.resume(opt, m)
    check(r["step"] == 20 and r["workers"] == 3 and not r["joined"] and r["extra"] == {"pos": 201}, f"resume: {r}")
    check(opt.loaded == {"momentum_of": 1, "step": 20} and float(m.weight[0, 0]) == 21.0, "worker 1 loaded another's state")
    # worker 3 of 4 is new: worker 0's weights, join_resumed()
    opt, m = FakeOpt(3, 4, 0), torch.nn.Linear(2, 2)
    r = ck.resume(opt, m)
    check(r["joined"] and opt.joined and opt.loaded is None and float(m.weight[0, 0]) == 20.0, f"new worker: {r}")
    # step 40, worker 0 saving last: it keeps the 2 latest complete steps (20, 40) and drops older ones
    # (when it saves first it prunes at its next save: at least `keep` complete steps always stay)
    for k in (1, 2, 0):
        ck.save(FakeOpt(k, 3, 40), models[(10, k)])
    left = sorted(os.listdir(d))
    check(left == ["notes", "step_000000020_w3", "step_000000030_w3", "step_000000040_w3", "step_000000099_w3"],
          f"after pruning: {left}")
    # a file that is not one of these checkpoints is refused, naming it
    bad = os.path.join(d, "step_000000050_w1")
    os.makedirs(bad)
    torch.save({"x": 1}, os.path.join(bad, "worker0.pt"))
    try:
        ck.resume(FakeOpt(0, 1, 0), torch.nn.Linear(2, 2))
        check(False, "a foreign file was loaded")
    except ValueError as e:
        check("worker0.pt" in str(e), f"the error does not name the file: {e}")
    print("ok: signvote.checkpoints")


if __name__ == "__main__":
    main()
