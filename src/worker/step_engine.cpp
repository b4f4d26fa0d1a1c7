// The host StepEngine (step_engine.h): CPU sign kernels, sums over MPI.
#include "worker/step_engine.h"

#include "comm/collectives.h"
#include "signvote/sign_kernels.h"

#include <mpi.h>

#include <algorithm>
#include <cmath>

namespace signvote::worker {
namespace {

class HostEngine final : public StepEngine {
 public:
  HostEngine(Problem& p, const comm::Topology& topo, const kernels::SignOps& ops, OptimizerState& state)
      : p_(p), topo_(topo), ops_(ops), state_(state) {}

  size_t momentum_pack(SignSlots& c, const SignRule& rule, bool invert) override {
    size_t nan = 0;
    for (size_t s = 0; s < c.parts(); ++s) nan += momentum_pack_part(c, s, rule, invert);
    return nan;
  }

  void apply(const SignSlots& c, float lr, float wd) override {
    for (size_t s = 0; s < c.parts(); ++s) apply_part(c, s, lr, wd);
  }

  size_t momentum_pack_part(SignSlots& c, size_t s, const SignRule& rule, bool invert) override {
    const auto& sh = c.part(s);
    float* m = state_.m().data() + sh.offset;
    const float* g = p_.grads().data() + sh.offset;
    const size_t nan = rule.lion ? ops_.lion_pack(m, g, sh.length, rule.beta1, rule.beta2, c.out_bits(s))
                                 : ops_.momentum_pack(m, g, sh.length, rule.beta1, c.out_bits(s));
    if (invert) kernels::invert_signs(c.out_bits(s), sh.length);
    return nan;
  }

  void apply_part(const SignSlots& c, size_t s, float lr, float wd) override {
    const auto& sh = c.part(s);
    ops_.apply(p_.params().data() + sh.offset, sh.length, c.result_bits(s), lr, wd);
  }

  size_t count_nan_grads() override {
    size_t nan = 0;
    for (float v : p_.grads()) nan += std::isnan(v);
    return nan;
  }

  void node_average(size_t offset, size_t length) override {
    const auto g = p_.grads();
    sum(g.subspan(offset, std::min(length, g.size() - offset)), topo_.node_comm(),
        1.f / static_cast<float>(topo_.local_workers()));
  }
  void allreduce_grads() override { sum(p_.grads(), topo_.workers_comm(), 1.f); }
  void dense_step(const DenseOptimizer& opt, uint64_t step, float grad_scale) override {
    opt.step(p_.params(), p_.grads(), state_, step, grad_scale);
  }

  // g = scale * (sum of g over the ranks of `comm`).
  static void sum(std::span<float> g, MPI_Comm comm, float scale) {
    comm::allreduce(g, comm::Op::sum, comm);
    if (scale != 1.f) for (float& v : g) v *= scale;
  }

 private:
  Problem& p_;
  const comm::Topology& topo_;
  const kernels::SignOps& ops_;
  OptimizerState& state_;  // m: the momentum the sign rule updates
};

}  // namespace

std::unique_ptr<StepEngine> make_host_engine(Problem& p, const comm::Topology& topo, const kernels::SignOps& ops,
                                             OptimizerState& state) {
  return std::make_unique<HostEngine>(p, topo, ops, state);
}

#ifndef SIGNVOTE_CUDA_WORKERS
std::unique_ptr<StepEngine> make_cuda_engine(Problem&, const comm::Topology&, ServerExchange&, OptimizerState&, bool, bool) {
  throw std::invalid_argument("model.device: cuda, but this signvote was built without the cuda workers (CUDA, cuDNN, NCCL)");
}
#endif

}  // namespace signvote::worker
