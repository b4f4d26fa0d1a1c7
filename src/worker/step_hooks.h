// The side jobs of a worker's step, around its training path (Worker::step:
// before_step, compute, after_compute, before_round, the round). None of
// them is on the path of an honest, fault-free run's numbers except the
// weight hash, which only reads x.
//
//   before_step    the weight hash on hash steps (weight_hash.h) into the
//                  report; an injected wrong header (faults.h)
//   after_compute  an adversary's corruption of g (adversary_hook.h)
//   before_round   an injected straggler's delay (faults.h), outside the
//                  step's t_compute
#pragma once

#include "comm/topology.h"
#include "signvote/config.h"
#include "worker/adversary_hook.h"
#include "worker/exchange.h"
#include "worker/faults.h"
#include "worker/problem.h"
#include "worker/server_exchange.h"
#include "worker/weight_hash.h"

#include <cstdint>

namespace signvote::worker {

class StepHooks {
 public:
  // vote: the round is majority_vote. client: where a wrong header goes.
  StepHooks(const Config& cfg, const comm::Topology& topo, bool vote, Problem& problem, ServerExchange& client);
  void before_step(uint64_t step, WorkerReport& report);
  void after_compute(uint64_t step) { adversary_.after_compute(step, problem_); }
  void before_round(uint64_t step) { faults_.before_round(step); }
  // The vote's "invert" adversary (the round's pack flips its signs).
  bool invert_signs() const { return adversary_.invert_signs(); }

 private:
  Problem& problem_;
  ServerExchange& client_;
  WeightHash hash_;
  Faults faults_;
  AdversaryHook adversary_;
};

}  // namespace signvote::worker
