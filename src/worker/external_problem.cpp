#include "worker/external_problem.h"

#include "signvote/aligned_buffer.h"

#include <stdexcept>

namespace signvote::worker {
namespace {

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
    if (!host() && f != Flat::buffers) copy_floats(mirror(f), MemSpace::host, device(f).data(), MemSpace::cuda, m_.dim);
  }
  void push(Flat f) override {
    if (!host() && f != Flat::buffers) copy_floats(device(f).data(), MemSpace::cuda, mirror(f), MemSpace::host, m_.dim);
  }
  StepResult compute(uint64_t) override { return result_; }
  // The caller keeps its own data order and RNG state.
  std::string save_state() const override { return {}; }
  void restore_state(const std::string&) override {}

  StepResult result_;

 private:
  bool host() const { return m_.space == MemSpace::host; }
  float* mirror(Flat f) { return f == Flat::params ? x_host_.data() : g_host_.data(); }
  ExternalMemory m_;
  AlignedBuffer<float> x_host_, g_host_;
};

}  // namespace

std::unique_ptr<Problem> make_external_problem(const ExternalMemory& mem) {
  if (mem.params == nullptr || mem.grads == nullptr || mem.dim == 0)
    throw std::invalid_argument("external worker: parameters and gradients must be non-empty buffers");
  if (mem.space == MemSpace::cuda && !cuda_built())
    throw std::invalid_argument("external worker: cuda tensors, but this signvote was built without the cuda workers");
  return std::make_unique<ExternalProblem>(mem);
}

void set_external_result(Problem& p, float loss, uint32_t correct, uint32_t samples) {
  auto& e = dynamic_cast<ExternalProblem&>(p);
  e.result_ = StepResult{loss, correct, samples};
}

}  // namespace signvote::worker
