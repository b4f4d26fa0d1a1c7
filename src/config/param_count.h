// The parameter count d of a model spec, computed from the architecture
// alone: servers size their vote rows by d and have no need for (nor the
// memory of) the network itself. Must equal nn::make_model(spec)->num_params()
// for every model name (tests/core/test_param_count.cpp checks it).
#pragma once

#include "signvote/model.h"

#include <cstdint>

namespace signvote {

// Parameters of `spec` (weights, biases, BatchNorm scale and shift; not the
// BatchNorm running statistics, which are buffers). Throws
// std::invalid_argument for an unknown model name or a size below 1.
uint64_t count_params(const nn::ModelSpec& spec);

// ResNet-18 (CIFAR variant) parameters for base width w: 11,173,962 at
// w = 64 with 10 classes.
uint64_t resnet18_params(uint64_t width, uint64_t classes = 10);

}  // namespace signvote
