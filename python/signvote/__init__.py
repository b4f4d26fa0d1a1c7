"""signvote: signSGD, Signum and Lion with majority vote over MPI.

The PyTorch binding: keep your training script, swap the optimizer for
signvote.torch.VoteOptimizer, and launch the C++ server with your workers
as one MPI job:

    mpirun -np 1 signvote serve cfg.yaml : -np 4 python3 train.py

See docs/pytorch.md.
"""
import atexit as _atexit
import ctypes as _ctypes
import sys as _sys

# Open MPI loads its components as plugins that look up libmpi's symbols
# globally; a Python extension is loaded locally, so make libmpi global first.
for _name in ("libmpi.so.40", "libmpi.so"):
    try:
        _ctypes.CDLL(_name, mode=_ctypes.RTLD_GLOBAL)
        break
    except OSError:
        pass

from ._signvote import (  # noqa: E402
    Error,
    JoinError,
    NoServer,
    RunStopped,
    ToyGradients,
    Worker,
    abort as _abort,
    finalize as _finalize,
    hash_floats,
    isa,
    mpi_running as _mpi_running,
    world,
)

__all__ = ["Error", "JoinError", "NoServer", "RunStopped", "Worker", "hash_floats", "isa", "weight_hash", "world"]

_state = {"joined": False, "failed": False}


def _mark_joined():
    _state["joined"] = True


def _excepthook(*args, _previous=_sys.excepthook):
    _state["failed"] = True
    _previous(*args)


_sys.excepthook = _excepthook


def _exit():
    # A script that died of an exception after starting MPI (signvote.world())
    # but before its optimizer joined leaves the other ranks in the join,
    # which it will never enter: MPI_Finalize would wait for them, so end
    # the job instead (every rank exits, mpirun reports it).
    if _state["failed"] and not _state["joined"] and _mpi_running():
        _abort(1)
    _finalize()


# Runs last (atexit is last-in first-out): after every optimizer has left.
_atexit.register(_exit)


def weight_hash(tensor):
    """The 64-bit hash the server compares across replicas, of a float32 tensor."""
    t = tensor.detach().contiguous()
    if t.dtype.is_floating_point is False or t.element_size() != 4:
        raise TypeError("weight_hash needs a float32 tensor")
    if t.device.type != "cpu":
        t = t.cpu()
    return hash_floats(t.data_ptr(), t.numel())
