// adversary.*: what an adversary worker does to its own round
// (include/signvote/adversary.h has the modes). One place decides:
//
//   invert in the vote      the round flips the packed signs (invert_signs(),
//                           handed to the StepEngine's pack)
//   invert elsewhere,       after the compute, g is replaced by
//   negative, random,       corrupt_gradient(g) (on the host: cuda workers
//   gaussian                pull g, corrupt it and push it back)
//   collude, alie, ipm      nothing here: the server forges the rows
//
// An honest worker (not in adversary.count / adversary.workers) does nothing.
#pragma once

#include "signvote/adversary.h"
#include "signvote/config.h"
#include "worker/problem.h"

#include <cstdint>

namespace signvote::worker {

class AdversaryHook {
 public:
  // worker_index: 0-based; vote: the round is majority_vote.
  AdversaryHook(const Config& cfg, int worker_index, bool vote);
  // The vote's "invert" adversary: its packed signs are flipped.
  bool invert_signs() const { return invert_signs_; }
  // Whether after_compute changes g.
  bool corrupts_gradient() const { return corrupts_; }
  // The corruption's stream (random, gaussian): run.seed and the worker.
  uint64_t seed() const { return seed_; }
  // After the compute: g = corrupt_gradient(g) when corrupts_gradient().
  void after_compute(uint64_t step, Problem& p) const;

 private:
  AdversaryMode mode_ = AdversaryMode::invert;
  float scale_ = 0;
  uint64_t seed_ = 0;
  bool invert_signs_ = false, corrupts_ = false;
};

}  // namespace signvote::worker
