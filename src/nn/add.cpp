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

}  // namespace signvote::nn
