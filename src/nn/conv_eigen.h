// Reference convolution: per image, im2col into a [ic*kh*kw, OH*OW] matrix
// and one Eigen GEMM. Images are split across OpenMP threads (each thread
// has its own column buffer and, in backward, its own dW partial sum).
// NCHW in, NCHW out.
#pragma once

#include "conv_backend.h"

#include <vector>

namespace signvote::nn {

class EigenConv final : public ConvImpl {
 public:
  explicit EigenConv(const ConvGeom& g) : g_(g) {}
  const char* name() const override { return "eigen"; }
  Layout output_layout(Layout in) const override;
  void forward(const Tensor& x, const float* w, Tensor& y) override;
  void backward(const Tensor& x, const float* w, const Tensor& dy, float* dw,
                Tensor& dx) override;

 private:
  // x_n: one image (ic, H, W); col: [ic*kh*kw, OH*OW] row-major.
  void im2col(const float* x_n, int h, int w, float* col) const;
  // dx_n (ic, H, W) = scatter-add of col (overwrites dx_n).
  void col2im(const float* col, int h, int w, float* dx_n) const;
  bool is_pointwise() const;  // 1x1, stride 1, no padding: col == x_n
  // Per-thread scratch of `count` floats for thread t.
  float* scratch(std::vector<AlignedBuffer>& pool, int t, size_t count);

  ConvGeom g_;
  std::vector<AlignedBuffer> cols_, dcols_, dws_;
};

}  // namespace signvote::nn
