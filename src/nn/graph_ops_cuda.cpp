// CUDA GraphOps: residual adds, the loss, image staging and event timing on
// the model's CudaContext (graph_ops.h). The CPU twins are in graph_ops.cpp.
#include "common.h"
#include "cuda_context.h"
#include "graph_ops.h"
#include "nn_kernels_cuda.h"

#include <cstring>
#include <vector>

namespace signvote::nn {
namespace {

namespace kc = kernels::cuda;

class CudaOps final : public GraphOps {
 public:
  explicit CudaOps(std::shared_ptr<CudaContext> ctx) : ctx_(std::move(ctx)) {
    SV_CUDA_CHECK(cudaEventCreateWithFlags(&uploaded_, cudaEventDisableTiming));
    SV_CUDA_CHECK(cudaEventCreateWithFlags(&consumed_, cudaEventDisableTiming));
    SV_CUDA_CHECK(cudaEventCreateWithFlags(&labels_sent_, cudaEventDisableTiming));
  }
  ~CudaOps() override {
    for (auto& e : events_) cudaEventDestroy(e);
    cudaEventDestroy(uploaded_);
    cudaEventDestroy(consumed_);
    cudaEventDestroy(labels_sent_);
  }
  MemSpace space() const override { return MemSpace::cuda; }

  void add(const Tensor& a, const Tensor& b, Tensor& y, bool relu) override {
    cuda::add_forward(a.data(), b.data(), y.data(), y.numel(), relu, ctx_->stream);
  }
  void add_backward(const Tensor* y, const Tensor& dy, Tensor& d, bool accumulate) override {
    cuda::add_backward(y ? y->data() : nullptr, dy.data(), d.data(), dy.numel(), accumulate, ctx_->stream);
  }

  void loss_forward(const Tensor& logits, const int* labels) override;
  LossResult loss_result() override;
  void loss_backward(Tensor& dlogits) override {
    cuda::softmax_xent_backward(prob_.data(), labels_.data(), n_, k_, dlogits.data(), ctx_->stream);
  }

  // Pageable images -> pinned staging -> device on the copy stream; the
  // compute stream waits for the upload's event, not for the whole device.
  // The host images are NCHW; an nhwc model's `store` gets them transposed
  // on the compute stream (upload into raw_, then NCHW -> NHWC).
  Tensor stage_input(const Tensor& images, int batch, Tensor& store) override {
    const size_t count = size_t(batch) * images.c() * images.h() * images.w();
    const bool nhwc = store.layout() == Layout::nhwc;
    SV_CUDA_CHECK(cudaEventSynchronize(uploaded_));  // the previous upload no longer reads `pinned_`
    if (pinned_.size() < count) pinned_ = kc::PinnedBuffer<float>(count);
    if (nhwc && raw_.size() < count) {
      ctx_->synchronize();  // a queued transpose may still read the old raw_
      raw_ = kc::DeviceBuffer<float>(count);
    }
    std::memcpy(pinned_.data(), images.data(), count * sizeof(float));
    // The copy stream overwrites `store` (raw_) only after the compute
    // stream's queued work (the previous pass still reading it) is done.
    SV_CUDA_CHECK(cudaEventRecord(consumed_, ctx_->stream));
    SV_CUDA_CHECK(cudaStreamWaitEvent(ctx_->copy_stream, consumed_, 0));
    float* up = nhwc ? raw_.data() : store.data();
    SV_CUDA_CHECK(
        cudaMemcpyAsync(up, pinned_.data(), count * sizeof(float), cudaMemcpyHostToDevice, ctx_->copy_stream));
    SV_CUDA_CHECK(cudaEventRecord(uploaded_, ctx_->copy_stream));
    SV_CUDA_CHECK(cudaStreamWaitEvent(ctx_->stream, uploaded_, 0));
    // raw_ (N, C, H, W) -> store (N, H, W, C)
    if (nhwc) cuda::nchw_to_nhwc(up, store.data(), batch, images.c(), images.h() * images.w(), ctx_->stream);
    Shape s = images.shape();
    s.n = batch;
    return Tensor::view(store.data(), s, store.layout(), MemSpace::cuda);
  }

  void zero(float* p, size_t n) override {
    if (n) SV_CUDA_CHECK(cudaMemsetAsync(p, 0, n * sizeof(float), ctx_->stream));
  }

  void begin_timing() override { SV_CUDA_CHECK(cudaEventRecord(event(2 * marks_), ctx_->stream)); }
  void end_timing(LayerKind k) override {
    SV_CUDA_CHECK(cudaEventRecord(event(2 * marks_ + 1), ctx_->stream));
    kinds_.resize(marks_ + 1);
    kinds_[marks_++] = k;
  }
  void collect_times(LayerTimes& t) override {
    if (marks_ == 0) return;
    SV_CUDA_CHECK(cudaEventSynchronize(events_[2 * marks_ - 1]));
    for (size_t i = 0; i < marks_; ++i) {
      float ms = 0.f;
      SV_CUDA_CHECK(cudaEventElapsedTime(&ms, events_[2 * i], events_[2 * i + 1]));
      t[kinds_[i]] += 1e-3 * ms;
    }
    marks_ = 0;
  }

 private:
  cudaEvent_t event(size_t i) {
    while (events_.size() <= i) {
      cudaEvent_t e = nullptr;
      SV_CUDA_CHECK(cudaEventCreate(&e));
      events_.push_back(e);
    }
    return events_[i];
  }

  std::shared_ptr<CudaContext> ctx_;
  kc::PinnedBuffer<float> pinned_;
  kc::DeviceBuffer<float> raw_;  // nhwc models: the NCHW upload before its transpose
  cudaEvent_t uploaded_ = nullptr, consumed_ = nullptr, labels_sent_ = nullptr;
  // Loss state of the last forward: n x k probabilities, labels, per-sample results.
  kc::DeviceBuffer<float> prob_;
  kc::DeviceBuffer<int> labels_, correct_, bad_;
  kc::DeviceBuffer<double> loss_;
  kc::PinnedBuffer<int> host_labels_, host_correct_;
  kc::PinnedBuffer<double> host_loss_;
  int n_ = 0, k_ = 0;
  std::vector<cudaEvent_t> events_;
  std::vector<LayerKind> kinds_;
  size_t marks_ = 0;
};

void CudaOps::loss_forward(const Tensor& logits, const int* labels) {
  require(logits.h() == 1 && logits.w() == 1, "SoftmaxCrossEntropy: logits must be (N, K, 1, 1)");
  for (int i = 0; i < logits.n(); ++i)  // same message as the CPU twin, before any state changes
    require(labels[i] >= 0 && labels[i] < logits.c(), "SoftmaxCrossEntropy: label " + std::to_string(labels[i]) +
                                                          " outside [0, " + std::to_string(logits.c()) + ")");
  n_ = logits.n(), k_ = logits.c();
  const size_t n = size_t(n_);
  if (labels_.size() < n) {
    labels_ = kc::DeviceBuffer<int>(n), correct_ = kc::DeviceBuffer<int>(n), loss_ = kc::DeviceBuffer<double>(n);
    host_labels_ = kc::PinnedBuffer<int>(n), host_correct_ = kc::PinnedBuffer<int>(n);
    host_loss_ = kc::PinnedBuffer<double>(n);
  }
  if (bad_.size() == 0) bad_ = kc::DeviceBuffer<int>(1);
  if (prob_.size() < n * size_t(k_)) prob_ = kc::DeviceBuffer<float>(n * size_t(k_));
  // host_labels_ may still feed the previous pass's upload: wait for that
  // copy alone (not for the forward pass queued ahead of this one).
  SV_CUDA_CHECK(cudaEventSynchronize(labels_sent_));
  std::memcpy(host_labels_.data(), labels, n * sizeof(int));
  SV_CUDA_CHECK(cudaMemcpyAsync(labels_.data(), host_labels_.data(), n * sizeof(int), cudaMemcpyHostToDevice, ctx_->stream));
  SV_CUDA_CHECK(cudaEventRecord(labels_sent_, ctx_->stream));
  cuda::softmax_xent_forward(logits.data(), labels_.data(), n_, k_, prob_.data(), loss_.data(), correct_.data(),
                             bad_.data(), ctx_->stream);
  SV_CUDA_CHECK(cudaMemcpyAsync(host_loss_.data(), loss_.data(), n * sizeof(double), cudaMemcpyDeviceToHost, ctx_->stream));
  SV_CUDA_CHECK(cudaMemcpyAsync(host_correct_.data(), correct_.data(), n * sizeof(int), cudaMemcpyDeviceToHost, ctx_->stream));
}

LossResult CudaOps::loss_result() {
  ctx_->synchronize();
  const size_t n = size_t(n_);
  LossResult r;
  for (size_t i = 0; i < n; ++i) r.loss_sum += host_loss_.data()[i], r.correct += host_correct_.data()[i];
  r.loss_mean = n_ > 0 ? r.loss_sum / n_ : 0.0;
  return r;
}

}  // namespace

std::unique_ptr<GraphOps> make_cuda_ops(std::shared_ptr<CudaContext> ctx) { return std::make_unique<CudaOps>(std::move(ctx)); }

}  // namespace signvote::nn
