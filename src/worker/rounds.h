// The worker's side of one round, as a strategy chosen once from the
// config's RoundKind (config/run_plan.h) -- the same choice that picks the
// server's aggregation (server/aggregation.h):
//
//   SignRound       Signum (or Lion) momentum + packed signs per part, the
//                   exchange, the fused apply of the majority (StepEngine:
//                   host or device). Its exchange is a stack built once
//                   (worker/exchange.h):
//                     ServerExchange (server shards) | AlltoallVote (the workers
//                     tally, aggregation.transport: alltoall)
//                     wrapped in NodeExchange with cluster.hierarchy: node
//                   and its schedule of parts is one of
//                     whole    pack every part, post, wait, apply
//                     overlap  (aggregation.overlap) each part is averaged
//                              in the node, packed and posted as soon as the
//                              backward pass has finished its gradients
//                              (last part first), and applied as it arrives
//                   aggregation.bucket_bytes only makes the parts smaller.
//   DenseRound      encode g (fp32, QSGD or EF-sign) for the server's robust
//                   aggregation, then SGD/Adam on its fp32 result
//   AllreduceRound  a header-only REPORT the server validates first, then the
//                   fp32 all-reduce (MPI, or NCCL on cuda workers) and SGD/Adam
//
// Each fills the report's t_pack / t_comm / t_apply (seconds) and flags NaNs.
#pragma once

#include "comm/topology.h"
#include "config/run_plan.h"
#include "worker/exchange.h"
#include "worker/encoder.h"
#include "worker/optimizer.h"
#include "worker/optimizer_state.h"
#include "worker/param_groups.h"
#include "worker/problem.h"
#include "worker/step_engine.h"
#include "worker/server_exchange.h"

#include <cstdint>
#include <memory>

namespace signvote::worker {

// What a round works on; all owned by the worker loop.
struct RoundParts {
  const Config& cfg;
  const comm::Topology& topo;
  Problem& problem;
  ServerExchange& client;  // the server exchange (dense, REPORTs; the vote's base)
  StepEngine& engine;
  DenseOptimizer& dense;  // the SGD/Adam rule (dense rounds, the baseline)
  DenseEncoder& encoder;
  OptimizerState& state;  // what the round updates: m, v, e (optimizer_state.h)
  WorkerReport& report;
  const kernels::SignOps& ops;  // aggregation.isa (the all-to-all tally)
  bool invert_signs = false;  // an "invert" adversary in the vote (StepHooks::invert_signs)
  const ParamGroups* groups = nullptr;  // the PyTorch workers' tensors and groups (null or inactive: none)
};

class Round {
 public:
  virtual ~Round() = default;
  // Called before the step's gradient is computed (overlap: arms the hook).
  virtual void before_compute(uint64_t step) {}
  virtual void run(uint64_t step) = 0;
  // The exchange whose results the worker applied: the server's budget
  // clock and stop flag of the last round.
  virtual const Exchange& exchange() const = 0;
};

std::unique_ptr<Round> make_round(RoundKind kind, const RoundParts& parts);

}  // namespace signvote::worker
