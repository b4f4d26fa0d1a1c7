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
import ctypes
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


def _grad_hook(p, g):
    # Runs when backward() reaches p, before torch accumulates its gradient:
    # a .grad of None becomes the zeroed view g, so the gradient lands in the
    # flat buffer in place (no copy) while an unreached p keeps None.
    def hook(_grad):
        if p.grad is None:
            g.zero_()
            p.grad = g
    return hook


def _record_found_inf(scaler, key, device, skipped):
    # torch's contract with an optimizer that says _step_supports_amp_scaling:
    # the optimizer records found_inf, which scaler.update() reads to back
    # the scale off. Here it is the round's agreed verdict, not a local check.
    state = scaler._per_optimizer_states[key]
    scale = getattr(scaler, "_scale", None)
    where = scale.device if torch.is_tensor(scale) else device
    state["found_inf_per_device"] = {where: torch.full((1,), float(skipped), dtype=torch.float32, device=where)}


class _Closes:
    """`with opt:` closes it at the end of the block (close() leaves the run)."""

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False


class VoteOptimizer(_Closes, torch.optim.Optimizer):
    """Signum, signSGD or Lion with majority vote (one round per step()).

    params        parameters or parameter groups, as for any torch optimizer:
                  each group its own lr and weight_decay (read at every
                  step(), so torch.optim.lr_scheduler drives them); frozen
                  parameters (requires_grad False) are never touched
    method        "signum" (momentum), "signsgd" (no momentum) or "lion" (betas)
    lr, weight_decay   x -= lr * (vote + weight_decay * x), on every worker
    momentum      Signum's beta (optimizer.momentum), one for every group
    betas         Lion's (beta1, beta2) (optimizer.beta1, optimizer.beta2)
    nonfinite     "raise": a NaN or infinite gradient stops the run
                  (RunStopped, cause nan_gradient); "skip": every worker
                  drops that round (fp16 with a GradScaler; skipped_steps)
    steps         run.steps: the server's last round (default: the server's
                  config; without one, until the workers close())
    hash_every    run.hash_every: the server compares the replicas' weight
                  hashes every this many steps and stops a diverged run
    adversary     {"count": 1, "mode": "invert", "scale": 1.0}: adversary.*,
                  as for the C++ workers (the first `count` workers)
    settings      any other config keys, {"optimizer.schedule": "cosine"}

    A parameter whose .grad is None at step() (zero_grad() sets them to
    None; backward() may never reach a head) abstains on this worker: the
    vote counts the workers that have a gradient for it, and one that none
    has does not move, nor decay. Every worker must pass the same settings
    and group layout; the server's cfg.yaml gives the rest. Joining the job
    is collective: every worker builds its optimizer at the same point.
    """

    # GradScaler.step(opt) calls step(grad_scaler=scaler): the round is skipped
    # or not on every worker alike, and the scaler learns which.
    _step_supports_amp_scaling = True

    def __init__(self, params, method="signum", lr=1e-4, momentum=0.9, betas=(0.9, 0.99), weight_decay=0.0, *,
                 nonfinite="raise", steps=None, hash_every=None, adversary=None, settings=None):
        global _built
        if method not in _METHODS:
            raise ValueError(f"signvote: method {method!r}: one of {', '.join(_METHODS)}")
        if nonfinite not in ("raise", "skip"):
            raise ValueError(f"signvote: nonfinite {nonfinite!r}: 'raise' or 'skip'")
        if _built:
            raise RuntimeError("signvote: one VoteOptimizer per process (each worker rank joins the job once)")
        self._ready = False
        super().__init__(params, dict(lr=lr, weight_decay=weight_decay, momentum=momentum, betas=tuple(betas)))
        groups = self._trainable_groups(momentum, betas)
        ps = [p for g in groups for p in g]
        self._device = ps[0].device
        self._method, self._nonfinite = method, nonfinite
        self._n = sum(p.numel() for p in ps)
        self._group_sizes = [[p.numel() for p in g] for g in groups]
        self._flat, self._gflat, self._views = self._flatten(ps)
        self._hooks = [p.register_hook(_grad_hook(p, g)) for p, g, _ in self._views]
        self._present = (ctypes.c_uint8 * len(ps))()
        self._lrs, self._wds = (ctypes.c_float * len(groups))(), (ctypes.c_float * len(groups))()
        self._skipped = 0
        kv = self._settings(method, lr, momentum, betas, weight_decay, steps, hash_every, adversary, settings)
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

    def _trainable_groups(self, momentum, betas):
        # Each group's trainable parameters, checked; frozen ones (requires_grad
        # False) stay out of the flat buffer and the vote, as every torch
        # optimizer skips them.
        out, seen, index = [], set(), 0
        for gi, group in enumerate(self.param_groups):
            if group["momentum"] != momentum or tuple(group["betas"]) != tuple(betas):
                raise ValueError(f"signvote: parameter group {gi} sets its own momentum or betas; the vote's momentum "
                                 "is one for every group (give it to VoteOptimizer)")
            ps = [p for p in group["params"] if p.requires_grad]
            for p in ps:
                if id(p) in seen:
                    raise ValueError("signvote: a parameter is listed twice")
                seen.add(id(p))
                if p.dtype != torch.float32:
                    raise TypeError(f"signvote: parameter {index} is {p.dtype}; the vote works on float32 parameters "
                                    "(torch.autocast keeps them float32)")
                index += 1
            out.append(ps)
        ps = [p for g in out for p in g]
        if not ps:
            given = any(g["params"] for g in self.param_groups)
            raise ValueError("signvote: no trainable parameters to optimize (every parameter given is frozen)"
                             if given else "signvote: no parameters to optimize")
        for i, p in enumerate(ps):
            if p.device != ps[0].device:
                raise ValueError(f"signvote: parameter {i} is on {p.device}, parameter 0 on {ps[0].device}: one device")
        if ps[0].device.type not in ("cpu", "cuda"):
            raise ValueError(f"signvote: parameters on {ps[0].device}: cpu or cuda")
        return out

    def _settings(self, method, lr, momentum, betas, weight_decay, steps, hash_every, adversary, settings):
        # "key=value" strings for the join: the optimizer, the tensors and groups.
        groups = self.param_groups
        kv = [f"optimizer.name={method}", f"optimizer.lr={_yaml_value(float(lr))}",
              f"optimizer.weight_decay={_yaml_value(float(weight_decay))}",
              f"model.tensors={_yaml_value([n for g in self._group_sizes for n in g])}",
              f"optimizer.groups={_yaml_value([len(g) for g in self._group_sizes])}",
              f"optimizer.group_lr={_yaml_value([float(g['lr']) for g in groups])}",
              f"optimizer.group_weight_decay={_yaml_value([float(g['weight_decay']) for g in groups])}",
              f"optimizer.nonfinite={'skip' if self._nonfinite == 'skip' else 'stop'}"]
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
        return kv

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
                p.grad = g
            p.data = flat[off:off + k].view_as(p)
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

    @property
    def skipped_steps(self):
        """Rounds every worker dropped for a non-finite gradient (nonfinite="skip")."""
        return self._skipped

    def zero_grad(self, set_to_none=True):
        """set_to_none (the default, as in torch 2.x): every .grad becomes
        None, and a parameter backward() does not reach abstains at the next
        step(); the ones it reaches get their gradient in the flat buffer,
        in place. set_to_none=False: every gradient is a zero (it votes)."""
        if set_to_none:
            for p, _, _ in self._views:
                p.grad = None
            return
        self._gflat.zero_()
        for p, g, _ in self._views:
            if p.grad is None or p.grad.data_ptr() != g.data_ptr():
                p.grad = g

    @torch.no_grad()
    def _gather(self):
        # Which tensors have a gradient (a .grad of None abstains: its slot is
        # zeroed, so that no stale value is packed); gradients a script
        # assigned are copied into the flat buffer; parameters moved away are
        # an error. Then each group's lr and weight decay for this step.
        for i, (p, g, ptr) in enumerate(self._views):
            if p.data_ptr() != ptr:
                raise RuntimeError(f"signvote: parameter {i} no longer lives in the optimizer's flat buffer "
                                   "(model.to() or p.data = ... after the optimizer was built); build it last")
            if p.grad is None:
                g.zero_()
                self._present[i] = 0
                continue
            if p.grad.data_ptr() != g.data_ptr():
                g.copy_(p.grad)
                p.grad = g
            self._present[i] = 1
        for i, group in enumerate(self.param_groups):
            self._lrs[i], self._wds[i] = float(group["lr"]), float(group["weight_decay"])

    def step(self, closure=None, loss=None, grad_scaler=None):
        """One round: momentum and pack, the vote with the server, the fused
        apply. `loss` (a float or a tensor) goes to the server's log.
        Raises signvote.RunStopped when the server refuses the round.
        grad_scaler: GradScaler.step(opt) passes itself (needs
        nonfinite="skip"); it learns whether the round was skipped, which
        every worker agrees on, so the scales stay equal. The vote's sign
        does not depend on the scale: nothing is unscaled."""
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        if self._closed:
            raise RuntimeError("signvote: step() after close()")
        if grad_scaler is not None and self._nonfinite != "skip":
            raise ValueError("signvote: a GradScaler (fp16) overflows now and then: build the optimizer with "
                             "VoteOptimizer(..., nonfinite='skip') so that every worker skips those rounds")
        self._gather()
        value = 0.0 if loss is None else float(loss.detach().float().mean()) if torch.is_tensor(loss) else float(loss)
        current = torch.cuda.current_stream(self._device) if self._stream is not None else None
        other = current is not None and current != self._stream
        if other:
            # The gradients were made on the current stream: the round's
            # kernels and copies (on the optimizer's stream) wait for them.
            self._stream.wait_stream(current)
        self._w.step(value, present=self._present, lr=self._lrs, wd=self._wds)
        if other:
            # Whatever the current stream does next (the next forward pass)
            # sees the updated parameters. No host wait: events only.
            current.wait_stream(self._stream)
        skipped = self._w.skipped
        self._skipped += int(skipped)
        if grad_scaler is not None:
            _record_found_inf(grad_scaler, id(self), self._device, skipped)
        return loss

    def close(self):
        """Leaves the run: returns once every worker has (the server then
        ends cleanly); raises RunStopped if the others went on."""
        if self._closed:
            return
        self._closed = True
        _live.discard(self)
        for h in self._hooks:
            h.remove()
        self._w.leave()

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
        own: save one file per worker), the step, the budget clock, and the
        groups (their lr and weight decay, and the sizes of their tensors).
        torch.save / torch.load carry it as it is."""
        m = torch.empty(self._n, dtype=torch.float32)
        self._w.momentum_into(m.data_ptr(), self._n)
        groups = [{"lr": float(g["lr"]), "weight_decay": float(g["weight_decay"]), "tensors": list(sizes)}
                  for g, sizes in zip(self.param_groups, self._group_sizes)]
        return {"signvote": 2, "method": self._method, "dim": self._n, "step": self._w.steps_done,
                "elapsed_s": self._w.elapsed_s, "worker_index": self._w.worker_index, "workers": self._w.workers,
                "skipped_steps": self._skipped, "momentum": m, "param_groups": groups}

    def load_state_dict(self, state_dict):
        """Resumes after state_dict()'s step (before the first step());
        every worker resumes at the same step (the largest is taken). The
        groups' lr and weight decay come back too, as with torch.optim; a
        state of another group layout is refused. A job with another worker
        count resumes as the C++ workers do (docs/reliability.md): each
        worker that has a state loads its own; a worker new to the job calls
        join_resumed() instead (zero momentum, the others' step) and takes
        the weights from any worker's checkpoint."""
        sd = state_dict
        if sd.get("signvote") not in (1, 2):
            raise ValueError("signvote: not a VoteOptimizer state_dict")
        if sd.get("worker_index", self.worker_index) != self.worker_index:
            raise ValueError(f"signvote: state_dict of worker {sd['worker_index']}, this is worker {self.worker_index}: "
                             "each worker resumes its own momentum")
        if sd["dim"] != self._n or sd["method"] != self._method:
            raise ValueError(f"signvote: state_dict of {sd['method']} over {sd['dim']} parameters, "
                             f"this optimizer is {self._method} over {self._n}")
        self._check_groups(sd["param_groups"])
        m = sd["momentum"].detach().to(device="cpu", dtype=torch.float32).contiguous()
        if m.numel() != self._n:
            raise ValueError(f"signvote: state_dict momentum of {m.numel()} values, {self._n} parameters here")
        self._w.resume(int(sd["step"]), float(sd["elapsed_s"]))  # raises once the first step() has run
        self._w.set_momentum(m.data_ptr(), m.numel())
        self._skipped = int(sd.get("skipped_steps", 0))
        for group, saved in zip(self.param_groups, sd["param_groups"]):
            group["lr"], group["weight_decay"] = saved["lr"], saved["weight_decay"]

    def join_resumed(self):
        """Instead of load_state_dict(), before the first step(), on a worker
        new to a job resumed with more workers than saved: it has no state of
        its own, starts with zero momentum, and takes the step the resumed
        workers agree on. Load the weights from any worker's checkpoint."""
        self._w.join()

    def _check_groups(self, saved):
        if len(saved) != len(self.param_groups):
            raise ValueError(f"signvote: state_dict has {len(saved)} parameter groups, this optimizer "
                             f"{len(self.param_groups)}")
        for i, (g, sizes) in enumerate(zip(saved, self._group_sizes)):
            theirs = g.get("tensors", sizes if len(saved) == 1 else None)  # version 1: one group
            if theirs != sizes:
                raise ValueError(f"signvote: parameter group {i} of the state_dict holds tensors of sizes {theirs}, "
                                 f"this optimizer's {sizes}")


from .local import LocalVote  # noqa: E402,F401 -- local steps: signvote.torch.LocalVote
