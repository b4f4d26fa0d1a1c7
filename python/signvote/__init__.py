"""signvote: signSGD, Signum and Lion with majority vote over MPI.

The PyTorch binding: keep your training script, swap the optimizer for
signvote.torch.VoteOptimizer, and launch the C++ server with your workers
as one MPI job:

    mpirun -np 1 signvote serve cfg.yaml : -np 4 python3 train.py

See docs/pytorch.md.
"""
import atexit as _atexit
import ctypes as _ctypes

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
    finalize as _finalize,
    hash_floats,
    isa,
    world,
)

__all__ = ["Error", "JoinError", "NoServer", "RunStopped", "Worker", "hash_floats", "isa", "world"]

# Runs last (atexit is last-in first-out): after every optimizer has left.
_atexit.register(_finalize)


def weight_hash(tensor):
    """The 64-bit hash the server compares across replicas, of a float32 tensor."""
    t = tensor.detach().contiguous()
    if t.dtype.is_floating_point is False or t.element_size() != 4:
        raise TypeError("weight_hash needs a float32 tensor")
    if t.device.type != "cpu":
        t = t.cpu()
    return hash_floats(t.data_ptr(), t.numel())
