// run.hash_every: on every hash_every-th step each worker puts a hash of its
// weights x (before the step's update) in its headers; the server checks
// that every replica sent the same (protocol.h, weight_hash).
#pragma once

#include "config/run_plan.h"
#include "worker/problem.h"

#include <cstdint>

namespace signvote::worker {

class WeightHash {
 public:
  // every: run.hash_every; h: steps per round (aggregation.local_steps)
  WeightHash(int64_t every, uint64_t h) : every_(every), h_(h) {}
  bool due(uint64_t step) const { return period_due(step, every_, h_); }
  // The header's weight_hash at `step`: 0 off hash steps, else
  // data::hash_floats(x) | 1 (never 0 on hash steps). Pulls x on hash steps.
  uint64_t at(uint64_t step, Problem& p) const;

 private:
  int64_t every_;
  uint64_t h_;
};

}  // namespace signvote::worker
