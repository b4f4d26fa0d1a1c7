// Host GraphOps: the CPU twins of graph_ops_cuda.cpp.
#include "graph_ops.h"

#include "add.h"
#include "layer_factory.h"
#include "util/timer.h"

#include <chrono>
#include <stdexcept>

namespace signvote::nn {
namespace {

using util::Clock;

class HostOps final : public GraphOps {
 public:
  MemSpace space() const override { return MemSpace::host; }
  void add(const Tensor& a, const Tensor& b, Tensor& y, bool relu) override {
    if (relu) Add::forward_relu(a, b, y);
    else Add::forward(a, b, y);
  }
  void add_backward(const Tensor* y, const Tensor& dy, Tensor& d, bool accumulate) override {
    if (y) {
      Add::backward_relu(*y, dy, d, accumulate);
    } else if (accumulate) {
      Add::accumulate(dy, d);
    } else {
      Tensor none;
      Add::backward(dy, d, none);
    }
  }
  void loss_forward(const Tensor& logits, const int* labels) override { last_ = loss_.forward(logits, labels); }
  void loss_backward(Tensor& dlogits) override { loss_.backward(dlogits); }
  LossResult loss_result() override { return last_; }
  Tensor stage_input(const Tensor& images, int batch, Tensor&) override {
    Shape s = images.shape();
    s.n = batch;
    return Tensor::view(const_cast<float*>(images.data()), s, Layout::nchw);  // read-only use
  }
  void zero(float* p, size_t n) override { std::fill_n(p, n, 0.f); }
  void begin_timing() override { t0_ = Clock::now(); }
  void end_timing(LayerKind k) override { pending_[k] += util::seconds_since(t0_); }
  void collect_times(LayerTimes& t) override {
    for (size_t i = 0; i < kNumLayerKinds; ++i) t.seconds[i] += pending_.seconds[i];
    pending_ = {};
  }

 private:
  SoftmaxCrossEntropy loss_;
  LossResult last_;
  Clock::time_point t0_;
  LayerTimes pending_;
};

}  // namespace

std::unique_ptr<GraphOps> make_host_ops() { return std::make_unique<HostOps>(); }

#ifndef SIGNVOTE_NN_CUDA
std::unique_ptr<GraphOps> make_cuda_ops(std::shared_ptr<CudaContext>) {
  throw std::logic_error("cuda model: this signvote was built without CUDA");
}
std::unique_ptr<LayerFactory> make_cuda_layers(const NnContext&) {
  throw std::logic_error("cuda layers: this signvote was built without CUDA");
}
#endif

}  // namespace signvote::nn
