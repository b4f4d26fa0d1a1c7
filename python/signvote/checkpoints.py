"""Per-worker checkpoints of a PyTorch job, in the layout `signvote launch
--mpmd --checkpoint-dir DIR` reads when it restarts the job after a lost
node (docs/pytorch.md, "Restarts"):

    DIR/step_000000120_w4/worker0.pt ... worker3.pt

one directory per saved step and worker count W, one file per worker: its
model (weights and BatchNorm buffers), its optimizer's state_dict() (its own
momentum) and the script's `extra` (a scheduler's state, a data position).
A step is complete when all W files are there; resume() takes the latest
complete one, so a job killed while saving resumes from the step before.
Each file is written to a temporary name and renamed: never half a file.
"""
import os
import re
import shutil

_STEP = re.compile(r"^step_(\d{9})_w(\d{1,7})$")


def complete_steps(directory):
    """[(step, workers, path)] of the complete saved steps, oldest first."""
    out = []
    if not os.path.isdir(directory):
        return out
    for name in os.listdir(directory):
        m = _STEP.match(name)
        path = os.path.join(directory, name)
        if not m or not os.path.isdir(path):
            continue
        w = int(m.group(2))
        if w > 0 and all(os.path.isfile(os.path.join(path, f"worker{k}.pt")) for k in range(w)):
            out.append((int(m.group(1)), w, path))
    return sorted(out)


class Checkpoints:
    """save() every so many steps on every worker, resume() once before the
    first step(). `opt`: a VoteOptimizer or a LocalVote (save at a round
    boundary: steps_done a multiple of local_steps)."""

    def __init__(self, directory, keep=3):
        if keep < 1:
            raise ValueError(f"signvote.checkpoints: keep must be at least 1, not {keep}")
        self.directory, self.keep = str(directory), int(keep)

    def save(self, opt, model, extra=None):
        """Writes this worker's file of step opt.steps_done; worker 0 then
        removes the saved steps older than the `keep` latest complete ones."""
        import torch
        step, w, k = int(opt.steps_done), int(opt.workers), int(opt.worker_index)
        d = os.path.join(self.directory, f"step_{step:09d}_w{w}")
        os.makedirs(d, exist_ok=True)
        final = os.path.join(d, f"worker{k}.pt")
        tmp = f"{final}.tmp{os.getpid()}"
        torch.save({"signvote_checkpoint": 1, "step": step, "workers": w, "worker_index": k,
                    "model": model.state_dict(), "optimizer": opt.state_dict(), "extra": extra}, tmp)
        os.replace(tmp, final)
        if k == 0:
            self._prune()
        return final

    def _prune(self):
        kept = complete_steps(self.directory)[-self.keep:]
        if len(kept) < self.keep:
            return
        oldest = kept[0][0]
        for name in os.listdir(self.directory):
            m = _STEP.match(name)
            if m and int(m.group(1)) < oldest:
                shutil.rmtree(os.path.join(self.directory, name), ignore_errors=True)

    def resume(self, opt, model, map_location="cpu"):
        """Loads the latest complete step, if any, before the first step():
        a worker that saved loads its own file; a worker new to the job (the
        job has more workers than the one that saved) takes the weights from
        worker 0's file and calls opt.join_resumed(). Returns None (nothing
        saved: a fresh start) or {"step", "workers" (the saved count),
        "joined" (True for a new worker), "extra" (the file's, worker 0's for
        a new worker), "path"}."""
        import torch
        steps = complete_steps(self.directory)
        if not steps:
            return None
        step, w, d = steps[-1]
        k = int(opt.worker_index)
        joined = k >= w
        path = os.path.join(d, f"worker{0 if joined else k}.pt")
        state = torch.load(path, map_location=map_location)
        if state.get("signvote_checkpoint") != 1:
            raise ValueError(f"signvote.checkpoints: {path} is not a signvote.checkpoints file")
        model.load_state_dict(state["model"])
        if joined:
            opt.join_resumed()
        else:
            opt.load_state_dict(state["optimizer"])
        return {"step": step, "workers": w, "joined": joined, "extra": state.get("extra"), "path": path}
