#include "worker/step_hooks.h"

namespace signvote::worker {

StepHooks::StepHooks(const Config& cfg, const comm::Topology& topo, bool vote, Problem& problem, ServerExchange& client)
    : problem_(problem), client_(client), hash_(cfg.run.hash_every, round_steps(cfg)), faults_(cfg.faults, topo.world_rank()),
      adversary_(cfg, topo.worker_index(), vote) {}

void StepHooks::before_step(uint64_t step, WorkerReport& report) {
  report.weight_hash = hash_.at(step, problem_);
  faults_.before_step(step, client_);
}

}  // namespace signvote::worker
