#!/usr/bin/env python3
"""The PyTorch binding's tests, run from ctest (tests/python/CMakeLists.txt):

    run_binding_test.py CASE --signvote BIN --pythonpath DIR [--work DIR] [--mpiexec BIN | --mpirun "CMD ARGS"]
                        [--fixture BIN] [--hooks LIB] [--python BIN]

Each case launches real MPI jobs: `signvote serve` with PyTorch workers
(MPMD), and for comparisons the C++ workers (`signvote train`). Every job
has a timeout, so a hang is a failure. A case that cannot run here prints
"Skipped: <why>" and exits 77.

Standalone (scripts/gpu_check.sh, from a source tree or a GPU bundle):

    python3 tests/python/run_binding_test.py cuda --signvote BIN --pythonpath DIR [--work DIR] [--mpirun "mpirun ..."]

--pythonpath: the folder holding the `signvote` package (build/python);
--hooks: libsignvote_test_hooks.so (default: next to this file, then
build/tests/python); --python: the workers' interpreter (default: this
one); --mpirun: the launcher with its options, one string (default:
MPIEXEC --oversubscribe --allow-run-as-root --mca pml ob1 --bind-to none).
"""
import argparse
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import time

import groups_cases
import test_hooks

HERE = os.path.dirname(os.path.abspath(__file__))
A = None


def mpirun(*parts):
    if A.mpirun:
        return [*shlex.split(A.mpirun), *parts]
    return [A.mpiexec, "--oversubscribe", "--allow-run-as-root", "--mca", "pml", "ob1", "--bind-to", "none", *parts]


def run(cmd, timeout=240, want_ok=True):
    # the workers import signvote from --pythonpath and the test hooks
    # (test_hooks.py, beside them) load the library named here
    env = dict(os.environ, PYTHONPATH=A.pythonpath, OMP_NUM_THREADS="1", SIGNVOTE_TEST_HOOKS=A.hooks)
    t0 = time.time()
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env)
    out = p.stdout + p.stderr
    print(f"$ {' '.join(cmd)}\n{out[-4000:]}exit {p.returncode} after {time.time() - t0:.1f} s\n")
    if want_ok and p.returncode != 0:
        sys.exit(f"FAIL: expected success, exit {p.returncode}")
    if not want_ok and p.returncode == 0:
        sys.exit("FAIL: expected a non-zero exit")
    return out, time.time() - t0


def toy_yaml(name, method="signum", servers=1, steps=40, extra="", aggregation="method: majority_vote", workers=3):
    path = os.path.join(A.work, f"{name}.yaml")
    with open(path, "w") as f:
        f.write(f"""run: {{steps: {steps}, seed: 3, log_every: 10, hash_every: 1}}
cluster: {{servers: {servers}, workers: {workers}}}
model: {{name: quadratic, dim: 10007, init: 1.0}}
data: {{noise_std: 1.0}}
optimizer: {{name: {method}, lr: 0.005, momentum: 0.9, beta1: 0.9, beta2: 0.99, weight_decay: 0.001}}
aggregation: {{{aggregation}}}
{extra}""")
    return path


def python_workers(n, *args):
    return ["-np", str(n), A.python, os.path.join(HERE, "worker_toy.py"), *args]


def serve(cfg, servers=1, metrics=None):
    extra = ["--metrics", metrics, "--overwrite"] if metrics else []
    return ["-np", str(servers), A.signvote, "serve", cfg, *extra, ":"]


def lines(out):
    # mpirun may join two ranks' lines: start each record on a line of its own
    return re.sub(r"(?<!^)(?<!\n)(ERROR|HASH|LEFT|CNN|OK) ", r"\n\1 ", out)


def hashes(out):
    out = lines(out)
    return {int(w): (int(s), h) for w, s, h in re.findall(r"^HASH (\d+) (\d+) (0x[0-9a-f]+)", out, re.M)}


def errors(out):
    out = lines(out)
    return re.findall(r"^ERROR (\d+) (\w+) (\S+) (\S+) (.*)$", out, re.M)


def cpp_hash(cfg, servers, tag):
    ck = os.path.join(A.work, f"ckpt_{tag}")
    shutil.rmtree(ck, ignore_errors=True)
    run(mpirun("-np", str(servers + 3), A.signvote, "train", cfg, "--checkpoint-dir", ck))
    out, _ = run([A.signvote, "inspect", ck])
    return re.search(r"array\s+params \(10007 floats\) hash (0x[0-9a-f]+)", out).group(1)


def case_identical(method, servers, adversary=False, frozen=False):
    # adversary: worker 0 inverts its signs, set in the C++ run's file and,
    # for the PyTorch workers, through the optimizer's adversary option
    extra = "adversary: {count: 1, mode: invert}\n" if adversary else ""
    cfg = toy_yaml(f"toy_{method}_{servers}_{int(adversary)}", method, servers, extra=extra)
    want = cpp_hash(cfg, servers, f"{method}_{servers}_{int(adversary)}")
    served = toy_yaml(f"served_{method}_{servers}_{int(adversary)}", method, servers)  # no adversary in it
    opts = ["--set", "adversary.count=1", "--set", "adversary.mode=invert"] if adversary else []
    opts += ["--frozen"] if frozen else []  # frozen parameters beside x: accepted, never moved
    out, _ = run(mpirun(*serve(served, servers), *python_workers(3, cfg, "--method", method, "--lr", "0.005",
                                                                "--set", "model.dim=10007", *opts)))
    got = hashes(out)
    print(f"C++ workers: {want}; PyTorch workers: {got}")
    assert len(got) == 3 and all(s == 40 and h == want for s, h in got.values()), "FAIL: the updates differ"
    assert "every worker left" not in out  # the run ended at run.steps


def case_local():
    # LocalVote (H = 4, inner torch SGD) against the C++ workers' local steps,
    # 40 inner steps; then 20 + 20 through state_dict() (outer momentum and
    # the inner SGD's buffers), both bit-identical to the C++ run.
    agg, inner = "method: majority_vote, local_steps: 4", "inner: {lr: 0.125, momentum: 0.5}\n"
    cfg = toy_yaml("toy_local", aggregation=agg, extra=inner)
    half = toy_yaml("toy_local_half", steps=20, aggregation=agg, extra=inner)
    want = cpp_hash(cfg, 1, "local")
    local = os.path.join(HERE, "worker_local.py")
    args = ["--h", "4", "--set", "model.dim=10007"]
    out, _ = run(mpirun(*serve(cfg), "-np", "3", A.python, local, cfg, *args))
    got = hashes(out)
    print(f"C++ workers: {want}; LocalVote workers: {got}")
    assert len(got) == 3 and all(s == 40 and h == want for s, h in got.values()), "FAIL: the local steps differ"
    save = os.path.join(A.work, "local_state")
    shutil.rmtree(save, ignore_errors=True)
    os.makedirs(save)
    run(mpirun(*serve(half), "-np", "3", A.python, local, half, "--save", save, *args))
    out, _ = run(mpirun(*serve(cfg), "-np", "3", A.python, local, cfg, "--resume", save, *args))
    got = hashes(out)
    print(f"LocalVote workers, 20 + 20 inner steps: {got}")
    assert len(got) == 3 and all(s == 40 and h == want for s, h in got.values()), "FAIL: the resumed run differs"


def case_regrow():
    # 3 workers save at step 20; jobs of 2 and of 4 workers resume to 40. The
    # C++ workers do it from their checkpoint; the PyTorch workers from their
    # state_dicts (a new worker loads none): the weights hash the same.
    half = toy_yaml("toy_regrow_half", steps=20)
    ck = os.path.join(A.work, "ckpt_regrow")
    save = os.path.join(A.work, "regrow_state")
    for d in (ck, save):
        shutil.rmtree(d, ignore_errors=True)
    os.makedirs(save)
    args = ["--set", "model.dim=10007"]
    run(mpirun("-np", "4", A.signvote, "train", half, "--checkpoint-dir", ck))
    run(mpirun(*serve(half), *python_workers(3, half, "--save", save, *args)))
    for w in (2, 4):
        cfg = toy_yaml(f"toy_regrow_{w}", workers=w)
        mine = f"{ck}_{w}"
        shutil.rmtree(mine, ignore_errors=True)
        shutil.copytree(ck, mine, symlinks=True)
        run(mpirun("-np", str(w + 1), A.signvote, "train", cfg, "--resume", mine))
        out, _ = run([A.signvote, "inspect", mine])
        want = re.search(r"array\s+params \(10007 floats\) hash (0x[0-9a-f]+)", out).group(1)
        out, _ = run(mpirun(*serve(cfg), *python_workers(w, cfg, "--resume", save, "--new-ok", *args)))
        got = hashes(out)
        print(f"{w} workers from 3: C++ {want}; PyTorch {got}")
        assert len(got) == w and all(s == 40 and h == want for s, h in got.values()), "FAIL: the regrown run differs"


def case_resume():
    cfg = toy_yaml("toy_resume")
    half = toy_yaml("toy_half", steps=20)
    want = cpp_hash(cfg, 1, "resume")
    save = os.path.join(A.work, "resume_state")
    shutil.rmtree(save, ignore_errors=True)
    os.makedirs(save)
    args = ["--set", "model.dim=10007"]
    run(mpirun(*serve(half), *python_workers(3, half, "--save", save, *args)))
    out, _ = run(mpirun(*serve(cfg), *python_workers(3, cfg, "--resume", save, *args)))
    got = hashes(out)
    print(f"C++ workers, 40 steps: {want}; PyTorch workers, 20 + 20 steps: {got}")
    assert len(got) == 3 and all(s == 40 and h == want for s, h in got.values()), "FAIL: the resumed run differs"


def case_cuda():
    # The CUDA kernels on the tensors' stream against the CPU kernels, same
    # gradients: CUDA contracts b*m + (1-b)*g into FMAs, so a momentum near 0
    # may take the other sign; the weights agree to atol + rtol|ref| but for
    # at most 0.1% of the coordinates (each differs by a few lr then).
    # Runs: cuda:0 with the optimizer on the current stream; then, with the
    # gradients made on a side stream (the optimizer's stream must wait for
    # it, and it for the update), cuda:1 while cuda:0 is current when two
    # GPUs are visible, else cuda:0 again.
    import torch
    if not torch.cuda.is_available():
        print("Skipped: torch sees no CUDA device")
        sys.exit(77)
    cfg = toy_yaml("toy_cuda")
    gpus = torch.cuda.device_count()
    runs = [("cpu", []), ("cuda:0", [])]
    if gpus >= 2:
        runs.append(("cuda:1", ["--current-device", "0", "--side-stream"]))
    else:
        runs.append(("cuda:0", ["--side-stream"]))
        print("one GPU visible: the cuda:1 run (cuda:0 current) is left out")
    xs = {}
    for i, (dev, opts) in enumerate(runs):
        d = os.path.join(A.work, f"x_{i}_{dev.replace(':', '')}")
        os.makedirs(d, exist_ok=True)
        run(mpirun(*serve(cfg), *python_workers(3, cfg, "--device", dev, *opts, "--save-x", d,
                                                "--set", "model.dim=10007")))
        xs[i] = torch.load(os.path.join(d, "x0.pt"))
    ref = xs[0]
    for i in range(1, len(runs)):
        bad = ((xs[i] - ref).abs() > 1e-6 + 1e-5 * ref.abs()).float().mean().item()
        print(f"{runs[i][0]} {' '.join(runs[i][1])}: coordinates outside atol 1e-6 + rtol 1e-5: {100 * bad:.3f}%")
        assert bad <= 0.001, f"FAIL: the CUDA binding's weights ({runs[i][0]}) differ from the CPU binding's"


def expect_errors(out, elapsed, cls, cause, rank, text, count=3):
    errs = errors(out)
    print(f"errors: {errs}")
    assert elapsed < 60, f"FAIL: took {elapsed:.0f} s"
    assert len(errs) == count, f"FAIL: expected {count} workers to raise, got {len(errs)}"
    for _, c, ca, r, msg in errs:
        assert c == cls and (cause is None or ca == cause) and (rank is None or r == str(rank)), f"FAIL: {c} {ca} {r}"
        assert re.search(text, msg), f"FAIL: '{msg}' does not match /{text}/"


def case_errors(which):
    cfg = toy_yaml(f"err_{which}")
    dim = ["--set", "model.dim=10007"]
    if which == "no_server":
        out, t = run(mpirun(*python_workers(2, cfg, *dim)), want_ok=False)
        expect_errors(out, t, "NoServer", None, None, r"no signvote server in this job of 2 rank", count=2)
    elif which == "nan":
        out, t = run(mpirun(*serve(cfg), *python_workers(3, cfg, "--nan-at", "3", *dim)), want_ok=False)
        expect_errors(out, t, "RunStopped", "nan_gradient", 2, r"stopped the run at step 3: rank 2 produced 1 NaN")
    elif which == "inf":  # an overflowed gradient (fp16 without a scaler): stopped like a NaN
        out, t = run(mpirun(*serve(cfg), *python_workers(3, cfg, "--nan-at", "3", "--bad-value=-inf", *dim)),
                     want_ok=False)
        expect_errors(out, t, "RunStopped", "nan_gradient", 2,
                      r"stopped the run at step 3: rank 2 produced 1 NaN or infinite coordinates")
    elif which == "step_mismatch":
        out, t = run(mpirun(*serve(cfg), *python_workers(3, cfg, "--set", "faults.wrong_step_rank=3",
                                                         "--set", "faults.wrong_step_at=4", *dim)), want_ok=False)
        expect_errors(out, t, "RunStopped", "step_mismatch", 3, r"rank 3 sent step 1004, expected step 4")
    elif which in ("version_mismatch", "length_mismatch"):
        field = which.split("_")[0]
        out, t = run(mpirun(*serve(cfg), *python_workers(3, cfg, "--set", "faults.wrong_step_rank=3",
                                                         "--set", "faults.wrong_step_at=4",
                                                         "--set", f"faults.wrong_field={field}", *dim)), want_ok=False)
        cause, text = (("bad_version", r"rank 3 speaks protocol version (\d+), expected (\d+) ") if field == "version" else
                       ("length_mismatch", r"rank 3 sent length/offset 10008, expected 10007"))
        expect_errors(out, t, "RunStopped", cause, 3, text)
    elif which == "length":
        out, t = run(mpirun(*serve(cfg), *python_workers(3, cfg, "--extra", "5", *dim)), want_ok=False)
        expect_errors(out, t, "JoinError", None, None, r"rank 2: its parameter groups differ .*group 0: tensors of sizes \[10012\].* \[10007\]")
    elif which == "settings":
        out, t = run(mpirun(*serve(cfg), *python_workers(3, cfg, "--odd-lr", "0.01", *dim)), want_ok=False)
        expect_errors(out, t, "JoinError", None, None, r"rank 2: its parameter groups differ from worker rank 1's: parameter group 0: .*lr 0.01,.* lr 0.005")
    elif which == "alltoall":
        out, t = run(mpirun(*serve(cfg), *python_workers(3, cfg, "--set", "aggregation.transport=alltoall", *dim)),
                     want_ok=False)
        expect_errors(out, t, "JoinError", None, None, r"aggregation.transport' = alltoall is not available")
    elif which == "before_join":
        # worker 1's script raises (a Python ValueError) after MPI started but
        # before it joins: the job must end, not wait in the join
        out, t = run(mpirun(*serve(cfg), *python_workers(3, cfg, "--odd-method", "adam", *dim)), want_ok=False)
        assert "method 'adam'" in out and t < 60, "FAIL: the job did not end with the worker's error"
    elif which == "exit_early":
        out, t = run(mpirun(*serve(cfg), *python_workers(3, cfg, "--exit-early", *dim)), want_ok=False)
        # the job ends non-zero (run() checked) within seconds; mpirun's abort
        # notice may or may not make it into the output before it exits
        assert "EXIT 2 before joining" in out and t < 60, "FAIL: the job did not end"
    elif which == "open_cosine":
        open_ended = os.path.join(A.work, "open_cosine.yaml")
        with open(open_ended, "w") as f:
            f.write(open(cfg).read().replace("steps: 40, ", ""))
        out, t = run(mpirun(*serve(open_ended), *python_workers(3, open_ended, "--set", "optimizer.schedule=cosine", *dim)),
                     want_ok=False)
        expect_errors(out, t, "JoinError", None, None, r"optimizer.schedule' = cosine needs a budget")
    elif which == "left_early":
        out, t = run(mpirun(*serve(cfg), *python_workers(3, cfg, "--leave-at", "5", *dim)), want_ok=False)
        expect_errors(out, t, "RunStopped", "worker_left", 2, r"rank 2 left the run")  # the leaver is told too
    elif which == "all_leave":
        open_ended = toy_yaml("open_ended").replace(".yaml", "")  # no run.steps: until the workers leave
        with open(open_ended + ".yaml", "w") as f:
            f.write(open(cfg).read().replace("steps: 40, ", ""))
        csv = os.path.join(A.work, "left.csv")
        out, t = run(mpirun(*serve(open_ended + ".yaml", metrics=csv),
                            *python_workers(3, open_ended + ".yaml", "--leave-at", "7", "--leave-all", *dim)))
        assert "every worker left at step 7: the run ends after step 6" in out, "FAIL: no clean end"
        last = open(csv).read().strip().splitlines()[-1]
        print(f"last metrics row: {last}")
        assert last.startswith("6,"), "FAIL: the partial row of steps 1-6 is missing (run.log_every = 10)"
        assert len(re.findall(r"^LEFT", lines(out), re.M)) == 3
    elif which == "bad_config":
        bad = os.path.join(A.work, "bad.yaml")
        with open(bad, "w") as f:
            f.write("optimizer: {lr: -1}\n")
        out, t = run(mpirun(*serve(bad), *python_workers(3, bad, *dim)), want_ok=False)
        expect_errors(out, t, "JoinError", None, None, r"optimizer.lr")
    else:
        sys.exit(f"unknown error case {which}")


def case_cnn(loader_workers=0):
    data = os.path.join(A.work, "cnn_fixture")
    os.makedirs(data, exist_ok=True)
    run([A.fixture, data, "1200"])
    cfg = os.path.join(A.work, "cnn.yaml")
    with open(cfg, "w") as f:
        f.write("run: {steps: 80, log_every: 20, hash_every: 10}\naggregation: {method: majority_vote}\n")
    out, _ = run(mpirun(*serve(cfg), "-np", "3", A.python, os.path.join(HERE, "worker_cnn.py"), data,
                        str(loader_workers)), 400)
    acc, first, last = map(float, re.search(r"^CNN (\S+) (\S+) (\S+)", out, re.M).groups())
    print(f"test accuracy {acc:.3f}, loss {first:.3f} -> {last:.3f}")
    assert acc >= 0.6 and last < 0.5 * first, "FAIL: the CNN did not learn the fixture"


def main():
    global A
    ap = argparse.ArgumentParser()
    ap.add_argument("case")
    ap.add_argument("arg", nargs="*")
    for k in ("--signvote", "--pythonpath", "--work", "--fixture", "--hooks", "--mpirun"):
        ap.add_argument(k, default="")
    ap.add_argument("--mpiexec", default="mpirun")
    ap.add_argument("--python", default=sys.executable)
    A = ap.parse_args()
    try:
        import torch  # noqa: F401
    except ImportError:
        print(f"Skipped: {A.python} has no torch (apt-get install python3-torch)")
        sys.exit(77)
    A.hooks = os.path.abspath(A.hooks) if A.hooks else test_hooks.find_library()
    A.signvote, A.pythonpath = os.path.abspath(A.signvote), os.path.abspath(A.pythonpath)
    A.work = os.path.abspath(A.work) if A.work else tempfile.mkdtemp(prefix="signvote-binding-")
    os.makedirs(A.work, exist_ok=True)
    if A.case == "identical":
        case_identical(A.arg[0], int(A.arg[1]), "adversary" in A.arg[2:], "frozen" in A.arg[2:])
    elif A.case == "resume":
        case_resume()
    elif A.case == "regrow":
        case_regrow()
    elif A.case == "local":
        case_local()
    elif A.case == "cnn":
        case_cnn(int(A.arg[0]) if A.arg else 0)
    elif A.case == "cuda":
        case_cuda()
    elif A.case == "groups":
        ctx = argparse.Namespace(work=A.work, python=A.python, here=HERE, mpirun=mpirun, serve=serve, run=run,
                                 lines=lines, expect_errors=expect_errors)
        groups_cases.run_case(ctx, A.arg[0])
    else:
        case_errors(A.case)
    print("PASS")


if __name__ == "__main__":
    main()
