// im2col + Eigen GEMM convolution (the reference backend).
#include "conv_eigen.h"

#include "eigen_core.h"

#include <algorithm>
#include <cstring>

#ifdef _OPENMP
#include <omp.h>
#endif

namespace signvote::nn {

namespace {
using RowMat = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using MapR = Eigen::Map<RowMat>;
using CMapR = Eigen::Map<const RowMat>;

int thread_id() {
#ifdef _OPENMP
  return omp_get_thread_num();
#else
  return 0;
#endif
}
int max_threads() {
#ifdef _OPENMP
  return omp_get_max_threads();
#else
  return 1;
#endif
}
}  // namespace

Layout EigenConv::output_layout(Layout in) const {
  require(in == Layout::nchw, "conv backend 'eigen' needs nchw input, got a blocked layout");
  return Layout::nchw;
}

bool EigenConv::is_pointwise() const {
  return g_.kh == 1 && g_.kw == 1 && g_.sh == 1 && g_.sw == 1 && g_.ph == 0 && g_.pw == 0;
}

float* EigenConv::scratch(std::vector<AlignedBuffer>& pool, int t, size_t count) {
  // Only called from thread t for slot t; the pool is sized before the
  // parallel region, so no reallocation races.
  if (pool[t].size() < count) pool[t] = AlignedBuffer(count);
  return pool[t].data();
}

void EigenConv::im2col(const float* x_n, int h, int w, float* col) const {
  const int oh = g_.out_h(h), ow = g_.out_w(w);
  for (int c = 0; c < g_.ic; ++c)
    for (int r = 0; r < g_.kh; ++r)
      for (int s = 0; s < g_.kw; ++s) {
        float* row = col + size_t((c * g_.kh + r) * g_.kw + s) * oh * ow;
        for (int oy = 0; oy < oh; ++oy) {
          const int iy = oy * g_.sh - g_.ph + r;
          float* out = row + size_t(oy) * ow;
          if (iy < 0 || iy >= h) {
            std::fill_n(out, ow, 0.f);
            continue;
          }
          const float* in = x_n + (size_t(c) * h + iy) * w;
          for (int ox = 0; ox < ow; ++ox) {
            const int ix = ox * g_.sw - g_.pw + s;
            out[ox] = (ix >= 0 && ix < w) ? in[ix] : 0.f;
          }
        }
      }
}

void EigenConv::col2im(const float* col, int h, int w, float* dx_n) const {
  const int oh = g_.out_h(h), ow = g_.out_w(w);
  std::fill_n(dx_n, size_t(g_.ic) * h * w, 0.f);
  for (int c = 0; c < g_.ic; ++c)
    for (int r = 0; r < g_.kh; ++r)
      for (int s = 0; s < g_.kw; ++s) {
        const float* row = col + size_t((c * g_.kh + r) * g_.kw + s) * oh * ow;
        for (int oy = 0; oy < oh; ++oy) {
          const int iy = oy * g_.sh - g_.ph + r;
          if (iy < 0 || iy >= h) continue;
          float* out = dx_n + (size_t(c) * h + iy) * w;
          for (int ox = 0; ox < ow; ++ox) {
            const int ix = ox * g_.sw - g_.pw + s;
            if (ix >= 0 && ix < w) out[ix] += row[size_t(oy) * ow + ox];
          }
        }
      }
}

void EigenConv::forward(const Tensor& x, const float* w, Tensor& y) {
  require(x.layout() == Layout::nchw && y.layout() == Layout::nchw,
          "conv backend 'eigen' needs nchw tensors");
  const int n = x.n(), h = x.h(), wd = x.w();
  const int K = g_.ic * g_.kh * g_.kw, P = y.h() * y.w();
  cols_.resize(std::max<size_t>(cols_.size(), size_t(max_threads())));
  CMapR W(w, g_.oc, K);
#pragma omp parallel for schedule(static)
  for (int i = 0; i < n; ++i) {
    const float* xi = x.data() + size_t(i) * g_.ic * h * wd;
    const float* col = xi;
    if (!is_pointwise()) {
      float* buf = scratch(cols_, thread_id(), size_t(K) * P);
      im2col(xi, h, wd, buf);
      col = buf;
    }
    MapR Y(y.data() + size_t(i) * g_.oc * P, g_.oc, P);
    Y.noalias() = W * CMapR(col, K, P);  // [oc, K] x [K, P]
  }
}

void EigenConv::backward(const Tensor& x, const float* w, const Tensor& dy, float* dw,
                         Tensor& dx) {
  require(x.layout() == Layout::nchw && dy.layout() == Layout::nchw,
          "conv backend 'eigen' needs nchw tensors");
  const int n = x.n(), h = x.h(), wd = x.w();
  const int K = g_.ic * g_.kh * g_.kw, P = dy.h() * dy.w();
  const int nt = max_threads();
  for (auto* pool : {&cols_, &dcols_, &dws_}) pool->resize(std::max<size_t>(pool->size(), nt));
  for (int t = 0; t < nt; ++t) std::fill_n(scratch(dws_, t, size_t(g_.oc) * K), size_t(g_.oc) * K, 0.f);
  CMapR W(w, g_.oc, K);
#pragma omp parallel for schedule(static)
  for (int i = 0; i < n; ++i) {
    const int t = thread_id();
    const float* xi = x.data() + size_t(i) * g_.ic * h * wd;
    const float* col = xi;
    if (!is_pointwise()) {
      float* buf = scratch(cols_, t, size_t(K) * P);
      im2col(xi, h, wd, buf);
      col = buf;
    }
    CMapR dY(dy.data() + size_t(i) * g_.oc * P, g_.oc, P);
    MapR(dws_[t].data(), g_.oc, K).noalias() += dY * CMapR(col, K, P).transpose();
    if (dx.empty()) continue;
    float* dxi = dx.data() + size_t(i) * g_.ic * h * wd;
    if (is_pointwise()) {
      MapR(dxi, K, P).noalias() = W.transpose() * dY;
    } else {
      float* dcol = scratch(dcols_, t, size_t(K) * P);
      MapR(dcol, K, P).noalias() = W.transpose() * dY;  // [K, oc] x [oc, P]
      col2im(dcol, h, wd, dxi);
    }
  }
  // Sum the per-thread dW partials into the gradient (accumulate).
  Eigen::Map<Eigen::VectorXf> out(dw, Eigen::Index(g_.oc) * K);
  for (int t = 0; t < nt; ++t) out += Eigen::Map<const Eigen::VectorXf>(dws_[t].data(), out.size());
}

}  // namespace signvote::nn
