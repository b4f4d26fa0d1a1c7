// MaxPool2d(kernel, stride, padding): y = max over each window (padding
// acts as -inf). Backward routes dy to the first maximal element of each
// window (row-major window order); ties are measure-zero for real inputs.
// Works on nchw and nChw16c (same layout out).
#pragma once

#include "signvote/layer.h"

namespace signvote::nn {

class MaxPool2d final : public Layer {
 public:
  MaxPool2d(int kernel, int stride, int pad = 0);
  LayerKind kind() const override { return LayerKind::pool; }
  Shape output_shape(const Shape& in) const override;
  void forward(const Tensor& x, Tensor& y, Mode mode) override;
  void backward(const Tensor& x, const Tensor& y, const Tensor& dy, Tensor& dx) override;
  std::string describe() const override;

 private:
  // Offset (within the (n,c) plane, in elements) of the window's argmax.
  int argmax(const float* plane, int stride, int h, int w, int oy, int ox) const;
  int k_, s_, p_;
};

}  // namespace signvote::nn
