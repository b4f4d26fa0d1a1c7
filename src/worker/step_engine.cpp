// The host StepEngine (step_engine.h): CPU sign kernels, sums over MPI.
#include "worker/step_engine.h"

#include "comm/collectives.h"
#include "signvote/sign_kernels.h"
#include "signvote/aligned_buffer.h"
#include "util/parallel.h"

#include <mpi.h>

#include <algorithm>
#include <atomic>
#include <cmath>

namespace signvote::worker {
namespace {

class HostEngine final : public StepEngine {
 public:
  HostEngine(Problem& p, const comm::Topology& topo, const kernels::SignOps& ops, OptimizerState& state, int threads)
      : p_(p), topo_(topo), ops_(ops), state_(state), threads_(threads) {}

  size_t momentum_pack(SignSlots& c, const SignRule& rule, bool invert) override {
    size_t nan = 0;
    for (size_t s = 0; s < c.parts(); ++s) nan += momentum_pack_part(c, s, rule, invert);
    return nan;
  }

  void apply(const SignSlots& c, std::span<const ApplyRange> ranges) override {
    for (size_t s = 0; s < c.parts(); ++s) apply_part(c, s, ranges);
  }

  // Part s over run.threads slices of 512 coordinates (16 whole words each:
  // no two threads write one word; elementwise, so any slicing gives the
  // same bits and NaN count).
  size_t momentum_pack_part(SignSlots& c, size_t s, const SignRule& rule, bool invert) override {
    const auto& sh = c.part(s);
    float* m = state_.m().data() + sh.offset;
    const float* g = p_.grads().data() + sh.offset;
    uint32_t* bits = c.out_bits(s);
    std::atomic<size_t> total{0};
    util::parallel_slices(sh.length, threads_for(sh.length), kSlice, [&](size_t b, size_t e) {
      uint32_t* w = bits + b / 32;
      const size_t n = rule.lion ? ops_.lion_pack(m + b, g + b, e - b, rule.beta1, rule.beta2, w)
                                 : ops_.momentum_pack(m + b, g + b, e - b, rule.beta1, w);
      if (invert) kernels::invert_signs(w, e - b);
      total += n;
    });
    return total;
  }

  // Each range's overlap with part s. Parts start on 512-coordinate bounds,
  // so coordinate i's bit is bit i%32 of the part's word (i - offset)/32; a
  // range starting inside a word applies its first bits from a shifted copy.
  void apply_part(const SignSlots& c, size_t s, std::span<const ApplyRange> ranges) override {
    const auto& sh = c.part(s);
    const uint32_t* bits = c.result_bits(s);
    float* x = p_.params().data();
    for (const ApplyRange& r : ranges) {
      size_t i = std::max(r.offset, sh.offset);
      const size_t end = std::min(r.offset + r.length, sh.offset + sh.length);
      if (i >= end) continue;
      if (i % 32) {
        const size_t head = std::min(end, (i / 32 + 1) * 32);
        const uint32_t w = bits[(i - sh.offset) / 32] >> (i % 32);
        ops_.apply(x + i, head - i, &w, r.lr, r.wd);
        i = head;
      }
      const uint32_t* from = bits + (i - sh.offset) / 32;
      util::parallel_slices(end - i, threads_for(end - i), kSlice,
                            [&](size_t b, size_t e) { ops_.apply(x + i + b, e - b, from + b / 32, r.lr, r.wd); });
    }
  }

  void save_momentum(std::span<const Extent> extents) override {
    const auto m = state_.m();
    if (saved_.size() != m.size()) saved_ = AlignedBuffer<float>(m.size());
    for (const Extent& e : extents) std::copy_n(m.data() + e.offset, e.length, saved_.data() + e.offset);
  }
  void restore_momentum(std::span<const Extent> extents) override {
    const auto m = state_.m();
    for (const Extent& e : extents) std::copy_n(saved_.data() + e.offset, e.length, m.data() + e.offset);
  }

  size_t count_nan_grads() override {
    size_t nan = 0;
    for (float v : p_.grads()) nan += kernels::non_finite(v);
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
  int threads_;             // run.threads: the kernels' slices
  AlignedBuffer<float> saved_;  // save_momentum's copy (d,), allocated at the first use
  static constexpr size_t kSlice = 512;  // coordinates: 16 packed words, 64 bytes
  // Small parts (buckets) run on this thread: starting a thread (~20 us)
  // costs more than 64K coordinates of kernel work.
  static constexpr size_t kMinParallel = size_t{1} << 16;
  int threads_for(size_t n) const { return n >= kMinParallel ? threads_ : 1; }
};

}  // namespace

std::unique_ptr<StepEngine> make_host_engine(Problem& p, const comm::Topology& topo, const kernels::SignOps& ops,
                                             OptimizerState& state, int threads) {
  return std::make_unique<HostEngine>(p, topo, ops, state, threads);
}

#ifndef SIGNVOTE_CUDA_WORKERS
std::unique_ptr<StepEngine> make_cuda_engine(Problem&, const comm::Topology&, ServerExchange&, OptimizerState&, bool, bool) {
  throw std::invalid_argument("model.device: cuda, but this signvote was built without the cuda workers (CUDA, cuDNN, NCCL)");
}
#endif

}  // namespace signvote::worker
