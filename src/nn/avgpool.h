// GlobalAvgPool: y(n, c, 1, 1) = mean over H*W of x(n, c, :, :).
// Accepts nchw or nChw16c; the output is always nchw, i.e. a contiguous
// (N, C) matrix ready for Linear.
#pragma once

#include "signvote/layer.h"

#include <memory>

namespace signvote::nn {

struct CudaContext;

class GlobalAvgPool final : public Layer {
 public:
  LayerKind kind() const override { return LayerKind::pool; }
  Shape output_shape(const Shape& in) const override { return {in.n, in.c, 1, 1}; }
  Layout output_layout(Layout) const override { return Layout::nchw; }
  void forward(const Tensor& x, Tensor& y, Mode mode) override;
  void backward(const Tensor& x, const Tensor& y, const Tensor& dy, Tensor& dx) override;
  std::string describe() const override { return "global_avgpool"; }
};

// CUDA twin (avgpool_cuda.cpp): one thread per plane, same summation order.
// Accepts nchw or nhwc; the output is nchw (N, C) as the CPU twin's.
class CudaGlobalAvgPool final : public Layer {
 public:
  explicit CudaGlobalAvgPool(std::shared_ptr<CudaContext> ctx) : ctx_(std::move(ctx)) {}
  LayerKind kind() const override { return LayerKind::pool; }
  Shape output_shape(const Shape& in) const override { return {in.n, in.c, 1, 1}; }
  Layout output_layout(Layout) const override { return Layout::nchw; }
  void forward(const Tensor& x, Tensor& y, Mode mode) override;
  void backward(const Tensor& x, const Tensor& y, const Tensor& dy, Tensor& dx) override;
  std::string describe() const override { return "global_avgpool [cuda]"; }

 private:
  std::shared_ptr<CudaContext> ctx_;
};

}  // namespace signvote::nn
