#include "worker/optimizer.h"

#include <cmath>

namespace signvote::worker {

DenseOptimizer::DenseOptimizer(const OptimizerConfig& cfg)
    : cfg_(cfg), adam_(cfg.kind == OptimizerName::adam || cfg.kind == OptimizerName::adamw) {}

kernels::DenseStep DenseOptimizer::scalars(uint64_t step, float grad_scale) const {
  kernels::DenseStep s;
  s.lr = static_cast<float>(lr_at(cfg_, step, progress_));
  s.wd = static_cast<float>(cfg_.weight_decay);
  s.mu = static_cast<float>(cfg_.momentum);
  s.b2 = static_cast<float>(cfg_.beta2);
  s.eps = static_cast<float>(cfg_.eps);
  s.grad_scale = grad_scale;
  s.nesterov = cfg_.nesterov;
  if (cfg_.kind == OptimizerName::adamw) s.lr_wd = s.lr * s.wd, s.wd = 0;
  if (adam_) {
    const double c1 = 1.0 - std::pow(double(s.mu), double(step)), c2 = 1.0 - std::pow(double(s.b2), double(step));
    s.adam_a = static_cast<float>(double(s.lr) * std::sqrt(c2) / c1);
  }
  return s;
}

void DenseOptimizer::step(std::span<float> x, std::span<const float> g, OptimizerState& state, uint64_t step,
                          float grad_scale) const {
  const kernels::DenseStep s = scalars(step, grad_scale);
  const size_t n = x.size();
  float* m = state.m().data();
  if (!adam()) {
    for (size_t i = 0; i < n; ++i) kernels::sgd_update(x[i], m[i], g[i], s);
    return;
  }
  float* v = state.v().data();
  for (size_t i = 0; i < n; ++i) kernels::adam_update(x[i], m[i], v[i], g[i], s);
}

}  // namespace signvote::worker
