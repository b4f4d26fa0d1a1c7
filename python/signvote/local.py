"""signvote.torch.LocalVote: local steps with a majority vote on the
pseudo-gradient (aggregation.local_steps, docs/scaling.md).

    inner = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=0.01)
    opt = LocalVote(inner, local_steps=8, method="signum", lr=1e-3)
    for x, y in loader:
        opt.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        opt.step(loss=loss)            # the inner step; every 8th call also votes
        if opt.stop_requested:
            break
    opt.close()

Each step() runs the inner optimizer on this worker's own gradients. Every
local_steps-th call, the worker's pseudo-gradient x_start - x goes to the
vote, x goes back to x_start, and every replica applies the outer rule
x <- x_start - lr (vote + weight_decay x_start): the replicas are identical
again after each round, as the C++ workers' with aggregation.local_steps.
A parameter that had no gradient in any inner step of a round abstains from
that round's vote (VoteOptimizer's rule); the inner optimizer's groups are
the vote's groups, each with the outer lr and weight_decay.
"""
import torch

from .torch import VoteOptimizer, _Closes


class LocalVote(_Closes):
    """inner         any torch optimizer over the model's parameters (its
                  state stays on this worker, across rounds)
    local_steps   H: inner steps per round (aggregation.local_steps)
    method, lr, momentum, betas, weight_decay   the outer rule, as
                  VoteOptimizer's; lr and weight_decay apply to every group
    steps         run.steps, counted in inner steps (a multiple of H)
    other keyword arguments go to VoteOptimizer (nonfinite, hash_every,
    adversary, settings)."""

    def __init__(self, inner, local_steps, method="signum", lr=1e-3, momentum=0.9, betas=(0.9, 0.99),
                 weight_decay=0.0, **vote):
        if not isinstance(inner, torch.optim.Optimizer):
            raise TypeError(f"signvote: LocalVote wraps a torch.optim.Optimizer, got {type(inner).__name__}")
        if isinstance(inner, VoteOptimizer):
            raise TypeError("signvote: LocalVote's inner optimizer runs on this worker alone, not a VoteOptimizer")
        h = int(local_steps)
        if h < 1 or h != local_steps:
            raise ValueError(f"signvote: local_steps must be a positive integer, got {local_steps!r}")
        steps = vote.get("steps")
        if steps is not None and int(steps) % h:
            raise ValueError(f"signvote: steps = {steps} (inner steps) is not a multiple of local_steps = {h}")
        settings = dict(vote.pop("settings", None) or {})
        settings["aggregation.local_steps"] = h
        groups = [{"params": list(g["params"]), "lr": lr, "weight_decay": weight_decay} for g in inner.param_groups]
        self.inner, self.local_steps = inner, h
        self.outer = VoteOptimizer(groups, method=method, lr=lr, momentum=momentum, betas=betas,
                                   weight_decay=weight_decay, settings=settings, **vote)
        self._views = self.outer._views
        self._start = self.outer._flat.clone()  # x_start (d,): the replicas' common point
        self._seen = [False] * len(self._views)  # a gradient in some inner step of this round
        self._k = 0  # inner steps since the round began
        self._loss = 0.0

    # The job's facts, as VoteOptimizer's; steps_done counts inner steps.
    rank = property(lambda self: self.outer.rank)
    worker_index = property(lambda self: self.outer.worker_index)
    workers = property(lambda self: self.outer.workers)
    stop_requested = property(lambda self: self.outer.stop_requested)
    skipped_steps = property(lambda self: self.outer.skipped_steps)
    steps_done = property(lambda self: self.outer.steps_done + self._k)

    def zero_grad(self, set_to_none=True):
        self.outer.zero_grad(set_to_none)

    @torch.no_grad()
    def step(self, closure=None, loss=None):
        """One inner step; on every local_steps-th call also the round.
        Returns the loss (closure's or the one given)."""
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        if self._k == 0:  # x is the common point (after a round, a resume or a load of the weights)
            self._start.copy_(self.outer._flat)
        for i, (p, _, _) in enumerate(self._views):
            self._seen[i] = self._seen[i] or p.grad is not None
        self.inner.step()
        self._loss += 0.0 if loss is None else float(loss.detach().float().mean()) if torch.is_tensor(loss) else float(loss)
        self._k += 1
        if self._k == self.local_steps:
            self._round()
        return loss

    @torch.no_grad()
    def _round(self):
        # g = x_start - x in the flat gradient buffer (a tensor never reached
        # in the round abstains: grad None); x = x_start; then the vote.
        flat, gflat = self.outer._flat, self.outer._gflat
        torch.sub(self._start, flat, out=gflat)
        flat.copy_(self._start)
        for (p, g, _), seen in zip(self._views, self._seen):
            p.grad = g if seen else None
        mean_loss = self._loss / self.local_steps
        self._k, self._loss, self._seen = 0, 0.0, [False] * len(self._views)
        try:
            self.outer.step(loss=mean_loss)
        finally:
            for p, _, _ in self._views:  # the pseudo-gradient is not the next step's gradient
                p.grad = None

    def close(self):
        self.outer.close()

    def average_(self, tensors):
        self.outer.average_(tensors)

    def state_dict(self):
        """At a round boundary (steps_done a multiple of local_steps): the
        vote's state (this worker's outer momentum, the step, the groups) and
        the inner optimizer's."""
        if self._k:
            raise RuntimeError(f"signvote: state_dict() between rounds ({self._k} of {self.local_steps} inner steps "
                               "done): save after a round, when steps_done % local_steps == 0")
        return {"signvote_local": 1, "local_steps": self.local_steps, "outer": self.outer.state_dict(),
                "inner": self.inner.state_dict()}

    def load_state_dict(self, state_dict):
        sd = state_dict
        if sd.get("signvote_local") != 1:
            raise ValueError("signvote: not a LocalVote state_dict")
        if sd["local_steps"] != self.local_steps:
            raise ValueError(f"signvote: state_dict of local_steps = {sd['local_steps']}, this one has "
                             f"{self.local_steps}")
        self.outer.load_state_dict(sd["outer"])
        self.inner.load_state_dict(sd["inner"])
        self._k = 0

    def join_resumed(self):
        """Instead of load_state_dict(), before the first step(), on a worker
        new to a job resumed with more workers than saved: zero outer
        momentum, a fresh inner optimizer, the others' step (VoteOptimizer's
        join_resumed). Load the weights from any worker's checkpoint."""
        self.outer.join_resumed()
        self._k = 0
