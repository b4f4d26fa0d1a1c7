// ReLU: y = max(x, 0). Elementwise over the physical buffer, so it works on
// any layout (nChw16c padding stays 0). Backward: dx = dy where y > 0, else 0
// (the subgradient at x == 0 is taken as 0, as in PyTorch).
#pragma once

#include "signvote/layer.h"

#include <memory>

namespace signvote::nn {

struct CudaContext;

class ReLU final : public Layer {
 public:
  LayerKind kind() const override { return LayerKind::relu; }
  Shape output_shape(const Shape& in) const override { return in; }
  void forward(const Tensor& x, Tensor& y, Mode mode) override;
  void backward(const Tensor& x, const Tensor& y, const Tensor& dy, Tensor& dx) override;
  std::string describe() const override { return "relu"; }
};

// CUDA twin (relu_cuda.cpp): same maths on cuda tensors.
class CudaReLU final : public Layer {
 public:
  explicit CudaReLU(std::shared_ptr<CudaContext> ctx) : ctx_(std::move(ctx)) {}
  LayerKind kind() const override { return LayerKind::relu; }
  Shape output_shape(const Shape& in) const override { return in; }
  void forward(const Tensor& x, Tensor& y, Mode mode) override;
  void backward(const Tensor& x, const Tensor& y, const Tensor& dy, Tensor& dx) override;
  std::string describe() const override { return "relu [cuda]"; }

 private:
  std::shared_ptr<CudaContext> ctx_;
};

}  // namespace signvote::nn
