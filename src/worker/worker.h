// One worker rank's training loop.
#pragma once

#include "comm/topology.h"
#include "signvote/train.h"

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
};

// Builds everything a worker needs before the first round (problem, data,
// buffers); throws on bad input. Collective errors are agreed in train().
std::unique_ptr<WorkerLoop> make_worker(const Config& cfg, const TrainOptions& opt, const comm::Topology& topo);

}  // namespace signvote::worker
