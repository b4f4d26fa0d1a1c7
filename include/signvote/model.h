// signvote::nn models: a network with all parameters in ONE flat buffer.
//
//   auto m = signvote::nn::make_model({.name = signvote::ModelName::resnet18, .width = 64, .seed = 1});
//   m->zero_grads();
//   float loss = m->forward_backward(images, labels, batch, &stats);
//   // m->params() / m->grads(): same length, same offsets -> pack, vote, apply.
//
// params()/grads()/buffers() live in space(): host memory for a cpu model,
// device memory for a cuda one (copy with signvote::copy_floats). The
// images, labels and results of forward_backward()/evaluate() are always
// host memory; logits() is in space().
//
// params()/grads() are views of the flat buffers every layer's weight/bias
// tensors live in (no gathering copy). buffers() holds BatchNorm running
// mean/var (not voted; all-reduce/checkpoint them). Parameter order is
// PyTorch's named_parameters() order for the same architecture.
#pragma once

#include "signvote/config_enums.h"
#include "signvote/layer.h"
#include "signvote/tensor.h"

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

namespace signvote::nn {

struct ModelSpec {
  // resnet18 | small_cnn | mlp (quadratic and external are not networks: refused)
  ModelName name = ModelName::resnet18;
  int width = 64;                 // resnet18 base channels (stages width*{1,2,4,8})
  int num_classes = 10;
  int in_channels = 3;
  int image_size = 32;            // square H = W
  uint64_t seed = 0;              // initialisation seed
  int threads = 1;                // Eigen + OpenMP (oneDNN) threads for this model
  // Convolution backends in order of preference; the first one compiled in
  // is used for every conv (and decides BN: oneDNN with either dnnl backend).
  // Known: "dnnl_wino" (oneDNN Winograd for 3x3 stride-1 convs, direct for
  // the rest), "dnnl" (oneDNN direct, PyTorch's algorithm) -- both only when
  // built with oneDNN -- and "eigen" (im2col + Eigen GEMM, always built).
  std::vector<std::string> conv_backends = {"dnnl_wino", "dnnl", "eigen"};
  // Where the model runs: cpu (the layers above) or cuda (cuDNN and
  // cuBLAS layers on device `device_index`, conv backend "cudnn"; the
  // conv_backends list is then not consulted).
  ModelDevice device = ModelDevice::cpu;
  int device_index = 0;           // among the visible devices (CUDA_VISIBLE_DEVICES)
  ConvMath math = ConvMath::fp32;  // cuda: fp32 | tf32 (convolutions; GEMMs stay FP32)
  int workspace_mb = 1024;        // cuda: workspace limit of one convolution algorithm
  // cuda: memory layout of the activations, nchw or nhwc (channels last,
  // as PyTorch's channels_last). Parameters stay in the canonical OIHW /
  // PyTorch order in both, so checkpoints are interchangeable; nhwc on
  // device cpu is refused.
  ModelLayout layout = ModelLayout::nchw;
};

// A named slice of params()/grads() (or of buffers()).
struct ParamRange {
  std::string name;  // e.g. "layer1.0.conv1.weight" (PyTorch naming)
  size_t offset = 0;
  size_t count = 0;
  LayerKind kind = LayerKind::conv;
};

struct StepStats {
  float loss = 0.f;  // mean cross-entropy over the batch
  int correct = 0;   // argmax(logits) == label
  int batch = 0;
};

struct EvalResult {
  double loss_sum = 0.0;  // sum of per-sample cross-entropies
  int correct = 0;
  int count = 0;
};

// Wall-clock seconds per layer kind, accumulated over forward+backward calls.
struct LayerTimes {
  std::array<double, kNumLayerKinds> seconds{};
  double& operator[](LayerKind k) { return seconds[static_cast<size_t>(k)]; }
  double operator[](LayerKind k) const { return seconds[static_cast<size_t>(k)]; }
};

class Model {
 public:
  virtual ~Model() = default;
  virtual const ModelSpec& spec() const = 0;
  virtual const std::string& conv_backend() const = 0;  // chosen backend name
  virtual MemSpace space() const = 0;
  // The cudaStream_t all of a cuda model's work is queued on (nullptr for a
  // cpu model). Callers that queue their own kernels on it (the worker's
  // Signum step) stay ordered with the model without synchronising.
  virtual void* cuda_stream() const = 0;

  virtual std::span<float> params() = 0;
  virtual std::span<float> grads() = 0;
  virtual std::span<float> buffers() = 0;
  virtual size_t num_params() const = 0;
  virtual void zero_grads() = 0;
  virtual const std::vector<ParamRange>& param_ranges() const = 0;
  virtual const std::vector<ParamRange>& buffer_ranges() const = 0;

  // Train mode: forward, softmax cross-entropy, backward. `images` is
  // (>= batch, in_channels, image_size, image_size) NCHW; the first `batch`
  // images are used; labels[i] in [0, num_classes). Gradients are
  // ACCUMULATED into grads(); BN running stats are updated. Returns the mean
  // loss; fills *stats when non-null.
  // `meanwhile` (optional) runs on the calling thread while the step is in
  // flight: a cuda model calls it after queueing the whole pass and before
  // waiting for the device (a cpu model after the pass). `images` and
  // `labels` have been consumed by then, so it may refill them (the next
  // batch's augmentation overlaps the GPU's forward and backward).
  virtual float forward_backward(const Tensor& images, const int* labels, int batch, StepStats* stats,
                                 const std::function<void()>& meanwhile = {}) = 0;
  // Eval mode (BN uses running stats), no gradients; processed in chunks of
  // the largest batch seen so far (64 if none), so memory stays bounded.
  // Both calls use spec().threads threads and restore the caller's
  // OpenMP/Eigen thread settings on return.
  virtual EvalResult evaluate(const Tensor& images, const int* labels, int batch) = 0;
  // Logits (batch, num_classes, 1, 1) of the last forward pass (for
  // evaluate(): of its last chunk). Throws std::logic_error before any pass.
  virtual const Tensor& logits() const = 0;

  // Gradient-ready hook: during forward_backward's backward pass, after each
  // layer, hook(first) says that grads()[first, num_params()) are final
  // (backward finishes layers last-to-first, so `first` only decreases; the
  // last call has first = 0). A cuda model calls it once, after the pass.
  // An empty function removes it.
  virtual void set_grad_ready_hook(std::function<void(size_t first)> hook) = 0;

  virtual const LayerTimes& layer_times() const = 0;
  virtual void reset_layer_times() = 0;
  // One line per layer: name, kind, shapes, backend details.
  virtual std::string summary() const = 0;
};

// Throws std::invalid_argument naming the bad value (unknown model name,
// device, math mode, layout (or nhwc on the cpu) or backend, width/classes/channels/size/threads < 1, no
// usable backend, or device "cuda" in a build without CUDA) and
// std::runtime_error when no CUDA device is visible.
std::unique_ptr<Model> make_model(const ModelSpec& spec);

// Conv backends compiled into this build, in the default preference order.
std::vector<std::string> available_conv_backends();

}  // namespace signvote::nn
