// A problem whose parameters and gradients live in the caller's memory: the
// PyTorch binding's flat buffers (one float32 tensor of all parameters and
// one of all gradients). The caller computes g (its own backward pass)
// before each round; compute() only returns the loss it was given.
#pragma once

#include "signvote/external.h"
#include "worker/problem.h"

#include <memory>

namespace signvote::worker {

// Throws std::invalid_argument for a null pointer or d = 0, and for cuda
// memory in a build without the cuda workers.
std::unique_ptr<Problem> make_external_problem(const ExternalMemory& mem);

// Sets the loss and counts the next compute() returns (the server logs them).
void set_external_result(Problem& p, float loss, uint32_t correct, uint32_t samples);

}  // namespace signvote::worker
