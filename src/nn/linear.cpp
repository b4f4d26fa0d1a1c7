// Linear layer on Eigen row-major maps.
#include "linear.h"

#include "common.h"

#include "eigen_core.h"
#include <cmath>

namespace signvote::nn {

namespace {
using RowMat = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using MapR = Eigen::Map<RowMat>;
using CMapR = Eigen::Map<const RowMat>;
using MapV = Eigen::Map<Eigen::RowVectorXf>;
}  // namespace

Linear::Linear(int in_features, int out_features, double init_gain)
    : in_(in_features), out_(out_features), gain_(init_gain) {
  require(in_features > 0 && out_features > 0, "Linear: features must be > 0");
}

Shape Linear::output_shape(const Shape& in) const {
  require(in.c == in_ && in.h == 1 && in.w == 1,
          "Linear: input " + to_string(in) + " is not (N, " + std::to_string(in_) + ", 1, 1)");
  return {in.n, out_, 1, 1};
}

std::vector<ParamDecl> Linear::param_decls() const {
  return {{"weight", size_t(in_) * out_}, {"bias", size_t(out_)}};
}

void Linear::bind_params(float* params, float* grads) {
  w_ = params;
  b_ = params + size_t(in_) * out_;
  dw_ = grads;
  db_ = grads + size_t(in_) * out_;
}

void Linear::init_params(std::mt19937_64& rng) {
  fill_normal({w_, size_t(in_) * out_}, gain_ / std::sqrt(double(in_)), rng);
  for (int o = 0; o < out_; ++o) b_[o] = 0.f;
}

std::string Linear::describe() const {
  return "linear " + std::to_string(in_) + "->" + std::to_string(out_);
}

void Linear::forward(const Tensor& x, Tensor& y, Mode) {
  require(x.layout() == Layout::nchw && y.shape() == output_shape(x.shape()),
          "Linear::forward: bad input/output");
  MapR Y(y.data(), x.n(), out_);
  Y.noalias() = CMapR(x.data(), x.n(), in_) * CMapR(w_, out_, in_).transpose();
  Y.rowwise() += MapV(b_, out_);
}

void Linear::backward(const Tensor& x, const Tensor&, const Tensor& dy, Tensor& dx) {
  CMapR dY(dy.data(), x.n(), out_);
  MapR(dw_, out_, in_).noalias() += dY.transpose() * CMapR(x.data(), x.n(), in_);
  MapV(db_, out_) += dY.colwise().sum();
  if (!dx.empty()) MapR(dx.data(), x.n(), in_).noalias() = dY * CMapR(w_, out_, in_);
}

}  // namespace signvote::nn
