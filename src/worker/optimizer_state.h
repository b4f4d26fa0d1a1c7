// The optimizer state a worker carries from round to round besides the
// model: one object the round updates (through its StepEngine or the
// DenseOptimizer) and checkpoints read and write (checkpointing.h).
//
//   m (d,)  the vote: Signum / Lion momentum; dense rounds and the all-reduce
//           baseline: SGD's heavy-ball buffer or Adam's first moment
//   v (d,)  Adam's second moment (dense rounds with optimizer.name: adam;
//           else empty)
//   e (d,)  the error-feedback residual (aggregation.method: ef_sign; else
//           empty): a view of the encoder's own buffer, which updates it
//
// m and v are host buffers, zero at the start of a run. A cuda engine keeps
// its working copy of them on the device and attaches it (DeviceCopy):
// to_host() / to_device() are then the one place the copies cross. Host
// engines attach nothing and both calls do nothing.
#pragma once

#include "signvote/aligned_buffer.h"

#include <cstddef>
#include <span>
#include <vector>

namespace signvote::worker {

class OptimizerState;

// A device copy of m and v (the cuda engine's; step_engine_cuda.cpp).
class DeviceCopy {
 public:
  virtual ~DeviceCopy() = default;
  virtual void download(std::span<float> m, std::span<float> v) = 0;  // device -> host; waits
  virtual void upload(std::span<const float> m, std::span<const float> v) = 0;  // host -> device; waits
};

// One checkpoint array per buffer: "<name>.<worker>" (docs/checkpoint.md).
struct StateArray {
  const char* name;        // momentum | adam_v | ef_residual
  std::span<float> values;
  bool always;             // written (and required) even when empty: momentum
};

class OptimizerState {
 public:
  // d: the parameter count. vote: m alone. Otherwise m, v when `adam`, and
  // `residual` (the encoder's, possibly empty) as e.
  OptimizerState(size_t d, bool vote, bool adam, std::span<float> residual);
  OptimizerState(const OptimizerState&) = delete;
  OptimizerState& operator=(const OptimizerState&) = delete;

  std::span<float> m() { return m_.span(); }
  std::span<float> v() { return v_.span(); }
  std::span<float> e() { return e_; }
  // Floats per worker in a checkpoint (free-space check).
  size_t floats() const { return m_.size() + v_.size() + e_.size(); }

  // The buffers in checkpoint order (m, v, e), each with its array name.
  std::vector<StateArray> arrays() { return {{"momentum", m(), true}, {"adam_v", v(), false}, {"ef_residual", e(), false}}; }

  // A cuda engine's device copy (nullptr: none). The state does not own it.
  void attach(DeviceCopy* device) { device_ = device; }
  // The one sync point: the device copy -> m, v (before reading them) and
  // m, v -> the device copy (after writing them). e lives on the host.
  void to_host();
  void to_device();

 private:
  AlignedBuffer<float> m_, v_;
  std::span<float> e_;
  DeviceCopy* device_ = nullptr;
};

}  // namespace signvote::worker
