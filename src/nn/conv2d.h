// Conv2d: 2-D convolution without bias (ResNet style), any kernel size,
// stride and symmetric padding. Parameters: "weight" (oc, ic, kh, kw).
// The arithmetic is delegated to a ConvImpl backend (eigen | dnnl).
#pragma once

#include "conv_backend.h"
#include "signvote/layer.h"

#include <memory>

namespace signvote::nn {

class Conv2d final : public Layer {
 public:
  Conv2d(const ConvGeom& g, std::unique_ptr<ConvImpl> impl);
  LayerKind kind() const override { return LayerKind::conv; }
  Shape output_shape(const Shape& in) const override;
  Layout output_layout(Layout in) const override { return impl_->output_layout(in); }
  void forward(const Tensor& x, Tensor& y, Mode mode) override;
  void backward(const Tensor& x, const Tensor& y, const Tensor& dy, Tensor& dx) override;
  std::vector<ParamDecl> param_decls() const override;
  void bind_params(float* params, float* grads) override;
  // Kaiming normal, fan_out mode (as torchvision's ResNet):
  // std = sqrt(2 / (oc * kh * kw)).
  void init_params(std::mt19937_64& rng) override;
  std::string describe() const override;

  const ConvGeom& geom() const { return g_; }
  const float* weight() const { return w_; }

 private:
  ConvGeom g_;
  std::unique_ptr<ConvImpl> impl_;
  float* w_ = nullptr;   // view into the model's params
  float* dw_ = nullptr;  // view into the model's grads
};

}  // namespace signvote::nn
