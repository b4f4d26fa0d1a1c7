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
# globally; the native library is loaded locally (ctypes' default), so make
# libmpi global first.
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
    Worker,
    abort as _abort,
    finalize as _finalize,
    had_local_failure as _had_local_failure,
    hash_floats,
    isa,
    mpi_running as _mpi_running,
    world,
)

__all__ = ["Error", "JoinError", "NoServer", "RunStopped", "Worker", "hash_floats", "isa", "weight_hash", "world"]

_state = {"joined": False, "foreign_error": False}


def _mark_joined():
    _state["joined"] = True


def _excepthook(kind, value, tb, _previous=_sys.excepthook):
    # signvote's own errors reach every rank alike (the server tells them
    # all); any other uncaught exception is this rank's alone
    _state["foreign_error"] = _state["foreign_error"] or not isinstance(value, Error)
    _previous(kind, value, tb)


_sys.excepthook = _excepthook


def _exit():
    # MPI_Finalize waits for the other ranks. It would wait forever when
    #  - MPI was started (signvote.world()) but the script ends, by an
    #    exception, sys.exit() or a return, before its optimizer joined:
    #    the others wait in the join;
    #  - the script died of its own exception after joining: the others may
    #    wait in a collective it will never enter (average_(), say), even
    #    though the server has been told it left.
    # Then end the job instead: every rank exits, and mpirun says which began.
    #  - a native call failed on this rank alone (a CUDA or NCCL error in a
    #    round, say), even if the script caught the signvote.Error.
    local = _had_local_failure()
    if _mpi_running() and world()[1] > 1 and (not _state["joined"] or _state["foreign_error"] or local):
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
