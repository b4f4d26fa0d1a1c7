#include "worker/optimizer.h"

#include <cmath>

namespace signvote::worker {

DenseOptimizer::DenseOptimizer(const OptimizerConfig& cfg, size_t dim)
    : cfg_(cfg), m_(dim), v_(cfg.name == "adam" ? dim : 0) {}

void DenseOptimizer::step(std::span<float> x, std::span<const float> g, uint64_t step) {
  const float lr = static_cast<float>(lr_at(cfg_, step));
  const float wd = static_cast<float>(cfg_.weight_decay);
  const float mu = static_cast<float>(cfg_.momentum);
  const size_t n = x.size();
  float* m = m_.data();
  if (cfg_.name == "sgd") {
    for (size_t i = 0; i < n; ++i) {
      m[i] = mu * m[i] + (g[i] + wd * x[i]);
      x[i] -= lr * m[i];
    }
    return;
  }
  // adam
  const float b2 = static_cast<float>(cfg_.beta2), eps = static_cast<float>(cfg_.eps);
  const double c1 = 1.0 - std::pow(double(mu), double(step)), c2 = 1.0 - std::pow(double(b2), double(step));
  const float a = static_cast<float>(lr * std::sqrt(c2) / c1);
  float* v = v_.data();
  for (size_t i = 0; i < n; ++i) {
    const float d = g[i] + wd * x[i];
    m[i] = mu * m[i] + (1 - mu) * d;
    v[i] = b2 * v[i] + (1 - b2) * d * d;
    x[i] -= a * m[i] / (std::sqrt(v[i]) + eps);
  }
}

}  // namespace signvote::worker
