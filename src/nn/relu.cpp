// ReLU, OpenMP-parallel and vectorised (memory-bound).
#include "relu.h"

#include "common.h"

namespace signvote::nn {

void ReLU::forward(const Tensor& x, Tensor& y, Mode) {
  require(x.shape() == y.shape() && x.layout() == y.layout(), "ReLU::forward: x/y mismatch");
  const float* in = x.data();
  float* out = y.data();
  const size_t n = x.physical_size();
#pragma omp parallel for simd schedule(static)
  for (size_t i = 0; i < n; ++i) out[i] = in[i] > 0.f ? in[i] : 0.f;
}

void ReLU::backward(const Tensor&, const Tensor& y, const Tensor& dy, Tensor& dx) {
  if (dx.empty()) return;
  require(dy.shape() == y.shape() && dx.shape() == y.shape(), "ReLU::backward: shape mismatch");
  const float* yv = y.data();
  const float* g = dy.data();
  float* d = dx.data();
  const size_t n = y.physical_size();
#pragma omp parallel for simd schedule(static)
  for (size_t i = 0; i < n; ++i) d[i] = pass_if_positive(yv[i], g[i]);
}

}  // namespace signvote::nn
