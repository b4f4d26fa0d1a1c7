// What a configuration implies, shared by the server and the worker (so the
// server never includes worker headers): the model a worker builds, the
// parameter count d both sides size their buffers by, and the learning rate
// at each step (the worker applies it, the server logs it).
#pragma once

#include "signvote/config.h"
#include "signvote/model.h"

#include <cstddef>
#include <cstdint>

namespace signvote {

// The network `cfg` names (model.name other than quadratic): same seed on
// every worker, so the initial weights are identical.
nn::ModelSpec model_spec(const Config& cfg);
// Parameters d: model.dim for the quadratic, else the network's count.
size_t model_dim(const Config& cfg);
// optimizer.lr under optimizer.schedule at a 1-based step.
double lr_at(const OptimizerConfig& o, uint64_t step);

}  // namespace signvote
