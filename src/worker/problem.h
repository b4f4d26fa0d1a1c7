// What a worker optimises: parameters, their stochastic gradient, a loss.
// The quadratic toy (quadratic.cpp) and the networks (network.cpp) plug in
// the same way.
#pragma once

#include "signvote/config.h"
#include "signvote/device.h"

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

namespace signvote::worker {

struct StepResult {
  float loss = 0;          // objective value (toy) or mean batch loss (networks)
  uint32_t correct = 0;    // correctly classified samples (networks)
  uint32_t samples = 0;
};

// Sums over this worker's part of the validation split.
struct EvalSums {
  double loss_sum = 0;
  double correct = 0;
  double count = 0;
};

// A named slice of params()/grads(): one parameter tensor.
struct ParamSlice {
  std::string name;  // e.g. "layer1.0.conv1.weight"
  size_t offset = 0, length = 0;
};

// Called once per probe batch with g (d,) = that batch's mean gradient.
using ProbeVisit = std::function<void(std::span<const float> g)>;

// The flat buffers of a problem, for the explicit host <-> device copies.
enum class Flat : uint8_t { params, grads, buffers };

class Problem {
 public:
  virtual ~Problem() = default;
  // Flat parameters x (d,) and gradient g (d,), same offsets. Identical
  // initial x on every worker. Host memory: for a cuda problem these are
  // host MIRRORS of the device buffers, current only after pull() and
  // copied back by push().
  virtual std::span<float> params() = 0;
  virtual std::span<float> grads() = 0;
  // Per-worker state that is not voted: BatchNorm running statistics.
  virtual std::span<float> buffers() { return {}; }
  // Where the working buffers live. cuda: device(f) is the device buffer
  // and cuda_stream() the cudaStream_t the model's work is queued on.
  virtual MemSpace space() const { return MemSpace::host; }
  virtual std::span<float> device(Flat) { return {}; }
  virtual void* cuda_stream() { return nullptr; }
  // device -> host mirror, host mirror -> device (no-ops for a host problem).
  virtual void pull(Flat) {}
  virtual void push(Flat) {}
  // Networks: during compute(), hook(first) once grads()[first, d) are final
  // (nn::Model::set_grad_ready_hook); the toy computes g at once and calls
  // nothing. Empty function: none.
  virtual void set_grad_ready_hook(std::function<void(size_t first)> hook) {}
  // g = this worker's stochastic gradient at the current x for `step`.
  virtual StepResult compute(uint64_t step) = 0;
  // True when the step just computed was the last of an epoch.
  virtual bool epoch_ended() const { return false; }
  virtual uint64_t epoch() const { return 0; }
  // Evaluates part k of K of the validation split (networks only).
  virtual bool has_validation() const { return false; }
  virtual EvalSums evaluate(int k, int K) { return {}; }
  // True when the next compute() starts a new epoch, whose index it returns
  // in *epoch (networks; every worker agrees: shards have equal sizes).
  virtual bool at_epoch_start(uint64_t* epoch) const { return false; }
  // Parameter tensors, in params() order (networks; empty for the toy).
  virtual std::vector<ParamSlice> param_slices() const { return {}; }
  // Gradient probe (networks): for each of the first `max_batches` (0 = all)
  // full batches of `batch` images of part k of K of the unaugmented training
  // split, computes the gradient at the current x into grads() and calls
  // visit(grads()). BN statistics are restored afterwards and the data order
  // is untouched, so training continues as without the probe; grads() is
  // left overwritten. Returns the number of batches visited.
  virtual size_t probe(int k, int K, int batch, size_t max_batches, const ProbeVisit& visit) { return 0; }
  // RNG / data-order state for checkpoints (bytes; restored bit-exactly).
  virtual std::string save_state() const = 0;
  virtual void restore_state(const std::string& bytes) = 0;
  // A worker new to the run (a resume with more workers than the checkpoint
  // has): `peer` is another worker's save_state(). Take the shared position
  // from it (the data epoch and offset); keep this worker's own RNG and
  // optimizer state as built (fresh). Default: nothing to take.
  virtual void join_state(const std::string& peer) {}
  // The run's budget fraction in [0, 1] (config::budget_progress: steps or
  // run.time_limit_s, whichever is further) at the round just ended, from
  // server 0's clock, so that schedules run inside compute() (local steps'
  // inner lr) follow a time budget too. Default: not needed.
  virtual void set_budget_progress(double p) {}
};

// This worker's problem; worker_index in [0, workers). A network with
// model.device: cuda is built on CUDA device `device_index`.
std::unique_ptr<Problem> make_problem(const Config& cfg, int worker_index, int workers, int device_index = 0);

}  // namespace signvote::worker
