// Residual add and gradient accumulation (elementwise, any layout).
#include "add.h"

#include "common.h"

#include <algorithm>

namespace signvote::nn {

namespace {
void check_same(const Tensor& a, const Tensor& b, const char* what) {
  require(a.shape() == b.shape() && a.layout() == b.layout(),
          std::string(what) + ": shape/layout mismatch " + to_string(a.shape()) + " vs " +
              to_string(b.shape()));
}
}  // namespace

void Add::forward(const Tensor& a, const Tensor& b, Tensor& y) {
  check_same(a, b, "Add::forward");
  check_same(a, y, "Add::forward");
  add_arrays(a.data(), b.data(), y.data(), a.physical_size());
}

void Add::backward(const Tensor& dy, Tensor& da, Tensor& db) {
  for (Tensor* d : {&da, &db}) {
    if (d->empty()) continue;
    check_same(dy, *d, "Add::backward");
    std::copy_n(dy.data(), dy.physical_size(), d->data());
  }
}

void Add::accumulate(const Tensor& src, Tensor& dst) {
  check_same(src, dst, "Add::accumulate");
  accumulate_array(src.data(), dst.data(), src.physical_size());
}

void Add::forward_relu(const Tensor& a, const Tensor& b, Tensor& y) {
  check_same(a, b, "Add::forward_relu");
  check_same(a, y, "Add::forward_relu");
  const float *pa = a.data(), *pb = b.data();
  float* py = y.data();
  const size_t n = a.physical_size();
#pragma omp parallel for simd schedule(static)
  for (size_t i = 0; i < n; ++i) py[i] = std::max(pa[i] + pb[i], 0.f);
}

void Add::backward_relu(const Tensor& y, const Tensor& dy, Tensor& d, bool accumulate) {
  check_same(y, dy, "Add::backward_relu");
  check_same(y, d, "Add::backward_relu");
  const float *py = y.data(), *pg = dy.data();
  float* pd = d.data();
  const size_t n = y.physical_size();
  if (accumulate) {
#pragma omp parallel for simd schedule(static)
    for (size_t i = 0; i < n; ++i) pd[i] += pass_if_positive(py[i], pg[i]);
  } else {
#pragma omp parallel for simd schedule(static)
    for (size_t i = 0; i < n; ++i) pd[i] = pass_if_positive(py[i], pg[i]);
  }
}

}  // namespace signvote::nn
