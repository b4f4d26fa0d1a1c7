"""signvote's native half through ctypes: libsignvote_native.so (its C ABI
is python/native_api.h), next to this file. It includes no Python header,
so one build loads into any Python 3; ctypes releases the GIL during each
call. Tensors are seen as (data pointer, length) only: no libtorch.

The same names as the former compiled module: Error, JoinError, NoServer,
RunStopped, Worker, world, finalize, mpi_running, abort, hash_floats, isa.
"""
import ctypes as _c
import os as _os
import threading as _threading

_LIB = _os.path.join(_os.path.dirname(_os.path.abspath(__file__)), "libsignvote_native.so")
_ABI = 2


class Error(RuntimeError):
    """A signvote error: MPI, I/O, CUDA, or one of the subclasses."""


class JoinError(Error):
    """The job could not start: a setup error on some rank, named in the message."""


class NoServer(JoinError):
    """No `signvote serve` rank in the job."""


class RunStopped(Error):
    """The server refused a round: .cause (the protocol's error name) and
    .rank (the offending world rank, -1 when unknown)."""

    def __init__(self, message, cause="", rank=-1):
        super().__init__(message)
        self.cause, self.rank = cause, rank


_P, _I, _SZ, _U32, _U64, _I64, _F, _D = (_c.c_void_p, _c.c_int, _c.c_size_t, _c.c_uint32, _c.c_uint64, _c.c_int64,
                                          _c.c_float, _c.c_double)
_SIGNATURES = {  # name: argument types (every function returns an int status)
    "sv_last_error": [_c.POINTER(_c.c_char_p), _c.POINTER(_c.c_char_p), _c.POINTER(_I)],
    "sv_abi_version": [],
    "sv_world": [_c.POINTER(_I), _c.POINTER(_I)],
    "sv_finalize": [],
    "sv_mpi_running": [_c.POINTER(_I)],
    "sv_abort": [_I],
    "sv_hash_floats": [_P, _SZ, _c.POINTER(_U64)],
    "sv_isa": [_c.POINTER(_c.c_char_p)],
    "sv_worker_new": [_c.POINTER(_c.c_char_p), _I, _P, _P, _SZ, _I, _P, _c.POINTER(_P)],
    "sv_worker_step": [_P, _F, _U32, _U32, _P, _SZ, _P, _P, _SZ, _c.POINTER(_I)],
    "sv_worker_leave": [_P],
    "sv_worker_resume": [_P, _U64, _D],
    "sv_worker_join": [_P],
    "sv_worker_average": [_P, _P, _SZ],
    "sv_worker_momentum_into": [_P, _P, _SZ],
    "sv_worker_set_momentum": [_P, _P, _SZ],
    "sv_worker_int": [_P, _c.c_char_p, _c.POINTER(_I64)],
    "sv_worker_elapsed_s": [_P, _c.POINTER(_D)],
    "sv_worker_config_yaml": [_P, _c.POINTER(_c.c_char_p)],
}


def _load():
    try:
        lib = _c.CDLL(_LIB)
    except OSError as e:
        raise ImportError(f"signvote: cannot load {_LIB}: {e} (its libraries: libmpi, and the CUDA runtime in a "
                          "CUDA build, must be on the loader's path)") from e
    for name, args in _SIGNATURES.items():
        f = getattr(lib, name)
        f.argtypes, f.restype = args, _I
    lib.sv_worker_free.argtypes, lib.sv_worker_free.restype = [_P], None
    if lib.sv_abi_version() != _ABI:
        raise ImportError(f"signvote: {_LIB} speaks C ABI {lib.sv_abi_version()}, this package {_ABI}")
    return lib


_lib = _load()
_KINDS = {1: Error, 2: JoinError, 3: NoServer, 4: RunStopped, 5: ValueError, 6: RuntimeError, 7: IndexError,
          8: MemoryError}


_local_failure = [False]


def had_local_failure():
    """True once a native call failed on this rank alone (kinds 1, 6 and 8:
    CUDA, NCCL, MPI, I/O, memory), not agreed with the others as RunStopped and
    JoinError are: the others may be waiting in a collective, so the job is
    aborted at exit (signvote/__init__.py)."""
    return _local_failure[0]


def _check(status):
    """Raises the Python exception for a non-zero status (native_api.h's kinds)."""
    if status == 0:
        return
    if status in (1, 6, 8):
        _local_failure[0] = True
    msg, cause, rank = _c.c_char_p(), _c.c_char_p(), _I()
    _lib.sv_last_error(_c.byref(msg), _c.byref(cause), _c.byref(rank))
    text = (msg.value or b"").decode(errors="replace")
    if status == 4:
        raise RunStopped(text, (cause.value or b"").decode(errors="replace"), rank.value)
    raise _KINDS.get(status, RuntimeError)(text)


def world():
    """(world rank, world size); initialises MPI if needed."""
    rank, size = _I(), _I()
    _check(_lib.sv_world(_c.byref(rank), _c.byref(size)))
    return rank.value, size.value


def finalize():
    """MPI_Finalize, when this package initialised MPI."""
    _check(_lib.sv_finalize())


def mpi_running():
    """MPI is initialised and not finalised."""
    up = _I()
    _check(_lib.sv_mpi_running(_c.byref(up)))
    return bool(up.value)


def abort(code):
    """MPI_Abort: ends every rank of the job."""
    _check(_lib.sv_abort(int(code)))


def hash_floats(p, n):
    """The 64-bit weight hash of n floats at address p (the server's replica check)."""
    h = _U64()
    _check(_lib.sv_hash_floats(p, n, _c.byref(h)))
    return h.value


def isa():
    """The CPU sign kernels this machine runs (avx512 | avx2 | scalar)."""
    name = _c.c_char_p()
    _check(_lib.sv_isa(_c.byref(name)))
    return name.value.decode()


def _unsigned(v, bits, what):
    # ctypes wraps out-of-range ints silently; refuse them as pybind11 did
    v = int(v)
    if not 0 <= v < (1 << bits):
        raise ValueError(f"signvote: {what} = {v} is not a {bits}-bit unsigned integer")
    return v


def _device_code(device):
    # "cpu" -> -1 (host memory), "cuda" -> -2 (the current CUDA device), "cuda:N" -> N
    if device == "cpu":
        return -1
    if device == "cuda":
        return -2
    if device.startswith("cuda:") and device[5:].isdigit():
        return int(device[5:])
    raise ValueError(f"device must be cpu, cuda or cuda:N, not {device}")


class Worker:
    """One worker of the job (signvote/external.h's ExternalWorker) over the
    caller's flat float32 buffers: params and grads are addresses of dim
    floats each, on `device` ("cpu", "cuda" or "cuda:N"); `stream` a
    cudaStream_t on that device. Building it is collective with the server."""

    def __init__(self, settings, params, grads, dim, device="cpu", stream=0):
        code = _device_code(device)
        kv = (_c.c_char_p * max(len(settings), 1))(*[s.encode() for s in settings])
        h = _P()
        _check(_lib.sv_worker_new(kv, len(settings), params, grads, dim, code, stream or None, _c.byref(h)))
        self._h = h

    def __del__(self):
        # Once MPI is finalised (at exit) the worker's communicators are gone
        # with it: the handle is left to the process's end then. Freeing
        # makes MPI calls, which MPI_THREAD_FUNNELED allows on the main
        # thread only: a collector running on another thread leaves it too.
        h, self._h = getattr(self, "_h", None), None
        try:
            if h and mpi_running() and _threading.current_thread() is _threading.main_thread():
                _lib.sv_worker_free(h)
        except Exception:  # noqa: BLE001 -- interpreter teardown: nothing to tell
            pass

    def step(self, loss=0.0, correct=0, samples=0, present=None, lr=None, wd=None):
        """One round; True when it was the run's last. present: a ctypes
        uint8 array (one per tensor), lr and wd: ctypes float arrays (one
        per group), or None: every tensor, the configured values."""
        last = _I()
        correct, samples = _unsigned(correct, 32, "correct"), _unsigned(samples, 32, "samples")
        nt, ng = (len(present), len(lr)) if present is not None else (0, 0)
        _check(_lib.sv_worker_step(self._h, float(loss), correct, samples, present, nt, lr, wd, ng, _c.byref(last)))
        return bool(last.value)

    def leave(self):
        _check(_lib.sv_worker_leave(self._h))

    def resume(self, step, elapsed_s):
        _check(_lib.sv_worker_resume(self._h, _unsigned(step, 64, "step"), float(elapsed_s)))

    def join(self):
        _check(_lib.sv_worker_join(self._h))

    def momentum_into(self, dst, n):
        _check(_lib.sv_worker_momentum_into(self._h, dst, n))

    def average(self, x, n):
        _check(_lib.sv_worker_average(self._h, x, n))

    def set_momentum(self, src, n):
        _check(_lib.sv_worker_set_momentum(self._h, src, n))

    def _int(self, name):
        v = _I64()
        _check(_lib.sv_worker_int(self._h, name.encode(), _c.byref(v)))
        return v.value

    rank = property(lambda self: self._int("rank"))
    worker_index = property(lambda self: self._int("worker_index"))
    workers = property(lambda self: self._int("workers"))
    servers = property(lambda self: self._int("servers"))
    steps_done = property(lambda self: self._int("steps_done"))
    finished = property(lambda self: bool(self._int("finished")))
    max_steps = property(lambda self: self._int("max_steps"))
    skipped = property(lambda self: bool(self._int("skipped")))

    @property
    def elapsed_s(self):
        v = _D()
        _check(_lib.sv_worker_elapsed_s(self._h, _c.byref(v)))
        return v.value

    @property
    def config_yaml(self):
        y = _c.c_char_p()
        _check(_lib.sv_worker_config_yaml(self._h, _c.byref(y)))
        return y.value.decode()
