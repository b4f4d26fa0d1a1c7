// Residual Add: y = a + b (same shape and layout). Not a unary Layer: the
// model wires its two inputs. Backward: da = db = dy; the model instead
// accumulates dy into each input's gradient (accumulate()).
#pragma once

#include "signvote/tensor.h"

namespace signvote::nn {

struct Add {
  static void forward(const Tensor& a, const Tensor& b, Tensor& y);
  // Overwrites da and db with dy (either may be empty = not needed).
  static void backward(const Tensor& dy, Tensor& da, Tensor& db);
  // dst += src (same shape and layout); used to sum gradients of a tensor
  // that feeds several consumers.
  static void accumulate(const Tensor& src, Tensor& dst);
};

}  // namespace signvote::nn
