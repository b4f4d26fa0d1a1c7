// Flatten: (N, C, H, W) in any layout -> (N, C*H*W, 1, 1) nchw, features in
// NCHW order (c, h, w) as torch.flatten(x, 1).
#pragma once

#include "signvote/layer.h"

#include <memory>

namespace signvote::nn {

struct CudaContext;

class Flatten final : public Layer {
 public:
  LayerKind kind() const override { return LayerKind::flatten; }
  Shape output_shape(const Shape& in) const override { return {in.n, in.c * in.h * in.w, 1, 1}; }
  Layout output_layout(Layout) const override { return Layout::nchw; }
  void forward(const Tensor& x, Tensor& y, Mode mode) override;
  void backward(const Tensor& x, const Tensor& y, const Tensor& dy, Tensor& dx) override;
  std::string describe() const override { return "flatten"; }
};

// CUDA twin (flatten_cuda.cpp): NCHW is already (N, C*H*W) in memory, so
// forward and backward are device-to-device copies on the model's stream;
// an NHWC input is transposed to NCHW order (and dy back), so the features
// -- and the next Linear's weights -- are in the same order in both layouts.
class CudaFlatten final : public Layer {
 public:
  explicit CudaFlatten(std::shared_ptr<CudaContext> ctx) : ctx_(std::move(ctx)) {}
  LayerKind kind() const override { return LayerKind::flatten; }
  Shape output_shape(const Shape& in) const override { return {in.n, in.c * in.h * in.w, 1, 1}; }
  Layout output_layout(Layout) const override { return Layout::nchw; }
  void forward(const Tensor& x, Tensor& y, Mode mode) override;
  void backward(const Tensor& x, const Tensor& y, const Tensor& dy, Tensor& dx) override;
  std::string describe() const override { return "flatten [cuda]"; }

 private:
  std::shared_ptr<CudaContext> ctx_;
};

}  // namespace signvote::nn
