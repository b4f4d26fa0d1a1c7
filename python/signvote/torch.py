"""signvote.torch.VoteOptimizer: a torch.optim.Optimizer whose step() is one
round of majority vote with the C++ server (`signvote serve`).

    opt = VoteOptimizer(model.parameters(), method="signum", lr=1e-3)
    for x, y in loader:
        opt.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        opt.step(loss=loss)            # pack, vote, apply: every replica alike
        if opt.stop_requested:         # run.steps or run.time_limit_s reached
            break
    opt.close()                        # or let the script end: close() runs at exit

The parameters are moved into one flat float32 buffer when the optimizer is
built (each parameter becomes a view of it), and so are the gradients, so a
step copies nothing: the native half reads the gradients and updates the
parameters in place, with the AVX-512/AVX2 kernels on CPU tensors and the
CUDA kernels on CUDA tensors.
"""
import atexit
import math
import sys

import torch

from . import _signvote as _core

_METHODS = ("signum", "signsgd", "lion")
_live = set()  # strong references: an optimizer a script dropped must still leave at exit
_built = False  # one optimizer per process: the job has one worker per rank


def _leave_all():
    # A script that ends without close() still tells the server, so that the
    # run ends cleanly instead of leaving the other ranks waiting.
    for opt in list(_live):
        try:
            opt.close()
        except Exception as e:  # noqa: BLE001 -- the others must still leave
            print(f"signvote: {e}", file=sys.stderr)


atexit.register(_leave_all)  # after the package's MPI_Finalize: runs before it


def _yaml_value(v):
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(_yaml_value(x) for x in v) + "]"
    if isinstance(v, float):
        if not math.isfinite(v):
            raise ValueError(f"signvote: setting value {v} is not finite")
        return repr(v)
    return str(v)


class VoteOptimizer(torch.optim.Optimizer):
    """Signum, signSGD or Lion with majority vote (one round per step()).

    method        "signum" (momentum), "signsgd" (no momentum) or "lion" (betas)
    lr, weight_decay   x -= lr * (vote + weight_decay * x), on every worker
    momentum      Signum's beta (optimizer.momentum)
    betas         Lion's (beta1, beta2) (optimizer.beta1, optimizer.beta2)
    steps         run.steps: the server's last round (default: the server's
                  config; without one, until the workers close())
    hash_every    run.hash_every: the server compares the replicas' weight
                  hashes every this many steps and stops a diverged run
    adversary     {"count": 1, "mode": "invert", "scale": 1.0}: adversary.*,
                  as for the C++ workers (the first `count` workers)
    settings      any other config keys, {"optimizer.schedule": "cosine"}

    Every worker must pass the same settings; the server's cfg.yaml gives
    the rest. Joining the job is collective: every worker builds its
    optimizer at the same point of its script.
    """

    def __init__(self, params, method="signum", lr=1e-4, momentum=0.9, betas=(0.9, 0.99), weight_decay=0.0, *,
                 steps=None, hash_every=None, adversary=None, settings=None):
        global _built
        if method not in _METHODS:
            raise ValueError(f"signvote: method {method!r}: one of {', '.join(_METHODS)}")
        if _built:
            raise RuntimeError("signvote: one VoteOptimizer per process (each worker rank joins the job once)")
        self._ready = False
        super().__init__(params, dict(lr=lr, weight_decay=weight_decay))
        if len(self.param_groups) != 1:
            raise ValueError("signvote: one parameter group (every worker applies one lr and weight decay)")
        given = list(self.param_groups[0]["params"])
        # Frozen parameters (requires_grad False) are accepted and never
        # touched, as by every torch optimizer: they stay out of the flat
        # buffer and out of the vote (the workers' layouts still must agree).
        ps = [p for p in given if p.requires_grad]
        if not ps:
            raise ValueError("signvote: no trainable parameters to optimize (every parameter given is frozen)"
                             if given else "signvote: no parameters to optimize")
        self._device = ps[0].device
        if len({id(p) for p in ps}) != len(ps):
            raise ValueError("signvote: a parameter is listed twice")
        for i, p in enumerate(ps):
            if p.dtype != torch.float32:
                raise TypeError(f"signvote: parameter {i} is {p.dtype}; the vote works on float32 parameters")
            if p.device != self._device:
                raise ValueError(f"signvote: parameter {i} is on {p.device}, parameter 0 on {self._device}: one device")
        if self._device.type not in ("cpu", "cuda"):
            raise ValueError(f"signvote: parameters on {self._device}: cpu or cuda")
        self._method, self._lr, self._wd = method, lr, weight_decay
        self._n = sum(p.numel() for p in ps)
        self._flat, self._gflat, self._views = self._flatten(ps)
        kv = [f"optimizer.name={method}", f"optimizer.lr={_yaml_value(float(lr))}",
              f"optimizer.weight_decay={_yaml_value(float(weight_decay))}"]
        if method == "signum":
            kv.append(f"optimizer.momentum={_yaml_value(float(momentum))}")
        if method == "lion":
            kv += [f"optimizer.beta1={_yaml_value(float(betas[0]))}", f"optimizer.beta2={_yaml_value(float(betas[1]))}"]
        if steps is not None:
            kv.append(f"run.steps={int(steps)}")
        if hash_every is not None:
            kv.append(f"run.hash_every={int(hash_every)}")
        for k, v in (adversary or {}).items():
            kv.append(f"adversary.{k}={_yaml_value(v)}")
        if "run.threads" not in (settings or {}):
            # The round's sign kernels run in as many slices as torch has
            # threads (the workers' counts must agree, as every setting).
            kv.append(f"run.threads={torch.get_num_threads()}")
        for k, v in (settings or {}).items():
            kv.append(f"{k}={_yaml_value(v)}")
        self._stream = None
        if self._device.type == "cuda":
            # The optimizer's stream: the round's kernels and host copies go
            # there. step() orders it against the current stream each time.
            self._stream = torch.cuda.current_stream(self._device)
        from . import _mark_joined
        _built = True  # joining from here on, even if it fails: the job is then over
        _mark_joined()
        if self._stream is not None:
            # The native half makes this device current in every call itself
            # (and restores the caller's after); this is for torch's own calls.
            index = self._device.index if self._device.index is not None else torch.cuda.current_device()
            with torch.cuda.device(index):
                self._w = _core.Worker(kv, self._flat.data_ptr(), self._gflat.data_ptr(), self._n, f"cuda:{index}",
                                       self._stream.cuda_stream)
        else:
            self._w = _core.Worker(kv, self._flat.data_ptr(), self._gflat.data_ptr(), self._n, "cpu", 0)
        self._closed = False
        self._ready = True
        _live.add(self)

    @torch.no_grad()
    def _flatten(self, ps):
        flat = torch.empty(self._n, dtype=torch.float32, device=self._device)
        gflat = torch.zeros(self._n, dtype=torch.float32, device=self._device)
        views, off = [], 0
        for p in ps:
            k = p.numel()
            flat[off:off + k].copy_(p.detach().reshape(-1))
            g = gflat[off:off + k].view_as(p)
            if p.grad is not None:
                g.copy_(p.grad)
            p.data = flat[off:off + k].view_as(p)
            p.grad = g
            views.append((p, g, p.data_ptr()))
            off += k
        return flat, gflat, views

    def add_param_group(self, group):
        if getattr(self, "_ready", False):
            raise NotImplementedError("signvote: the parameters are fixed when the optimizer joins the job")
        super().add_param_group(group)

    # The job's facts (world rank, this worker's index among `workers`).
    rank = property(lambda self: self._w.rank)
    worker_index = property(lambda self: self._w.worker_index)
    workers = property(lambda self: self._w.workers)
    steps_done = property(lambda self: self._w.steps_done)
    config_yaml = property(lambda self: self._w.config_yaml)

    @property
    def stop_requested(self):
        """True once the last round has run (run.steps or run.time_limit_s)."""
        return self._w.finished

    def zero_grad(self, set_to_none=False):
        """Zeroes the flat gradient buffer; the gradients stay views of it
        (set_to_none is ignored, so that backward() writes in place)."""
        self._gflat.zero_()
        for p, g, _ in self._views:
            if p.grad is None or p.grad.data_ptr() != g.data_ptr():
                p.grad = g

    @torch.no_grad()
    def _gather(self):
        # Gradients a script replaced (set to None, or assigned) are copied
        # into the flat buffer once; parameters moved away are an error.
        for i, (p, g, ptr) in enumerate(self._views):
            if p.data_ptr() != ptr:
                raise RuntimeError(f"signvote: parameter {i} no longer lives in the optimizer's flat buffer "
                                   "(model.to() or p.data = ... after the optimizer was built); build it last")
            if p.grad is None:
                g.zero_()
                p.grad = g
            elif p.grad.data_ptr() != g.data_ptr():
                g.copy_(p.grad)
                p.grad = g
        group = self.param_groups[0]
        if group["lr"] != self._lr or group["weight_decay"] != self._wd:
            raise ValueError("signvote: param_groups[0]['lr'] or ['weight_decay'] changed; every worker and the server "
                             "apply optimizer.lr under optimizer.schedule (settings={'optimizer.schedule': 'cosine'}), "
                             "so PyTorch LR schedulers are not followed")

    def step(self, closure=None, loss=None):
        """One round: momentum and pack, the vote with the server, the fused
        apply. `loss` (a float or a tensor) goes to the server's log.
        Raises signvote.RunStopped when the server refuses the round."""
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        if self._closed:
            raise RuntimeError("signvote: step() after close()")
        self._gather()
        value = 0.0 if loss is None else float(loss.detach().float().mean()) if torch.is_tensor(loss) else float(loss)
        current = torch.cuda.current_stream(self._device) if self._stream is not None else None
        other = current is not None and current != self._stream
        if other:
            # The gradients were made on the current stream: the round's
            # kernels and copies (on the optimizer's stream) wait for them.
            self._stream.wait_stream(current)
        self._w.step(value)
        if other:
            # Whatever the current stream does next (the next forward pass)
            # sees the updated parameters. No host wait: events only.
            current.wait_stream(self._stream)
        return loss

    def close(self):
        """Leaves the run: returns once every worker has (the server then
        ends cleanly); raises RunStopped if the others went on."""
        if self._closed:
            return
        self._closed = True
        _live.discard(self)
        self._w.leave()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    @torch.no_grad()
    def average_(self, tensors):
        """Replaces each tensor by its mean over the workers (a collective
        among them, called by every worker at the same point): BatchNorm
        running statistics before an evaluation, as the C++ workers do.
        Floating tensors of any dtype are averaged in float32; integer ones
        (num_batches_tracked) are left alone."""
        ts = [t for t in tensors if t.is_floating_point()]
        if not ts:
            return
        flat = torch.cat([t.detach().reshape(-1).cpu().float() for t in ts])
        self._w.average(flat.data_ptr(), flat.numel())
        off = 0
        for t in ts:
            t.copy_(flat[off:off + t.numel()].view_as(t))  # back to t's dtype and device
            off += t.numel()

    def state_dict(self):
        """This worker's optimizer state: its momentum (each worker has its
        own: save one file per worker), the step and the budget clock."""
        m = torch.empty(self._n, dtype=torch.float32)
        self._w.momentum_into(m.data_ptr(), self._n)
        return {"signvote": 1, "method": self._method, "dim": self._n, "step": self._w.steps_done,
                "elapsed_s": self._w.elapsed_s, "worker_index": self._w.worker_index, "momentum": m,
                "param_groups": [{"lr": self._lr, "weight_decay": self._wd}]}

    def load_state_dict(self, state_dict):
        """Resumes after state_dict()'s step (before the first step());
        every worker resumes at the same step (the largest is taken)."""
        sd = state_dict
        if sd.get("signvote") != 1:
            raise ValueError("signvote: not a VoteOptimizer state_dict")
        if sd.get("worker_index", self.worker_index) != self.worker_index:
            raise ValueError(f"signvote: state_dict of worker {sd['worker_index']}, this is worker {self.worker_index}: "
                             "each worker resumes its own momentum")
        if sd["dim"] != self._n or sd["method"] != self._method:
            raise ValueError(f"signvote: state_dict of {sd['method']} over {sd['dim']} parameters, "
                             f"this optimizer is {self._method} over {self._n}")
        m = sd["momentum"].detach().to(device="cpu", dtype=torch.float32).contiguous()
        if m.numel() != self._n:
            raise ValueError(f"signvote: state_dict momentum of {m.numel()} values, {self._n} parameters here")
        self._w.resume(int(sd["step"]), float(sd["elapsed_s"]))  # raises once the first step() has run
        self._w.set_momentum(m.data_ptr(), m.numel())
