#include "worker/problem.h"

#include <fmt/format.h>

#include <stdexcept>

namespace signvote::worker {

std::unique_ptr<Problem> make_quadratic(const Config& cfg, int worker_index);

size_t problem_dim(const Config& cfg) {
  if (cfg.model.name == "quadratic") return static_cast<size_t>(cfg.model.dim);
  throw ConfigError(fmt::format("{}: key 'model.name' = {} is not available in this build", cfg.origin, cfg.model.name));
}

std::unique_ptr<Problem> make_problem(const Config& cfg, int worker_index, int workers) {
  (void)workers;
  if (cfg.model.name == "quadratic") return make_quadratic(cfg, worker_index);
  throw ConfigError(fmt::format("{}: key 'model.name' = {} is not available in this build", cfg.origin, cfg.model.name));
}

}  // namespace signvote::worker
