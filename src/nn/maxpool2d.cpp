// MaxPool2d over (n, c) planes of any layout.
#include "maxpool2d.h"

#include "common.h"

#include <algorithm>

namespace signvote::nn {

MaxPool2d::MaxPool2d(int kernel, int stride, int pad) : k_(kernel), s_(stride), p_(pad) {
  require(kernel > 0 && stride > 0 && pad >= 0 && 2 * pad <= kernel,
          "MaxPool2d: invalid kernel/stride/padding");
}

Shape MaxPool2d::output_shape(const Shape& in) const {
  const Shape out{in.n, in.c, (in.h + 2 * p_ - k_) / s_ + 1, (in.w + 2 * p_ - k_) / s_ + 1};
  require(out.h > 0 && out.w > 0, "MaxPool2d: input " + to_string(in) + " smaller than kernel");
  return out;
}

std::string MaxPool2d::describe() const {
  return "maxpool" + std::to_string(k_) + "/" + std::to_string(s_);
}

int MaxPool2d::argmax(const float* plane, int stride, int h, int w, int oy, int ox) const {
  int best = -1;
  float best_v = 0.f;
  for (int r = 0; r < k_; ++r) {
    const int iy = oy * s_ - p_ + r;
    if (iy < 0 || iy >= h) continue;
    for (int q = 0; q < k_; ++q) {
      const int ix = ox * s_ - p_ + q;
      if (ix < 0 || ix >= w) continue;
      const float v = plane[size_t(iy * w + ix) * stride];
      if (best < 0 || v > best_v) best = iy * w + ix, best_v = v;
    }
  }
  return best;  // >= 0: every window holds at least one real element (2*pad <= kernel)
}

void MaxPool2d::forward(const Tensor& x, Tensor& y, Mode) {
  require(y.shape() == output_shape(x.shape()) && x.layout() == y.layout(),
          "MaxPool2d::forward: bad output");
  const int s = x.elem_stride();
#pragma omp parallel for collapse(2) schedule(static)
  for (int n = 0; n < x.n(); ++n)
    for (int c = 0; c < x.c(); ++c) {
      const float* in = x.data() + x.plane_offset(n, c);
      float* out = y.data() + y.plane_offset(n, c);
      for (int oy = 0; oy < y.h(); ++oy)
        for (int ox = 0; ox < y.w(); ++ox)
          out[size_t(oy * y.w() + ox) * s] = in[size_t(argmax(in, s, x.h(), x.w(), oy, ox)) * s];
    }
}

void MaxPool2d::backward(const Tensor& x, const Tensor& y, const Tensor& dy, Tensor& dx) {
  if (dx.empty()) return;
  dx.zero();
  const int s = x.elem_stride();
#pragma omp parallel for collapse(2) schedule(static)
  for (int n = 0; n < x.n(); ++n)
    for (int c = 0; c < x.c(); ++c) {
      const float* in = x.data() + x.plane_offset(n, c);
      const float* g = dy.data() + dy.plane_offset(n, c);
      float* d = dx.data() + dx.plane_offset(n, c);
      for (int oy = 0; oy < y.h(); ++oy)
        for (int ox = 0; ox < y.w(); ++ox)
          d[size_t(argmax(in, s, x.h(), x.w(), oy, ox)) * s] += g[size_t(oy * y.w() + ox) * s];
    }
}

}  // namespace signvote::nn
