// One server rank's loop: a round per step; server 0 also logs.
#pragma once

#include "comm/topology.h"
#include "signvote/train.h"

#include <memory>

namespace signvote::server {

class ServerLoop {
 public:
  virtual ~ServerLoop() = default;
  // Runs cfg.run.steps rounds; throws RoundError after telling the workers.
  // Rounds first_step..run.steps (first_step > 1 when resuming, with
  // elapsed_s seconds of training already spent from the time budget).
  virtual void run(uint64_t first_step, double elapsed_s) = 0;
};

// Builds the server's buffers and outputs (metrics file) before round 1.
std::unique_ptr<ServerLoop> make_server(const Config& cfg, const TrainOptions& opt, const comm::Topology& topo);

}  // namespace signvote::server
