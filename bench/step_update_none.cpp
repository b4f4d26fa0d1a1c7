// make_cuda_update in a build without CUDA (step_update.h).
#include "step_update.h"

#include <stdexcept>

namespace signvote::bench {

std::unique_ptr<StepUpdate> make_cuda_update(nn::Model&, float, float) {
  throw std::invalid_argument("--device cuda: this signvote-bench was built without CUDA");
}

}  // namespace signvote::bench
