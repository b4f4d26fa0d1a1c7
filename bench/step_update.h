// The Signum update of `signvote-bench step` on a cuda model: the worker's
// device kernels (fused momentum+pack into packed words, then apply of those
// words), as one round of a single worker whose vote is its own sign.
#pragma once

#include "signvote/model.h"

#include <memory>

namespace signvote::bench {

class StepUpdate {
 public:
  virtual ~StepUpdate() = default;
  // m = 0.9 m + 0.1 g; bits = sign(m); x -= lr (s + wd x); waits for the device.
  virtual void run() = 0;
};

// Throws std::invalid_argument in a build without CUDA.
std::unique_ptr<StepUpdate> make_cuda_update(nn::Model& model, float lr, float wd);

}  // namespace signvote::bench
