// The toy problem of the paper's Figure 1: f(x) = 1/2 ||x||^2 in d
// dimensions; each worker sees grad f(x) + N(0, noise_std^2) per component,
// from its own stream seeded by (run.seed, worker index).
#include "signvote/aligned_buffer.h"
#include "util/rng.h"
#include "worker/problem.h"

#include <fmt/format.h>

#include <random>
#include <sstream>
#include <stdexcept>

namespace signvote::worker {
namespace {

// Per-worker stream: SplitMix64 of (seed, worker) so streams never collide.
uint64_t seed_for(uint64_t seed, int worker) {
  return util::mix64(seed * util::kGolden + static_cast<uint64_t>(worker) + 1);
}

class Quadratic final : public Problem {
 public:
  Quadratic(const Config& cfg, int worker_index)
      : x_(static_cast<size_t>(cfg.model.dim)), g_(x_.size()), noise_std_(static_cast<float>(cfg.data.noise_std)),
        rng_(seed_for(cfg.run.seed, worker_index)) {
    for (auto& v : x_.span()) v = static_cast<float>(cfg.model.init);
  }
  std::span<float> params() override { return x_.span(); }
  std::span<float> grads() override { return g_.span(); }
  StepResult compute(uint64_t) override {
    double f = 0;
    for (size_t i = 0; i < x_.size(); ++i) {
      f += 0.5 * double(x_[i]) * x_[i];
      g_[i] = x_[i] + noise_std_ * normal_(rng_);
    }
    return {static_cast<float>(f), 0, 0};
  }
  std::string save_state() const override {
    std::ostringstream os;
    os << rng_ << ' ' << normal_;
    return os.str();
  }
  void restore_state(const std::string& bytes) override {
    std::istringstream is(bytes);
    is >> rng_ >> normal_;
    if (!is) throw std::runtime_error("quadratic: corrupt RNG state in checkpoint");
  }

 private:
  AlignedBuffer<float> x_, g_;
  float noise_std_;
  std::mt19937_64 rng_;
  std::normal_distribution<float> normal_{0.f, 1.f};
};

}  // namespace

std::unique_ptr<Problem> make_quadratic(const Config& cfg, int worker_index) {
  return std::make_unique<Quadratic>(cfg, worker_index);
}

}  // namespace signvote::worker
