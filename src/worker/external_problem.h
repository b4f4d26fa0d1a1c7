// A problem whose parameters and gradients live in the caller's memory: the
// PyTorch binding's flat buffers (one float32 tensor of all parameters and
// one of all gradients). The caller computes g (its own backward pass)
// before each round; compute() only returns the loss it was given.
#pragma once

#include "signvote/external.h"
#include "worker/problem.h"

#include <memory>
#include <string>

namespace signvote::worker {

// The CUDA device ordinal of mem's buffers: mem.device, or the current
// device when that is -1; -1 for host memory. Throws std::invalid_argument
// when params or grads are not device memory of that device, and for cuda
// memory in a build without the cuda workers.
int resolve_device(const ExternalMemory& mem);

// Throws std::invalid_argument for a null pointer or d = 0, and for cuda
// memory in a build without the cuda workers. mem.device: resolved first.
std::unique_ptr<Problem> make_external_problem(const ExternalMemory& mem);

// Sets the loss and counts the next compute() returns (the server logs
// them); a non-empty `error` makes it throw that instead (the round then
// reports worker_failed, and every rank stops).
void set_external_result(Problem& p, float loss, uint32_t correct, uint32_t samples, const std::string& error = {});

// While alive, CUDA device `device` is current on this thread; the caller's
// previous device is restored after. A PyTorch model on cuda:1 while the
// script's current device is 0 then gets its kernels and buffers on cuda:1.
// device < 0 (host memory) or a build without the cuda workers: nothing.
class DeviceScope {
 public:
  explicit DeviceScope(int device);
  ~DeviceScope();
  DeviceScope(const DeviceScope&) = delete;
  DeviceScope& operator=(const DeviceScope&) = delete;

 private:
  int previous_ = -1;  // -1: nothing to restore
};

}  // namespace signvote::worker
