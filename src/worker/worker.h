// One worker rank's training loop.
#pragma once

#include "comm/topology.h"
#include "signvote/train.h"
#include "worker/optimizer_state.h"
#include "worker/param_groups.h"
#include "worker/problem.h"

#include <memory>

namespace signvote::worker {

class WorkerLoop {
 public:
  virtual ~WorkerLoop() = default;
  // Runs cfg.run.steps rounds. Throws RoundError when the server stops the
  // run, and rethrows a local failure after telling the server about it.
  virtual void run() = 0;
  // 1, or the step after the checkpoint this worker resumed from.
  virtual uint64_t first_step() const = 0;
  // Training seconds spent before the checkpoint resumed from (0 for a new run).
  virtual double elapsed_s() const = 0;
  // One round at `step` (compute, pack, exchange, apply); true when the
  // server marked it the last (time limit). run() is a loop of these; an
  // external problem's caller (the PyTorch binding) calls it directly.
  virtual bool step(uint64_t step) = 0;
  // Tells the server this worker leaves at `step` (protocol.h, "Leaving").
  // Returns when every worker left; throws RoundError when the others went on.
  virtual void leave(uint64_t step) = 0;
  // The optimizer state the rounds update and checkpoints hold (cuda
  // workers: to_host() before reading its host buffers, to_device() after
  // writing them).
  virtual OptimizerState& optimizer_state() = 0;
  // The PyTorch workers' tensors and groups: ExternalWorker sets each
  // step's presence and lrs here before step() (inactive otherwise).
  virtual ParamGroups& param_groups() = 0;
  // Every worker dropped the last round (optimizer.nonfinite: skip).
  virtual bool skipped() const = 0;
  // Server 0's budget clock at the last round (seconds of training).
  virtual double clock_s() const = 0;
};

// Builds everything a worker needs before the first round (problem, data,
// buffers); throws on bad input. Collective errors are agreed in train().
// `problem`: an external problem to use instead of the one cfg.model names.
std::unique_ptr<WorkerLoop> make_worker(const Config& cfg, const TrainOptions& opt, const comm::Topology& topo,
                                        std::unique_ptr<Problem> problem = {}, int gpu = 0);

}  // namespace signvote::worker
