// run.hash_every: on every hash_every-th step each worker puts a hash of its
// weights x (before the step's update) in its headers; the server checks
// that every replica sent the same (protocol.h, weight_hash).
#pragma once

#include "worker/problem.h"

#include <cstdint>

namespace signvote::worker {

class WeightHash {
 public:
  explicit WeightHash(int64_t every) : every_(every) {}
  bool due(uint64_t step) const { return every_ > 0 && step % static_cast<uint64_t>(every_) == 0; }
  // The header's weight_hash at `step`: 0 off hash steps, else
  // data::hash_floats(x) | 1 (never 0 on hash steps). Pulls x on hash steps.
  uint64_t at(uint64_t step, Problem& p) const;

 private:
  int64_t every_;
};

}  // namespace signvote::worker
