#include "worker/problem.h"

#include <stdexcept>

namespace signvote::worker {

std::unique_ptr<Problem> make_quadratic(const Config& cfg, int worker_index);
std::unique_ptr<Problem> make_network(const Config& cfg, int worker_index, int workers, int device_index);
std::unique_ptr<Problem> make_problem(const Config& cfg, int worker_index, int workers, int device_index) {
  if (cfg.model.kind == ModelName::quadratic) return make_quadratic(cfg, worker_index);
  if (cfg.model.kind == ModelName::external)
    throw std::invalid_argument("key 'model.name' = external: the workers are PyTorch scripts joined by `signvote serve`, "
                                "not `signvote train` (docs/pytorch.md)");
  return make_network(cfg, worker_index, workers, device_index);
}

}  // namespace signvote::worker
