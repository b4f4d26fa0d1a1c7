// Residual Add: y = a + b (same shape and layout), optionally fused with
// the ReLU that follows it in a BasicBlock: y = max(a + b, 0). Not a unary
// Layer: the model wires its two inputs. Backward: da = db = dy (times the
// mask y > 0 when fused); the model writes that into the first input's
// gradient and accumulates it into the second's when that one already
// holds a contribution from another consumer.
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

  // Fused residual + ReLU: y = max(a + b, 0).
  static void forward_relu(const Tensor& a, const Tensor& b, Tensor& y);
  // d = dy * (y > 0) (accumulate: d += dy * (y > 0)).
  static void backward_relu(const Tensor& y, const Tensor& dy, Tensor& d, bool accumulate);
};

}  // namespace signvote::nn
