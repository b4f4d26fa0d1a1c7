// GraphModel: the Model implementation. A model is a topologically ordered
// list of nodes over numbered activations (0 = the input images). A node is
// either a unary Layer or a residual Add of two activations. Builders
// (builders.cpp) add nodes, then finalize() lays every layer's parameters
// out in one flat params/grads buffer (PyTorch named_parameters() order) and
// BN running stats in one flat buffers buffer, and initialises them.
//
// Activation and gradient storage is allocated for a batch capacity and
// reused; smaller batches run on views of the same storage.
#pragma once

#include "common.h"
#include "graph_ops.h"
#include "signvote/layer.h"
#include "signvote/model.h"

#include <memory>
#include <string>
#include <vector>

namespace signvote::nn {

class GraphModel final : public Model {
 public:
  // Validates the spec's numbers, sets up the thread count and the oneDNN
  // (dnnl backends) or CUDA (device "cuda") context. `backend` is the chosen
  // conv backend.
  GraphModel(const ModelSpec& spec, std::string backend);
  ~GraphModel() override;

  // ---- building ----
  NnContext& context() { return ctx_; }
  Shape act_shape(int act) const { return acts_[act].shape; }  // n == 1
  int add_layer(const std::string& name, std::unique_ptr<Layer> layer, int in);
  // y = a + b, or max(a + b, 0) with relu (BasicBlock's add + ReLU fused).
  int add_residual(const std::string& name, int a, int b, bool relu = false);
  void finalize();  // the last activation is the logits

  // ---- Model ----
  const ModelSpec& spec() const override { return spec_; }
  const std::string& conv_backend() const override { return backend_; }
  MemSpace space() const override { return ctx_.space; }
  void* cuda_stream() const override;
  std::span<float> params() override { return flat(params_); }
  std::span<float> grads() override { return flat(grads_); }
  std::span<float> buffers() override { return flat(buffers_); }
  size_t num_params() const override { return flat_size(params_); }
  void zero_grads() override;
  const std::vector<ParamRange>& param_ranges() const override { return param_ranges_; }
  const std::vector<ParamRange>& buffer_ranges() const override { return buffer_ranges_; }
  float forward_backward(const Tensor& images, const int* labels, int batch, StepStats* stats,
                         const std::function<void()>& meanwhile = {}) override;
  EvalResult evaluate(const Tensor& images, const int* labels, int batch) override;
  const Tensor& logits() const override;
  void set_grad_ready_hook(std::function<void(size_t)> hook) override { ready_hook_ = std::move(hook); }
  const LayerTimes& layer_times() const override { return times_; }
  void reset_layer_times() override { times_ = {}; }
  std::string summary() const override;

 private:
  struct Node {
    std::string name;
    std::unique_ptr<Layer> layer;  // null for a residual Add
    int in0 = 0, in1 = -1, out = 0;
    bool relu = false;  // residual Add fused with ReLU
  };
  struct Act {
    Shape shape;  // per sample (n == 1)
    Layout layout = Layout::nchw;
    int consumers = 0;
  };
  static std::span<float> flat(Tensor& t) { return t.empty() ? std::span<float>() : t.span(); }
  static size_t flat_size(const Tensor& t) { return t.empty() ? 0 : t.physical_size(); }
  void allocate_flat(size_t np, size_t nb);
  void activate_device() const;
  // Binds every layer to the flat buffers (PyTorch order); init: and
  // initialises them from spec_.seed.
  void bind_all(float* params, float* grads, float* buffers, bool init);
  void check_input(const Tensor& images, int batch) const;
  class ThreadScope;  // sets this model's thread count, restores it on exit
  void ensure_capacity(int batch);
  void make_views(const Tensor& images, int batch);
  void run_forward(Mode mode);
  void run_backward();
  void backward_node(const Node& node, std::vector<char>& written);
  Tensor& grad_target(int act, std::vector<char>& written, bool* accumulate);
  Tensor view_of(std::vector<Tensor>& store, int act, int batch);

  ModelSpec spec_;
  std::string backend_;
  NnContext ctx_;
  std::vector<Node> nodes_;
  std::vector<Act> acts_;
  // Flat (n, 1, 1, 1) buffers in ctx_.space; empty when n == 0.
  Tensor params_, grads_, buffers_;
  std::vector<ParamRange> param_ranges_, buffer_ranges_;
  std::unique_ptr<GraphOps> ops_;  // adds, loss, staging, timing in ctx_.space
  std::function<void(size_t)> ready_hook_;
  std::vector<size_t> node_first_param_;  // per node: its first parameter's offset (SIZE_MAX: none)
  LayerTimes times_;
  // Storage for `capacity_` samples; views_ / gviews_ / sviews_ for the
  // current batch (views_[0]: the caller's images, or their device copy in
  // store_[0] on cuda).
  int capacity_ = 0;
  std::vector<Tensor> store_, gstore_, sstore_;
  std::vector<Tensor> views_, gviews_, sviews_;
  Tensor none_;  // empty: "no input gradient needed"
};

}  // namespace signvote::nn
