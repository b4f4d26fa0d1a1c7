// Conv2d layer: shape checks, parameter binding, init; math in ConvImpl.
#include "conv2d.h"

#include <cmath>

namespace signvote::nn {

Conv2d::Conv2d(const ConvGeom& g, std::unique_ptr<ConvImpl> impl) : g_(g), impl_(std::move(impl)) {
  require(g.ic > 0 && g.oc > 0 && g.kh > 0 && g.kw > 0 && g.sh > 0 && g.sw > 0 && g.ph >= 0 &&
              g.pw >= 0,
          "Conv2d: invalid geometry");
  require(impl_ != nullptr, "Conv2d: no backend");
}

Shape Conv2d::output_shape(const Shape& in) const {
  require(in.c == g_.ic, "Conv2d: input has " + std::to_string(in.c) + " channels, expected " +
                             std::to_string(g_.ic));
  const Shape out{in.n, g_.oc, g_.out_h(in.h), g_.out_w(in.w)};
  require(out.h > 0 && out.w > 0, "Conv2d: input " + to_string(in) + " smaller than the kernel");
  return out;
}

void Conv2d::forward(const Tensor& x, Tensor& y, Mode) {
  require(y.shape() == output_shape(x.shape()), "Conv2d::forward: bad output shape");
  impl_->forward(x, w_, y);
}

void Conv2d::backward(const Tensor& x, const Tensor&, const Tensor& dy, Tensor& dx) {
  impl_->backward(x, w_, dy, dw_, dx);
}

std::vector<ParamDecl> Conv2d::param_decls() const { return {{"weight", g_.weight_count()}}; }

void Conv2d::bind_params(float* params, float* grads) {
  w_ = params;
  dw_ = grads;
}

void Conv2d::init_params(std::mt19937_64& rng) {
  const double stddev = std::sqrt(2.0 / double(g_.oc * g_.kh * g_.kw));
  fill_normal({w_, g_.weight_count()}, stddev, rng);
}

std::string Conv2d::describe() const {
  return "conv" + std::to_string(g_.kh) + "x" + std::to_string(g_.kw) + "/" +
         std::to_string(g_.sh) + " " + std::to_string(g_.ic) + "->" + std::to_string(g_.oc) +
         " [" + impl_->details() + "]";
}

}  // namespace signvote::nn
