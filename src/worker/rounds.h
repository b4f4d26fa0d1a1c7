// The worker's side of one round, as a strategy chosen once from the
// config's RoundKind (core/run_plan.h) -- the same choice that picks the
// server's aggregation (server/aggregation.h):
//
//   VoteRound       Signum momentum + packed signs per shard, the vote, the
//                   fused apply of the majority (StepEngine: host or device)
//   NodeVoteRound   the same with cluster.hierarchy: node -- g averaged in
//                   the node, the leader votes, the node applies its result
//   OverlapVoteRound  the same with aggregation.overlap: each shard is packed
//                   and sent as soon as the backward pass has finished its
//                   gradients (last shard first), and applied as it arrives
//   AlltoallVoteRound  the same with aggregation.transport: alltoall -- a
//                   header-only REPORT the server validates first, then the
//                   workers tally the chunks among themselves (AlltoallVote)
//   DenseRound      encode g (fp32, QSGD or EF-sign) for the server's robust
//                   aggregation, then SGD/Adam on its fp32 result
//   AllreduceRound  a header-only REPORT the server validates first, then the
//                   fp32 all-reduce (MPI, or NCCL on cuda workers) and SGD/Adam
//
// Each fills the report's t_pack / t_comm / t_apply (seconds) and flags NaNs.
#pragma once

#include "comm/topology.h"
#include "config/run_plan.h"
#include "worker/encoder.h"
#include "worker/optimizer.h"
#include "worker/problem.h"
#include "worker/step_engine.h"
#include "worker/vote_client.h"

#include <cstdint>
#include <memory>

namespace signvote::worker {

// What a round works on; all owned by the worker loop.
struct RoundParts {
  const Config& cfg;
  const comm::Topology& topo;
  Problem& problem;
  VoteClient& client;
  StepEngine& engine;
  DenseOptimizer& dense;
  DenseEncoder& encoder;
  WorkerReport& report;
  const kernels::SignOps& ops;  // aggregation.isa (the all-to-all tally)
  bool invert_signs = false;  // an "invert" adversary in the vote
};

class Round {
 public:
  virtual ~Round() = default;
  // Called before the step's gradient is computed (overlap: arms the hook).
  virtual void before_compute(uint64_t step) {}
  virtual void run(uint64_t step) = 0;
};

std::unique_ptr<Round> make_round(RoundKind kind, const RoundParts& parts);

}  // namespace signvote::worker
