// MaxPool2d(kernel, stride, padding): y = max over each window (padding
// acts as -inf). Backward routes dy to the first maximal element of each
// window (row-major window order); ties are measure-zero for real inputs.
// Works on nchw and nChw16c (same layout out).
#pragma once

#include "signvote/layer.h"

#include <memory>

namespace signvote::nn {

struct CudaContext;

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

// CUDA twin (maxpool2d_cuda.cpp): cuDNN max pooling
// (CUDNN_POOLING_MAX_DETERMINISTIC), same window, stride and padding.
class CudaMaxPool2d final : public Layer {
 public:
  CudaMaxPool2d(int kernel, int stride, int pad, std::shared_ptr<CudaContext> ctx);
  ~CudaMaxPool2d() override;
  LayerKind kind() const override { return LayerKind::pool; }
  Shape output_shape(const Shape& in) const override { return cpu_.output_shape(in); }
  void forward(const Tensor& x, Tensor& y, Mode mode) override;
  void backward(const Tensor& x, const Tensor& y, const Tensor& dy, Tensor& dx) override;
  std::string describe() const override { return cpu_.describe() + " [cudnn]"; }

 private:
  struct Descs;
  void set_shapes(const Tensor& x, const Tensor& y);
  MaxPool2d cpu_;  // geometry and checks only
  int k_, s_, p_;
  std::shared_ptr<CudaContext> ctx_;
  std::unique_ptr<Descs> d_;
};

}  // namespace signvote::nn
