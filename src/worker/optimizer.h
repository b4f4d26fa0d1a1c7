// The fp32 update rules of the all-reduce baseline (the learning-rate
// schedule, lr_at, is in core/run_plan.h: the server logs it too). The sign
// update itself is the fused kernel `apply` (src/kernels), which needs no
// state beyond the momentum buffer.
#pragma once

#include "core/run_plan.h"
#include "signvote/aligned_buffer.h"
#include "signvote/config.h"

#include <cstdint>
#include <span>

namespace signvote::worker {

using signvote::lr_at;  // constant | step (lr * gamma^#milestones passed) | warmup_step

// SGD with heavy-ball momentum (PyTorch semantics, weight decay coupled):
//   d = g + wd x;  b = mu b + d;  x -= lr b
// Adam (weight decay coupled, bias-corrected, beta1 = momentum).
class DenseOptimizer {
 public:
  DenseOptimizer(const OptimizerConfig& cfg, size_t dim);
  // x (d,), g (d,) the averaged gradient; `step` is 1-based.
  void step(std::span<float> x, std::span<const float> g, uint64_t step);
  std::span<float> state1() { return m_.span(); }
  std::span<float> state2() { return v_.span(); }

 private:
  OptimizerConfig cfg_;
  AlignedBuffer<float> m_, v_;
};

}  // namespace signvote::worker
