#include "worker/adversary_hook.h"

namespace signvote::worker {

AdversaryHook::AdversaryHook(const Config& cfg, int worker_index, bool vote)
    : mode_(cfg.adversary.mode_kind), scale_(static_cast<float>(cfg.adversary.scale)),
      seed_(cfg.run.seed + 7919u * static_cast<uint64_t>(worker_index + 1)) {
  if (!cfg.is_adversary(worker_index)) return;
  const bool inverts_bits = vote && mode_ == AdversaryMode::invert;  // sign(-g) but for g_i == 0: adversary.h
  invert_signs_ = inverts_bits;
  corrupts_ = !server_simulated(mode_) && !inverts_bits;
}

void AdversaryHook::after_compute(uint64_t step, Problem& p) const {
  if (!corrupts_) return;
  p.pull(Flat::grads);  // cuda: corrupted on the host, then copied back
  corrupt_gradient(mode_, scale_, p.grads(), seed_, step);
  p.push(Flat::grads);
}

}  // namespace signvote::worker
