// What a worker optimises: parameters, their stochastic gradient, a loss.
// The quadratic toy (quadratic.cpp) and the networks (network.cpp) plug in
// the same way.
#pragma once

#include "signvote/config.h"

#include <cstdint>
#include <memory>
#include <span>
#include <string>

namespace signvote::worker {

struct StepResult {
  float loss = 0;          // objective value (toy) or mean batch loss (networks)
  uint32_t correct = 0;    // correctly classified samples (networks)
  uint32_t samples = 0;
};

// Sums over this worker's part of the validation split.
struct EvalSums {
  double loss_sum = 0;
  double correct = 0;
  double count = 0;
};

class Problem {
 public:
  virtual ~Problem() = default;
  // Flat parameters x (d,) and gradient g (d,), same offsets. Identical
  // initial x on every worker.
  virtual std::span<float> params() = 0;
  virtual std::span<float> grads() = 0;
  // Per-worker state that is not voted: BatchNorm running statistics.
  virtual std::span<float> buffers() { return {}; }
  // g = this worker's stochastic gradient at the current x for `step`.
  virtual StepResult compute(uint64_t step) = 0;
  // True when the step just computed was the last of an epoch.
  virtual bool epoch_ended() const { return false; }
  virtual uint64_t epoch() const { return 0; }
  // Evaluates part k of K of the validation split (networks only).
  virtual bool has_validation() const { return false; }
  virtual EvalSums evaluate(int k, int K) { return {}; }
  // RNG / data-order state for checkpoints (bytes; restored bit-exactly).
  virtual std::string save_state() const = 0;
  virtual void restore_state(const std::string& bytes) = 0;
};

// Number of parameters `cfg` describes (the server sizes its buffers by it).
size_t problem_dim(const Config& cfg);
// This worker's problem; worker_index in [0, workers).
std::unique_ptr<Problem> make_problem(const Config& cfg, int worker_index, int workers);

}  // namespace signvote::worker
