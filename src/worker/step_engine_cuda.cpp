// The cuda StepEngine (step_engine.h): Signum, the vote's copies and the
// fp32 baseline on the device of the worker's model.
#include "comm/cuda_aware.h"
#include "comm/gpu_plan.h"
#include "comm/collectives.h"
#include "comm/nccl_comm.h"
#include "kernels/dense_kernels_cuda.h"
#include "kernels/device_buffer.h"
#include "kernels/sign_kernels_cuda.h"
#include "signvote/aligned_buffer.h"
#include "signvote/device.h"
#include "worker/placement.h"
#include "worker/step_engine.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <optional>
#include <vector>

namespace signvote::worker {
namespace {

namespace kc = kernels::cuda;
using kernels::packed_words;

// NaN counters: one per range of the server shards or of the all-to-all
// chunks (one per worker), whichever transport the round uses, plus one.
// The pack kernels add to them; read_nans zeroes the slots it read.
size_t slot_count(const ServerExchange& client, const comm::Topology& topo) {
  return std::max<size_t>(client.parts(), static_cast<size_t>(topo.workers())) + 1;
}

class CudaEngine final : public StepEngine, public DeviceCopy {
 public:
  CudaEngine(Problem& p, const comm::Topology& topo, ServerExchange& client, OptimizerState& state, bool vote,
             bool device_dense)
      : p_(p), topo_(topo), state_(state), stream_(static_cast<cudaStream_t>(p.cuda_stream())), d_(p.params().size()),
        bits_(packed_words(d_)), host_bits_(packed_words(d_)), nans_(slot_count(client, topo)),
        host_nans_(slot_count(client, topo)) {
    kc::reset_counters(nans_.data(), nans_.size(), stream_);
    if (vote || device_dense) {  // the vote's momentum; the all-reduce baseline's SGD/Adam state
      dm_ = kc::DeviceBuffer<float>(state.m().size());
      dv_ = kc::DeviceBuffer<float>(state.v().size());
      state.attach(this);
      state.to_device();  // zeros at the start of a run
    }
    if (topo.worker_index() == 0)
      spdlog::info("cuda workers: CUDA-aware MPI {}; votes are staged through page-locked host memory ({} bytes each way)",
                   comm::mpi_cuda_aware() ? "reported" : "not reported", 4 * packed_words(d_));
  }
  ~CudaEngine() override { state_.attach(nullptr); }

  // Signum or Lion on the device for [offset, offset + n) of m and g.
  void pack_rule(const SignRule& rule, size_t offset, size_t n, const float* g, std::uint32_t* words,
                 unsigned long long* nans) {
    if (rule.lion)
      kc::lion_pack(dm_.data() + offset, g + offset, n, rule.beta1, rule.beta2, words, nans, stream_);
    else
      kc::momentum_pack(dm_.data() + offset, g + offset, n, rule.beta1, words, nans, stream_);
  }

  // Range s's words start at word offset/32 of bits_ (shards start on
  // 512-coordinate bounds), so all shards' words are one contiguous array:
  // one copy each way through the page-locked host_bits_, and a host memcpy
  // into / out of the shards' messages.
  size_t momentum_pack(SignSlots& c, const SignRule& rule, bool invert) override {
    float* g = p_.device(Flat::grads).data();
    for (size_t s = 0; s < c.parts(); ++s) {
      const auto& sh = c.part(s);
      std::uint32_t* w = bits_.data() + sh.offset / kernels::kBitsPerWord;
      pack_rule(rule, sh.offset, sh.length, g, w, nans_.data() + s);
      if (invert) kc::invert_signs(w, sh.length, stream_);
    }
    copy_async(host_bits_.data(), bits_.data(), bits_.size(), cudaMemcpyDeviceToHost);
    const size_t nan = read_nans(c.parts());  // waits for the copy too
    for (size_t s = 0; s < c.parts(); ++s) {
      const auto& sh = c.part(s);
      std::copy_n(host_bits_.data() + sh.offset / kernels::kBitsPerWord, packed_words(sh.length), c.out_bits(s));
    }
    return nan;
  }

  // bits_ holds every part's words at their global word offsets, so a range
  // is one launch wherever it starts (kc::apply_range reads bit i of bits_).
  void apply(const SignSlots& c, std::span<const ApplyRange> ranges) override {
    for (size_t s = 0; s < c.parts(); ++s) {
      const auto& sh = c.part(s);
      std::copy_n(c.result_bits(s), packed_words(sh.length), host_bits_.data() + sh.offset / kernels::kBitsPerWord);
    }
    copy_async(bits_.data(), host_bits_.data(), bits_.size(), cudaMemcpyHostToDevice);
    float* x = p_.device(Flat::params).data();
    for (const ApplyRange& r : ranges) kc::apply_range(x, r.offset, r.length, bits_.data(), r.lr, r.wd, stream_);
    // host_bits_ is refilled by the next round's pack: wait for this copy.
    SV_CUDA_CHECK(cudaStreamSynchronize(stream_));
  }

  size_t momentum_pack_part(SignSlots& c, size_t s, const SignRule& rule, bool invert) override {
    const auto& sh = c.part(s);
    const size_t w0 = sh.offset / kernels::kBitsPerWord, words = packed_words(sh.length);
    pack_rule(rule, sh.offset, sh.length, p_.device(Flat::grads).data(), bits_.data() + w0, nans_.data());
    if (invert) kc::invert_signs(bits_.data() + w0, sh.length, stream_);
    copy_async(host_bits_.data() + w0, bits_.data() + w0, words, cudaMemcpyDeviceToHost);
    const size_t nan = read_nans(1);
    std::copy_n(host_bits_.data() + w0, words, c.out_bits(s));
    return nan;
  }

  void apply_part(const SignSlots& c, size_t s, std::span<const ApplyRange> ranges) override {
    const auto& sh = c.part(s);
    const size_t w0 = sh.offset / kernels::kBitsPerWord, words = packed_words(sh.length);
    std::copy_n(c.result_bits(s), words, host_bits_.data() + w0);
    copy_async(bits_.data() + w0, host_bits_.data() + w0, words, cudaMemcpyHostToDevice);
    for (const ApplyRange& r : ranges) {
      const size_t a = std::max(r.offset, sh.offset), b = std::min(r.offset + r.length, sh.offset + sh.length);
      if (a < b) kc::apply_range(p_.device(Flat::params).data(), a, b - a, bits_.data(), r.lr, r.wd, stream_);
    }
    SV_CUDA_CHECK(cudaStreamSynchronize(stream_));
  }

  void save_momentum(std::span<const Extent> extents) override {
    if (saved_.size() != dm_.size()) saved_ = kc::DeviceBuffer<float>(dm_.size());
    for (const Extent& e : extents)
      copy_async(saved_.data() + e.offset, dm_.data() + e.offset, e.length, cudaMemcpyDeviceToDevice);
  }
  void restore_momentum(std::span<const Extent> extents) override {
    for (const Extent& e : extents)
      copy_async(dm_.data() + e.offset, saved_.data() + e.offset, e.length, cudaMemcpyDeviceToDevice);
  }

  size_t count_nan_grads() override {
    kc::pack(p_.device(Flat::grads).data(), d_, bits_.data(), nans_.data(), stream_);
    return read_nans(1);
  }

  // The node's workers sum g with NCCL on the device (their own
  // communicator, bootstrapped over the node's MPI communicator), then
  // scale by 1/count; through the host and MPI when GPUs are shared.
  void node_average(size_t offset, size_t length) override {
    sum_grads(topo_.node_comm(), topo_.local_worker_index(), topo_.local_workers(), node_nccl_,
              1.f / static_cast<float>(topo_.local_workers()), offset, std::min(length, d_ - offset));
  }

  // NCCL needs one GPU per rank ("Duplicate GPU detected" otherwise): when
  // two worker ranks hold one GPU (model.share_gpus), the sum goes through
  // the host and MPI instead.
  void allreduce_grads() override {
    sum_grads(topo_.workers_comm(), topo_.worker_index(), topo_.workers(), nccl_, 1.f, 0, d_);
  }

  void dense_step(const DenseOptimizer& opt, uint64_t step, float grad_scale) override {
    const kernels::DenseStep s = opt.scalars(step, grad_scale);
    float* x = p_.device(Flat::params).data();
    const float* g = p_.device(Flat::grads).data();
    if (opt.adam()) kc::adam_step(x, dm_.data(), dv_.data(), g, d_, s, stream_);
    else kc::sgd_step(x, dm_.data(), g, d_, s, stream_);
    SV_CUDA_CHECK(cudaStreamSynchronize(stream_));
  }

  // DeviceCopy: the state's host m, v <-> dm_, dv_ (OptimizerState::to_host
  // / to_device, the one sync point).
  void download(std::span<float> m, std::span<float> v) override {
    copy_to(m.data(), dm_.data(), dm_.size(), cudaMemcpyDeviceToHost);
    copy_to(v.data(), dv_.data(), dv_.size(), cudaMemcpyDeviceToHost);
  }
  void upload(std::span<const float> m, std::span<const float> v) override {
    copy_to(dm_.data(), m.data(), dm_.size(), cudaMemcpyHostToDevice);
    copy_to(dv_.data(), v.data(), dv_.size(), cudaMemcpyHostToDevice);
  }

 private:
  template <class T>
  void copy_async(T* dst, const T* src, size_t count, cudaMemcpyKind kind) {
    if (count) SV_CUDA_CHECK(cudaMemcpyAsync(dst, src, count * sizeof(T), kind, stream_));
  }
  template <class T>
  void copy_to(T* dst, const T* src, size_t count, cudaMemcpyKind kind) {
    copy_async(dst, src, count, kind);
    SV_CUDA_CHECK(cudaStreamSynchronize(stream_));
  }
  // Waits for the queued work; the NaN counters of the first n launches,
  // which are then zeroed (one memset, queued before the next round's packs).
  size_t read_nans(size_t n) {
    copy_async(host_nans_.data(), nans_.data(), n, cudaMemcpyDeviceToHost);
    SV_CUDA_CHECK(cudaStreamSynchronize(stream_));
    kc::reset_counters(nans_.data(), n, stream_);
    size_t total = 0;
    for (size_t i = 0; i < n; ++i) total += host_nans_.data()[i];
    return total;
  }
  // g[offset, offset + n) = scale * (its sum over the ranks of `mpi`, this
  // one `rank` of `size`): NCCL on the device (its communicator made at the
  // first call), or MPI through the host mirror when GPUs are shared. NCCL
  // failures and timeouts abort the communicator and throw (comm/nccl_comm.h).
  void sum_grads(MPI_Comm mpi, int rank, int size, std::optional<comm::NcclComm>& nccl, float scale, size_t offset,
                 size_t n) {
    if (!path_chosen_) choose_allreduce();
    if (shared_gpus_) {
      p_.pull(Flat::grads);
      const auto h = p_.grads().subspan(offset, n);
      comm::allreduce(h, comm::Op::sum, mpi);
      if (scale != 1.f) for (float& v : h) v *= scale;
      p_.push(Flat::grads);
      return;
    }
    if (!nccl) nccl.emplace(mpi, rank, size);
    float* g = p_.device(Flat::grads).data() + offset;
    nccl->all_reduce_sum(g, n, stream_);
    if (scale != 1.f) kc::scale(g, n, scale, stream_);
    nccl->synchronize(stream_);  // the stream's work, polled with NCCL's error state and a deadline
  }

  // Collective, at the first all-reduce (never while workers are still being
  // built: a worker that failed there would leave the others waiting). The
  // GPUs' identities, not their counts, decide (comm/gpu_plan.h): two worker
  // ranks anywhere on one GPU send every worker through MPI. The identities
  // are gathered again here, not taken from placement: PyTorch workers
  // (external problems) choose their own device.
  void choose_allreduce() {
    std::string id, error;
    try {  // a rank that fails here still takes part in the gather (empty id), so none waits in it
      int device = 0;
      SV_CUDA_CHECK(cudaGetDevice(&device));
      id = gpu_identity(device);
    } catch (const std::exception& e) {
      error = e.what();
    }
    const auto ids = comm::allgather_strings(topo_.workers_comm(), id);
    for (size_t k = 0; k < ids.size(); ++k)  // every worker sees the same ids: all throw alike
      if (ids[k].empty())
        throw std::runtime_error(fmt::format("cuda workers: rank {} could not name its GPU{}",
                                             topo_.worker_rank(static_cast<int>(k)), error.empty() ? "" : ": " + error));
    const comm::GpuPlan plan = comm::plan_gpus(ids, true, topo_.worker_rank(0));
    shared_gpus_ = plan.shared;
    path_chosen_ = true;
    if (topo_.worker_index() != 0) return;
    if (shared_gpus_)
      spdlog::info("cuda workers: fp32 sums (all-reduce baseline, node average) through MPI: {} worker ranks on {} GPU(s), "
                   "NCCL needs one GPU per rank; shared: {}", plan.ranks, plan.distinct, plan.sharing);
    else
      spdlog::info("cuda workers: fp32 sums (all-reduce baseline, node average) through NCCL ({} worker ranks, one GPU each)",
                   plan.ranks);
  }

  Problem& p_;
  const comm::Topology& topo_;
  OptimizerState& state_;  // its m, v: host copies of dm_, dv_
  cudaStream_t stream_;
  size_t d_;
  kc::DeviceBuffer<std::uint32_t> bits_;  // packed words of all shards (d/32)
  kc::PinnedBuffer<std::uint32_t> host_bits_;
  kc::DeviceBuffer<unsigned long long> nans_;
  kc::PinnedBuffer<unsigned long long> host_nans_;
  kc::DeviceBuffer<float> saved_;  // save_momentum's copy of dm_, allocated at the first use
  kc::DeviceBuffer<float> dm_, dv_;  // the state's m (vote: Signum / Lion; all-reduce: SGD/Adam), v (Adam); else empty
  std::optional<comm::NcclComm> nccl_, node_nccl_;  // the workers'; the node's (hierarchy)
  bool shared_gpus_ = false, path_chosen_ = false;
};

}  // namespace

std::unique_ptr<StepEngine> make_cuda_engine(Problem& p, const comm::Topology& topo, ServerExchange& client,
                                             OptimizerState& state, bool vote, bool device_dense) {
  return std::make_unique<CudaEngine>(p, topo, client, state, vote, device_dense);
}

}  // namespace signvote::worker
