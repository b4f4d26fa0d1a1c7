// What a worker optimises: parameters, their stochastic gradient, a loss.
// The quadratic toy lives here; networks plug in the same way.
#pragma once

#include "signvote/config.h"

#include <cstdint>
#include <memory>
#include <span>

namespace signvote::worker {

struct StepResult {
  float loss = 0;          // objective value (toy) or mean batch loss (networks)
  uint32_t correct = 0;    // correctly classified samples (networks)
  uint32_t samples = 0;
};

class Problem {
 public:
  virtual ~Problem() = default;
  // Flat parameters x (d,) and gradient g (d,), same offsets. Identical
  // initial x on every worker.
  virtual std::span<float> params() = 0;
  virtual std::span<float> grads() = 0;
  // g = this worker's stochastic gradient at the current x for `step`.
  virtual StepResult compute(uint64_t step) = 0;
};

// Number of parameters `cfg` describes (the server sizes its buffers by it).
size_t problem_dim(const Config& cfg);
// This worker's problem; worker_index in [0, workers).
std::unique_ptr<Problem> make_problem(const Config& cfg, int worker_index, int workers);

}  // namespace signvote::worker
