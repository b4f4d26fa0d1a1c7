// Flatten = a layout change to plain NCHW plus a reshape.
#include "flatten.h"

#include "common.h"

namespace signvote::nn {

void Flatten::forward(const Tensor& x, Tensor& y, Mode) {
  require(y.shape() == output_shape(x.shape()) && y.layout() == Layout::nchw,
          "Flatten::forward: bad output");
  // Reinterpret y as x's logical shape in nchw and copy (reorders if blocked).
  Tensor yv = Tensor::view(y.data(), x.shape(), Layout::nchw);
  yv.copy_from(x);
}

void Flatten::backward(const Tensor& x, const Tensor&, const Tensor& dy, Tensor& dx) {
  if (dx.empty()) return;
  const Tensor dyv = Tensor::view(const_cast<float*>(dy.data()), x.shape(), Layout::nchw);
  dx.copy_from(dyv);
}

}  // namespace signvote::nn
