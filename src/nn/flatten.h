// Flatten: (N, C, H, W) in any layout -> (N, C*H*W, 1, 1) nchw, features in
// NCHW order (c, h, w) as torch.flatten(x, 1).
#pragma once

#include "signvote/layer.h"

namespace signvote::nn {

class Flatten final : public Layer {
 public:
  LayerKind kind() const override { return LayerKind::flatten; }
  Shape output_shape(const Shape& in) const override { return {in.n, in.c * in.h * in.w, 1, 1}; }
  Layout output_layout(Layout) const override { return Layout::nchw; }
  void forward(const Tensor& x, Tensor& y, Mode mode) override;
  void backward(const Tensor& x, const Tensor& y, const Tensor& dy, Tensor& dx) override;
  std::string describe() const override { return "flatten"; }
};

}  // namespace signvote::nn
