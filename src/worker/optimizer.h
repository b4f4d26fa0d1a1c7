// Learning-rate schedules and the fp32 update rules of the all-reduce
// baseline. The sign update itself is the fused kernel `apply`
// (src/kernels), which needs no state beyond the momentum buffer.
#pragma once

#include "signvote/aligned_buffer.h"
#include "signvote/config.h"

#include <cstdint>
#include <span>

namespace signvote::worker {

// lr at 1-based `step`: constant; step (lr * gamma^#milestones passed);
// warmup_step (linear ramp over warmup_steps, then step).
double lr_at(const OptimizerConfig& o, uint64_t step);

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
