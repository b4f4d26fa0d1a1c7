// ReLU: y = max(x, 0). Elementwise over the physical buffer, so it works on
// any layout (nChw16c padding stays 0). Backward: dx = dy where y > 0, else 0
// (the subgradient at x == 0 is taken as 0, as in PyTorch).
#pragma once

#include "signvote/layer.h"

namespace signvote::nn {

class ReLU final : public Layer {
 public:
  LayerKind kind() const override { return LayerKind::relu; }
  Shape output_shape(const Shape& in) const override { return in; }
  void forward(const Tensor& x, Tensor& y, Mode mode) override;
  void backward(const Tensor& x, const Tensor& y, const Tensor& dy, Tensor& dx) override;
  std::string describe() const override { return "relu"; }
};

}  // namespace signvote::nn
