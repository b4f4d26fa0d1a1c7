#include "worker/external_problem.h"

#include "signvote/aligned_buffer.h"

#include <spdlog/spdlog.h>

#include <stdexcept>
#include <string>

#ifdef SIGNVOTE_CUDA_WORKERS
#include <cuda_runtime_api.h>

#include "kernels/cuda_check.h"
#endif

namespace signvote::worker {
namespace {

#ifndef SIGNVOTE_CUDA_WORKERS
[[noreturn]] void no_cuda_workers() {
  throw std::invalid_argument("external worker: cuda tensors, but this signvote was built without the cuda workers");
}
#endif

#ifdef SIGNVOTE_CUDA_WORKERS
// Device memory (or managed memory) of device `device`, else why not.
std::string check_on_device(const float* p, int device, const char* what) {
  cudaPointerAttributes a{};
  SV_CUDA_CHECK(cudaPointerGetAttributes(&a, p));
  const bool dev = a.type == cudaMemoryTypeDevice || a.type == cudaMemoryTypeManaged;
  if (dev && a.device == device) return {};
  return std::string("external worker: the ") + what + " are not memory of cuda:" + std::to_string(device) +
         (dev ? " (they are on cuda:" + std::to_string(a.device) + ")" : " (host memory)");
}
#endif

class ExternalProblem final : public Problem {
 public:
  explicit ExternalProblem(const ExternalMemory& m)
      : m_(m), x_host_(m.space == MemSpace::cuda ? m.dim : 0), g_host_(x_host_.size()) {}

  // Host memory: the caller's buffers. cuda: host mirrors (hash steps,
  // gradient-side adversaries), current after pull().
  std::span<float> params() override { return host() ? std::span<float>(m_.params, m_.dim) : x_host_.span(); }
  std::span<float> grads() override { return host() ? std::span<float>(m_.grads, m_.dim) : g_host_.span(); }
  MemSpace space() const override { return m_.space; }
  std::span<float> device(Flat f) override {
    if (host()) return {};
    return {f == Flat::params ? m_.params : f == Flat::grads ? m_.grads : nullptr, f == Flat::buffers ? 0 : m_.dim};
  }
  void* cuda_stream() override { return m_.stream; }
  void pull(Flat f) override {
    // on the worker's stream: after the round's kernels and what torch.py made it wait for
    if (!host() && f != Flat::buffers)
      copy_floats(mirror(f), MemSpace::host, device(f).data(), MemSpace::cuda, m_.dim, m_.stream);
  }
  void push(Flat f) override {
    if (!host() && f != Flat::buffers)
      copy_floats(device(f).data(), MemSpace::cuda, mirror(f), MemSpace::host, m_.dim, m_.stream);
  }
  StepResult compute(uint64_t) override {
    if (!error_.empty()) throw std::invalid_argument(error_);
    return result_;
  }
  // The caller keeps its own data order and RNG state.
  std::string save_state() const override { return {}; }
  void restore_state(const std::string&) override {}

  StepResult result_;
  std::string error_;

 private:
  bool host() const { return m_.space == MemSpace::host; }
  float* mirror(Flat f) { return f == Flat::params ? x_host_.data() : g_host_.data(); }
  ExternalMemory m_;
  AlignedBuffer<float> x_host_, g_host_;
};

}  // namespace

int resolve_device(const ExternalMemory& mem) {
  if (mem.space == MemSpace::host) return -1;
#ifdef SIGNVOTE_CUDA_WORKERS
  int device = mem.device;
  if (device < 0) SV_CUDA_CHECK(cudaGetDevice(&device));
  for (const auto& [p, what] : {std::pair{mem.params, "parameters"}, std::pair{mem.grads, "gradients"}}) {
    if (p == nullptr) continue;  // make_external_problem names it
    if (auto why = check_on_device(p, device, what); !why.empty()) throw std::invalid_argument(why);
  }
  return device;
#else
  no_cuda_workers();
#endif
}

std::unique_ptr<Problem> make_external_problem(const ExternalMemory& mem) {
  if (mem.params == nullptr || mem.grads == nullptr || mem.dim == 0)
    throw std::invalid_argument("external worker: parameters and gradients must be non-empty buffers");
#ifndef SIGNVOTE_CUDA_WORKERS
  if (mem.space == MemSpace::cuda) no_cuda_workers();
#endif
  return std::make_unique<ExternalProblem>(mem);
}

void set_external_result(Problem& p, float loss, uint32_t correct, uint32_t samples, const std::string& error) {
  auto& e = dynamic_cast<ExternalProblem&>(p);
  e.result_ = StepResult{loss, correct, samples};
  e.error_ = error;
}

#ifdef SIGNVOTE_CUDA_WORKERS
DeviceScope::DeviceScope(int device) {
  if (device < 0) return;
  int current = 0;
  SV_CUDA_CHECK(cudaGetDevice(&current));
  if (current == device) return;
  SV_CUDA_CHECK(cudaSetDevice(device));
  previous_ = current;
}

DeviceScope::~DeviceScope() {
  if (previous_ < 0) return;
  try {  // no throw from a destructor: the caller's device stays wrong, said once
    SV_CUDA_CHECK(cudaSetDevice(previous_));
  } catch (const std::exception& e) {
    spdlog::error("external worker: could not restore cuda:{} as the current device: {}", previous_, e.what());
  }
}
#else
DeviceScope::DeviceScope(int) {}
DeviceScope::~DeviceScope() = default;
#endif

}  // namespace signvote::worker
