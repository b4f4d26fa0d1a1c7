// Global average pooling over (n, c) planes of any layout.
#include "avgpool.h"

#include "common.h"

namespace signvote::nn {

void GlobalAvgPool::forward(const Tensor& x, Tensor& y, Mode) {
  require(y.shape() == output_shape(x.shape()) && y.layout() == Layout::nchw,
          "GlobalAvgPool::forward: bad output");
  const int hw = x.h() * x.w(), s = x.elem_stride();
  const float inv = 1.f / float(hw);
#pragma omp parallel for collapse(2) schedule(static)
  for (int n = 0; n < x.n(); ++n)
    for (int c = 0; c < x.c(); ++c) {
      const float* p = x.data() + x.plane_offset(n, c);
      float sum = 0.f;
      for (int k = 0; k < hw; ++k) sum += p[size_t(k) * s];
      y.data()[size_t(n) * x.c() + c] = sum * inv;
    }
}

void GlobalAvgPool::backward(const Tensor& x, const Tensor&, const Tensor& dy, Tensor& dx) {
  if (dx.empty()) return;
  if (dx.layout() != Layout::nchw) dx.zero();  // padding channels must stay 0
  const int hw = x.h() * x.w(), s = dx.elem_stride();
  const float inv = 1.f / float(hw);
#pragma omp parallel for collapse(2) schedule(static)
  for (int n = 0; n < x.n(); ++n)
    for (int c = 0; c < x.c(); ++c) {
      const float g = dy.data()[size_t(n) * x.c() + c] * inv;
      float* d = dx.data() + dx.plane_offset(n, c);
      for (int k = 0; k < hw; ++k) d[size_t(k) * s] = g;
    }
}

}  // namespace signvote::nn
