// Helpers for the signvote_nn tests: random data, float<->double tensor
// conversion, error measures and a central-difference gradient checker.
#pragma once

#include "common.h"
#include "conv_backend.h"
#include "reference_ops.h"
#include "signvote/tensor.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <random>
#include <vector>

namespace signvote::nn::testing {

using ref::DT;

inline DT random_dt(Shape s, std::mt19937_64& rng, double scale = 1.0) {
  std::normal_distribution<double> nd(0.0, scale);
  DT t(s);
  for (auto& v : t.v) v = double(float(nd(rng)));  // representable in float
  return t;
}

inline std::vector<double> random_vec(size_t n, std::mt19937_64& rng, double mean, double scale) {
  std::normal_distribution<double> nd(mean, scale);
  std::vector<double> v(n);
  for (auto& x : v) x = double(float(nd(rng)));
  return v;
}

inline Tensor to_tensor(const DT& d, Layout l = Layout::nchw) {
  Tensor plain(d.s);
  for (size_t i = 0; i < d.v.size(); ++i) plain.data()[i] = float(d.v[i]);
  if (l == Layout::nchw) return plain;
  Tensor t(d.s, l);
  t.copy_from(plain);
  return t;
}

inline DT to_dt(const Tensor& t) {
  DT d(t.shape());
  for (int n = 0; n < t.n(); ++n)
    for (int c = 0; c < t.c(); ++c)
      for (int h = 0; h < t.h(); ++h)
        for (int w = 0; w < t.w(); ++w) d.at(n, c, h, w) = t.at(n, c, h, w);
  return d;
}

inline std::vector<float> to_f(const std::vector<double>& v) { return {v.begin(), v.end()}; }

// max |a - b| / max |b|  (relative to the reference's scale).
inline double rel_err(const std::vector<double>& a, const std::vector<double>& b) {
  double num = 0.0, den = 1e-30;
  for (size_t i = 0; i < b.size(); ++i) {
    num = std::max(num, std::abs(a[i] - b[i]));
    den = std::max(den, std::abs(b[i]));
  }
  return a.size() == b.size() ? num / den : 1e30;
}
inline double rel_err(const DT& a, const DT& b) { return rel_err(a.v, b.v); }
inline double rel_err(const std::vector<float>& a, const std::vector<double>& b) {
  return rel_err(std::vector<double>(a.begin(), a.end()), b);
}

// Central difference of f() w.r.t. `var` (restored afterwards).
inline double numeric_grad(double& var, const std::function<double()>& f, double eps = 1e-6) {
  const double old = var;
  var = old + eps;
  const double up = f();
  var = old - eps;
  const double down = f();
  var = old;
  return (up - down) / (2 * eps);
}

// Compares analytic gradient `grad` of f w.r.t. `vars` with central
// differences, skipping coordinates where skip(i) is true. Returns the
// number of coordinates checked; fails the surrounding test via the
// returned worst error (abs error / (1 + |numeric|)).
struct GradCheck {
  int checked = 0;
  double worst = 0.0;
};
inline GradCheck grad_check(std::vector<double>& vars, const std::vector<double>& grad,
                            const std::function<double()>& f,
                            const std::function<bool(size_t)>& skip = nullptr) {
  GradCheck r;
  for (size_t i = 0; i < vars.size(); ++i) {
    if (skip && skip(i)) continue;
    const double num = numeric_grad(vars[i], f);
    r.worst = std::max(r.worst, std::abs(num - grad[i]) / (1.0 + std::abs(num)));
    r.checked++;
  }
  return r;
}

// Sum of y * r: the scalar loss whose gradient w.r.t. y is r.
inline double dot(const DT& y, const DT& r) {
  double s = 0.0;
  for (size_t i = 0; i < y.v.size(); ++i) s += y.v[i] * r.v[i];
  return s;
}

inline NnContext eigen_ctx(int threads = 1) {
  NnContext c;
  c.threads = threads;
  return c;
}
inline bool have_dnnl() { return conv_backend_available("dnnl"); }
inline NnContext dnnl_ctx(int threads = 1) {
  NnContext c = eigen_ctx(threads);
  c.dnnl = make_dnnl_context();
  return c;
}
// Context a conv backend needs (oneDNN engine for dnnl / dnnl_wino).
inline NnContext ctx_for(const std::string& backend) {
  return backend.starts_with("dnnl") ? dnnl_ctx() : eigen_ctx();
}

}  // namespace signvote::nn::testing
