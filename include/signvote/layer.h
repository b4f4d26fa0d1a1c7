// signvote::nn layer interface.
//
// Argument order (fixed for every unary layer):
//   forward (const Tensor& x, Tensor& y, Mode mode)
//   backward(const Tensor& x, const Tensor& y, const Tensor& dy, Tensor& dx)
// x is the layer input and y its output, exactly as produced by the last
// forward (backward may read either). dy = dLoss/dy has y's shape and layout;
// dx = dLoss/dx has x's shape and layout and is OVERWRITTEN. dx may be an
// empty Tensor when the input gradient is not needed (e.g. the first conv on
// the images); the layer then skips that work. Parameter gradients are
// ACCUMULATED (+=) into the layer's gradient view, so a caller zeroes them
// once per step (Model::zero_grads()).
//
// Output tensors are allocated by the caller with output_shape()/
// output_layout(). Layers are not thread-safe: one model per thread.
//
// Parameters and running statistics are not owned by layers: the model
// allocates one flat params buffer, one flat grads buffer (same length and
// offsets) and one flat "buffers" buffer (BatchNorm running mean/var), asks
// each layer for its param_decls()/buffer_decls() in order and hands it
// pointers into those buffers with bind_params()/bind_buffers().
#pragma once

#include "signvote/tensor.h"

#include <cstddef>
#include <random>
#include <string>
#include <vector>

namespace signvote::nn {

enum class Mode { train, eval };

// Coarse layer classes for the per-type time breakdown and the named
// parameter ranges. `count` is the number of kinds.
enum class LayerKind : uint8_t { conv, bn, relu, add, pool, linear, loss, flatten, count };
inline constexpr size_t kNumLayerKinds = static_cast<size_t>(LayerKind::count);
const char* layer_kind_name(LayerKind k);

// One named tensor of a layer inside a flat buffer, e.g. {"weight", 1728}.
struct ParamDecl {
  std::string name;
  size_t count = 0;
};

class Layer {
 public:
  virtual ~Layer() = default;
  virtual LayerKind kind() const = 0;

  // Shape and layout of y for an input of shape `in` / layout `in`.
  // Throws std::invalid_argument when the input does not fit the layer.
  virtual Shape output_shape(const Shape& in) const = 0;
  virtual Layout output_layout(Layout in) const { return in; }

  virtual void forward(const Tensor& x, Tensor& y, Mode mode) = 0;
  virtual void backward(const Tensor& x, const Tensor& y, const Tensor& dy, Tensor& dx) = 0;

  // Trainable parameters, in the order they appear in the flat buffer.
  virtual std::vector<ParamDecl> param_decls() const { return {}; }
  // params/grads point at this layer's first parameter; the layer's tensors
  // follow each other in param_decls() order.
  virtual void bind_params(float* params, float* grads) {}
  // Non-trainable state (BatchNorm running mean/var), same convention.
  virtual std::vector<ParamDecl> buffer_decls() const { return {}; }
  virtual void bind_buffers(float* buffers) {}
  // Writes initial values into the bound params/buffers (deterministic in rng).
  virtual void init_params(std::mt19937_64& rng) {}

  // Short description for logs, e.g. "conv3x3/1 64->64 [dnnl:jit:avx512_common]".
  virtual std::string describe() const = 0;
};

}  // namespace signvote::nn
