// BatchNorm2d: plain per-channel loops (any layout) or oneDNN primitives.
#include "batchnorm2d.h"

#include "bn_dnnl.h"

#include <algorithm>
#include <cmath>

namespace signvote::nn {

BatchNorm2d::BatchNorm2d(int channels, const NnContext& ctx, bool fuse_relu)
    : c_(channels), relu_(fuse_relu), mean_(channels), var_(channels), tmp_(2 * size_t(channels)) {
  require(channels > 0, "BatchNorm2d: channels must be > 0");
#ifdef SIGNVOTE_HAVE_DNNL
  if (ctx.dnnl) dnnl_ = std::make_unique<DnnlBatchNorm>(channels, kEps, fuse_relu, ctx.dnnl);
#endif
}
BatchNorm2d::~BatchNorm2d() = default;

Shape BatchNorm2d::output_shape(const Shape& in) const {
  require(in.c == c_, "BatchNorm2d: input has " + std::to_string(in.c) + " channels, expected " +
                          std::to_string(c_));
  return in;
}

std::vector<ParamDecl> BatchNorm2d::param_decls() const {
  return {{"weight", size_t(c_)}, {"bias", size_t(c_)}};
}
namespace {
// y[:, c] = a * x[:, c] + b over every image, then ReLU when fused.
void affine_channel_impl(const Tensor& x, Tensor& y, int c, float a, float b, bool relu) {
  const int n = x.n(), hw = x.h() * x.w(), s = x.elem_stride();
  for (int i = 0; i < n; ++i) {
    const float* p = x.data() + x.plane_offset(i, c);
    float* q = y.data() + y.plane_offset(i, c);
    for (int k = 0; k < hw; ++k) q[size_t(k) * s] = a * p[size_t(k) * s] + b;
    if (relu)
      for (int k = 0; k < hw; ++k) q[size_t(k) * s] = std::max(q[size_t(k) * s], 0.f);
  }
}
}  // namespace

void BatchNorm2d::bind_params(float* params, float* grads) {
  gamma_ = params;
  beta_ = params + c_;
  dgamma_ = grads;
  dbeta_ = grads + c_;
}
std::vector<ParamDecl> BatchNorm2d::buffer_decls() const {
  return {{"running_mean", size_t(c_)}, {"running_var", size_t(c_)}};
}
void BatchNorm2d::bind_buffers(float* buffers) {
  rmean_ = buffers;
  rvar_ = buffers + c_;
}
void BatchNorm2d::init_values(float* gamma, float* beta, float* rmean, float* rvar, int channels) {
  for (int c = 0; c < channels; ++c) gamma[c] = 1.f, beta[c] = 0.f, rmean[c] = 0.f, rvar[c] = 1.f;
}
void BatchNorm2d::init_params(std::mt19937_64&) { init_values(gamma_, beta_, rmean_, rvar_, c_); }
std::string BatchNorm2d::describe() const {
  return (relu_ ? "bn+relu " : "bn ") + std::to_string(c_) + (dnnl_ ? " [dnnl]" : " [loops]");
}

void BatchNorm2d::forward(const Tensor& x, Tensor& y, Mode mode) {
  require(x.shape() == output_shape(y.shape()) && x.layout() == y.layout(),
          "BatchNorm2d::forward: x/y mismatch");
  last_mode_ = mode;
  const size_t m = size_t(x.n()) * x.h() * x.w();
  if (mode == Mode::eval) {
#ifdef SIGNVOTE_HAVE_DNNL
    if (dnnl_) return dnnl_->forward_eval(x, gamma_, beta_, rmean_, rvar_, y);
#endif
    return forward_eval_loops(x, y);
  }
  require(m > 1, "BatchNorm2d: train mode needs more than one value per channel");
#ifdef SIGNVOTE_HAVE_DNNL
  if (dnnl_) dnnl_->forward_train(x, gamma_, beta_, y, mean_.data(), var_.data());
  else
#endif
    forward_train_loops(x, y);
  update_running(m);
}

void BatchNorm2d::update_running(size_t m) {
  const float unbias = float(double(m) / double(m - 1));
  for (int c = 0; c < c_; ++c) {
    rmean_[c] = (1.f - kMomentum) * rmean_[c] + kMomentum * mean_[c];
    rvar_[c] = (1.f - kMomentum) * rvar_[c] + kMomentum * var_[c] * unbias;
  }
}

void BatchNorm2d::forward_train_loops(const Tensor& x, Tensor& y) {
  const int n = x.n(), hw = x.h() * x.w(), s = x.elem_stride();
  const double inv_m = 1.0 / (double(n) * hw);
#pragma omp parallel for schedule(static)
  for (int c = 0; c < c_; ++c) {
    double sum = 0.0, sq = 0.0;  // two passes in double: mean, then centred squares
    for (int i = 0; i < n; ++i) {
      const float* p = x.data() + x.plane_offset(i, c);
      for (int k = 0; k < hw; ++k) sum += p[size_t(k) * s];
    }
    const double mu = sum * inv_m;
    for (int i = 0; i < n; ++i) {
      const float* p = x.data() + x.plane_offset(i, c);
      for (int k = 0; k < hw; ++k) sq += (p[size_t(k) * s] - mu) * (p[size_t(k) * s] - mu);
    }
    mean_[c] = float(mu);
    var_[c] = float(sq * inv_m);
    const float a = gamma_[c] / std::sqrt(var_[c] + kEps), b = beta_[c] - a * mean_[c];
    affine_channel_impl(x, y, c, a, b, relu_);
  }
}

void BatchNorm2d::forward_eval_loops(const Tensor& x, Tensor& y) {
#pragma omp parallel for schedule(static)
  for (int c = 0; c < c_; ++c) {
    const float a = gamma_[c] / std::sqrt(rvar_[c] + kEps), b = beta_[c] - a * rmean_[c];
    affine_channel_impl(x, y, c, a, b, relu_);
  }
}

void BatchNorm2d::backward(const Tensor& x, const Tensor& y, const Tensor& dy, Tensor& dx) {
#ifdef SIGNVOTE_HAVE_DNNL
  if (dnnl_ && last_mode_ == Mode::train && !dx.empty()) {
    dnnl_->backward(x, dy, gamma_, beta_, mean_.data(), var_.data(), dx, tmp_.data(), tmp_.data() + c_);
    for (int c = 0; c < c_; ++c) dgamma_[c] += tmp_[c], dbeta_[c] += tmp_[c_ + c];
    return;
  }
#endif
  backward_loops(x, y, dy, dx);
}

// Train: xhat = (x - mean) * istd; dgamma += sum(dy * xhat); dbeta += sum(dy);
//   dx = gamma * istd / M * (M * dy - sum(dy) - xhat * sum(dy * xhat)).
// Eval: mean/var are constants -> dx = gamma * istd * dy.
// With the fused ReLU, dy is first replaced by dy * (y > 0).
void BatchNorm2d::backward_loops(const Tensor& x, const Tensor& y, const Tensor& dy, Tensor& dx) {
  const int n = x.n(), hw = x.h() * x.w(), s = x.elem_stride();
  const bool train = last_mode_ == Mode::train;
  const double m = double(n) * hw;
#pragma omp parallel for schedule(static)
  for (int c = 0; c < c_; ++c) {
    const float mu = train ? mean_[c] : rmean_[c];
    const float istd = 1.f / std::sqrt((train ? var_[c] : rvar_[c]) + kEps);
    double sdy = 0.0, sdyx = 0.0;
    for (int i = 0; i < n; ++i) {
      const float* p = x.data() + x.plane_offset(i, c);
      const float* g = dy.data() + dy.plane_offset(i, c);
      const float* o = y.data() + y.plane_offset(i, c);
      for (int k = 0; k < hw; ++k) {
        const float gk = relu_ ? pass_if_positive(o[size_t(k) * s], g[size_t(k) * s]) : g[size_t(k) * s];
        sdy += gk;
        sdyx += double(gk) * (p[size_t(k) * s] - mu) * istd;
      }
    }
    dgamma_[c] += float(sdyx);
    dbeta_[c] += float(sdy);
    if (dx.empty()) continue;
    const float a = gamma_[c] * istd;
    const float mean_dy = train ? float(sdy / m) : 0.f, mean_dyx = train ? float(sdyx / m) : 0.f;
    for (int i = 0; i < n; ++i) {
      const float* p = x.data() + x.plane_offset(i, c);
      const float* g = dy.data() + dy.plane_offset(i, c);
      const float* o = y.data() + y.plane_offset(i, c);
      float* d = dx.data() + dx.plane_offset(i, c);
      for (int k = 0; k < hw; ++k) {
        const float gk = relu_ ? pass_if_positive(o[size_t(k) * s], g[size_t(k) * s]) : g[size_t(k) * s];
        const float xh = (p[size_t(k) * s] - mu) * istd;
        d[size_t(k) * s] = a * (gk - mean_dy - xh * mean_dyx);
      }
    }
  }
}

}  // namespace signvote::nn
