"""The tests' native helpers (libsignvote_test_hooks.so, test_hooks.cpp)
through ctypes; not part of the shipped package. The library is found at
$SIGNVOTE_TEST_HOOKS (run_binding_test.py sets it for its workers), next
to this file (a GPU bundle), or in build/tests/python (a source tree).
"""
import ctypes as c
import os

HERE = os.path.dirname(os.path.abspath(__file__))
NAME = "libsignvote_test_hooks.so"


def find_library():
    for path in (os.environ.get("SIGNVOTE_TEST_HOOKS", ""), os.path.join(HERE, NAME),
                 os.path.join(HERE, "..", "..", "build", "tests", "python", NAME)):
        if path and os.path.isfile(path):
            return os.path.abspath(path)
    raise FileNotFoundError(f"{NAME}: not at $SIGNVOTE_TEST_HOOKS, next to {HERE} or in build/tests/python "
                            "(cmake --build build --target signvote_test_hooks)")


_lib = None


def _load():
    global _lib
    if _lib is None:
        lib = c.CDLL(find_library())
        lib.svt_last_error.argtypes, lib.svt_last_error.restype = [], c.c_char_p
        lib.svt_toy_new.argtypes, lib.svt_toy_new.restype = [c.c_char_p, c.c_int, c.POINTER(c.c_void_p)], c.c_int
        lib.svt_toy_free.argtypes, lib.svt_toy_free.restype = [c.c_void_p], None
        lib.svt_toy_compute.argtypes = [c.c_void_p, c.c_void_p, c.c_void_p, c.c_size_t, c.c_uint64,
                                        c.POINTER(c.c_float)]
        lib.svt_toy_compute.restype = c.c_int
        _lib = lib
    return _lib


def _check(status):
    if status:
        raise ValueError(_lib.svt_last_error().decode(errors="replace"))


class ToyGradients:
    """The C++ worker's quadratic toy, gradients only: the same RNG stream
    as `signvote train` gives worker `worker_index` (config: the run's YAML)."""

    def __init__(self, config, worker_index):
        lib, h = _load(), c.c_void_p()
        _check(lib.svt_toy_new(config.encode(), int(worker_index), c.byref(h)))
        self._h = h

    def __del__(self):
        if getattr(self, "_h", None) and _lib is not None:
            _lib.svt_toy_free(self._h)
            self._h = None

    def compute(self, x, g, n, step):
        """g (n floats at address g) = the gradient at x (n floats at address x) for `step`; returns the loss."""
        loss = c.c_float()
        _check(_lib.svt_toy_compute(self._h, x, g, n, int(step), c.byref(loss)))
        return loss.value


def print_error(rank, e):
    """The workers' record of a signvote exception, which run_binding_test.py
    parses: ERROR <rank> <Class> <cause> <offending rank> <message>."""
    print(f"ERROR {rank} {type(e).__name__} {getattr(e, 'cause', '-')} {getattr(e, 'rank', '-')} {e}", flush=True)


def guarded(rank, body):
    """Runs a worker's body(): 0, or 1 after print_error for a signvote exception."""
    import signvote  # the workers' package (on their PYTHONPATH, not the driver's)
    try:
        body()
    except signvote.Error as e:
        print_error(rank, e)
        return 1
    return 0


def save_worker(save_dir, w, x, opt):
    """DIR/worker<w>.pt: x and the optimizer's state_dict(), for a --resume."""
    import torch
    torch.save({"x": x.detach().clone(), "opt": opt.state_dict()}, os.path.join(save_dir, f"worker{w}.pt"))


def finish(opt, w, x):
    """HASH <worker> <steps done> <hex of x>, then leaves the run."""
    import signvote
    print(f"HASH {w} {opt.steps_done} {signvote.weight_hash(x):#018x}", flush=True)
    opt.close()


def load_worker(save_dir, w, x, opt, toy, dim, new_ok=False):
    """save_worker's counterpart: x and the optimizer's state back, and the
    toy's RNG stream advanced past the steps already done. new_ok: a worker
    with no file of its own (the job has more workers than the saved one)
    takes x from worker 0's and starts its optimizer and toy afresh."""
    import torch
    mine = os.path.join(save_dir, f"worker{w}.pt")
    if new_ok and not os.path.exists(mine):
        with torch.no_grad():
            x.copy_(torch.load(os.path.join(save_dir, "worker0.pt"))["x"])
        opt.join_resumed()
        return
    state = torch.load(mine)
    with torch.no_grad():
        x.copy_(state["x"])
    opt.load_state_dict(state["opt"])
    scratch = torch.empty(dim)
    for s in range(1, opt.steps_done + 1):
        toy.compute(scratch.data_ptr(), scratch.data_ptr(), dim, s)
