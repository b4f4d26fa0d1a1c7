// The fp32 update rules of the dense rounds and the all-reduce baseline (the
// learning-rate schedule, lr_at, is in config/run_plan.h: the server logs it
// too). The rules hold no buffers: m and v are the worker's OptimizerState
// (optimizer_state.h). The sign update itself is the fused kernel `apply`
// (src/kernels), which needs no state beyond the momentum.
#pragma once

#include "config/run_plan.h"
#include "kernels/dense_update.h"
#include "signvote/config.h"
#include "worker/optimizer_state.h"

#include <cstdint>
#include <span>

namespace signvote::worker {

using signvote::lr_at;  // constant | step (lr * gamma^#milestones passed) | warmup_step

// SGD with heavy-ball momentum (PyTorch semantics, weight decay coupled):
//   d = g + wd x;  b = mu b + d;  x -= lr b   (nesterov: x -= lr (d + mu b))
// Adam (weight decay coupled, bias-corrected, beta1 = momentum); AdamW (the
// same with the decay decoupled: x -= lr wd x first).
class DenseOptimizer {
 public:
  explicit DenseOptimizer(const OptimizerConfig& cfg);
  // x (d,), g (d,) the gradient (times grad_scale: 1/W after a sum), s's m
  // and v (Adam) (d,) updated; `step` is 1-based. Element rules:
  // kernels/dense_update.h (CUDA twin: kernels/dense_kernels_cuda.h, driven
  // by the worker's device engine).
  void step(std::span<float> x, std::span<const float> g, OptimizerState& s, uint64_t step,
            float grad_scale = 1.0f) const;
  // The step's scalars (learning rate, bias correction) for either twin.
  kernels::DenseStep scalars(uint64_t step, float grad_scale) const;
  bool adam() const { return adam_; }  // adam or adamw: the rule keeps v
  // The step's fraction of the run's budget (the RESULT header's progress),
  // set by the round before step() / scalars(): the lr schedule follows it.
  void set_progress(double p) { progress_ = p; }

 private:
  OptimizerConfig cfg_;
  bool adam_;  // optimizer.name == adam or adamw, resolved once (else SGD)
  double progress_ = 0;
};

}  // namespace signvote::worker
