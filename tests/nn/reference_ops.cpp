// Double-precision reference layers (see reference_ops.h).
#include "reference_ops.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace signvote::nn::ref {

DT conv_fwd(const DT& x, const std::vector<double>& w, const ConvGeom& g) {
  DT y({x.s.n, g.oc, g.out_h(x.s.h), g.out_w(x.s.w)});
  for (int n = 0; n < y.s.n; ++n)
    for (int o = 0; o < g.oc; ++o)
      for (int oy = 0; oy < y.s.h; ++oy)
        for (int ox = 0; ox < y.s.w; ++ox) {
          double acc = 0.0;
          for (int i = 0; i < g.ic; ++i)
            for (int r = 0; r < g.kh; ++r)
              for (int q = 0; q < g.kw; ++q) {
                const int iy = oy * g.sh - g.ph + r, ix = ox * g.sw - g.pw + q;
                if (iy < 0 || iy >= x.s.h || ix < 0 || ix >= x.s.w) continue;
                acc += x.at(n, i, iy, ix) * w[((size_t(o) * g.ic + i) * g.kh + r) * g.kw + q];
              }
          y.at(n, o, oy, ox) = acc;
        }
  return y;
}

void conv_bwd(const DT& x, const std::vector<double>& w, const ConvGeom& g, const DT& dy, DT& dx,
              std::vector<double>& dw) {
  dx = DT(x.s);
  dw.assign(w.size(), 0.0);
  for (int n = 0; n < dy.s.n; ++n)
    for (int o = 0; o < g.oc; ++o)
      for (int oy = 0; oy < dy.s.h; ++oy)
        for (int ox = 0; ox < dy.s.w; ++ox) {
          const double gy = dy.at(n, o, oy, ox);
          for (int i = 0; i < g.ic; ++i)
            for (int r = 0; r < g.kh; ++r)
              for (int q = 0; q < g.kw; ++q) {
                const int iy = oy * g.sh - g.ph + r, ix = ox * g.sw - g.pw + q;
                if (iy < 0 || iy >= x.s.h || ix < 0 || ix >= x.s.w) continue;
                const size_t wi = ((size_t(o) * g.ic + i) * g.kh + r) * g.kw + q;
                dx.at(n, i, iy, ix) += gy * w[wi];
                dw[wi] += gy * x.at(n, i, iy, ix);
              }
        }
}

namespace {
// Per-channel batch mean and biased variance.
void channel_stats(const DT& x, int c, double& mean, double& var) {
  double s = 0.0, q = 0.0;
  const double m = double(x.s.n) * x.s.h * x.s.w;
  for (int n = 0; n < x.s.n; ++n)
    for (int h = 0; h < x.s.h; ++h)
      for (int w = 0; w < x.s.w; ++w) s += x.at(n, c, h, w);
  mean = s / m;
  for (int n = 0; n < x.s.n; ++n)
    for (int h = 0; h < x.s.h; ++h)
      for (int w = 0; w < x.s.w; ++w) q += (x.at(n, c, h, w) - mean) * (x.at(n, c, h, w) - mean);
  var = q / m;
}
}  // namespace

DT bn_fwd(const DT& x, const std::vector<double>& gamma, const std::vector<double>& beta, double eps) {
  DT y(x.s);
  for (int c = 0; c < x.s.c; ++c) {
    double mean, var;
    channel_stats(x, c, mean, var);
    for (int n = 0; n < x.s.n; ++n)
      for (int h = 0; h < x.s.h; ++h)
        for (int w = 0; w < x.s.w; ++w)
          y.at(n, c, h, w) = gamma[c] * (x.at(n, c, h, w) - mean) / std::sqrt(var + eps) + beta[c];
  }
  return y;
}

void bn_bwd(const DT& x, const std::vector<double>& gamma, double eps, const DT& dy, DT& dx,
            std::vector<double>& dgamma, std::vector<double>& dbeta) {
  dx = DT(x.s);
  dgamma.assign(x.s.c, 0.0);
  dbeta.assign(x.s.c, 0.0);
  const double m = double(x.s.n) * x.s.h * x.s.w;
  for (int c = 0; c < x.s.c; ++c) {
    double mean, var;
    channel_stats(x, c, mean, var);
    const double istd = 1.0 / std::sqrt(var + eps);
    for (int n = 0; n < x.s.n; ++n)
      for (int h = 0; h < x.s.h; ++h)
        for (int w = 0; w < x.s.w; ++w) {
          dbeta[c] += dy.at(n, c, h, w);
          dgamma[c] += dy.at(n, c, h, w) * (x.at(n, c, h, w) - mean) * istd;
        }
    for (int n = 0; n < x.s.n; ++n)
      for (int h = 0; h < x.s.h; ++h)
        for (int w = 0; w < x.s.w; ++w) {
          const double xh = (x.at(n, c, h, w) - mean) * istd;
          dx.at(n, c, h, w) =
              gamma[c] * istd * (dy.at(n, c, h, w) - dbeta[c] / m - xh * dgamma[c] / m);
        }
  }
}

DT relu_fwd(const DT& x) {
  DT y(x.s);
  for (size_t i = 0; i < x.v.size(); ++i) y.v[i] = std::max(x.v[i], 0.0);
  return y;
}

DT relu_bwd(const DT& x, const DT& dy) {
  DT dx(x.s);
  for (size_t i = 0; i < x.v.size(); ++i) dx.v[i] = x.v[i] > 0.0 ? dy.v[i] : 0.0;
  return dx;
}

namespace {
// Visits every element of window (oy, ox) inside the image.
template <class F>
void for_window(const DT& x, int k, int s, int p, int oy, int ox, F&& f) {
  for (int r = 0; r < k; ++r)
    for (int q = 0; q < k; ++q) {
      const int iy = oy * s - p + r, ix = ox * s - p + q;
      if (iy >= 0 && iy < x.s.h && ix >= 0 && ix < x.s.w) f(iy, ix);
    }
}
int pool_out(int in, int k, int s, int p) { return (in + 2 * p - k) / s + 1; }
}  // namespace

DT maxpool_fwd(const DT& x, int k, int s, int p) {
  DT y({x.s.n, x.s.c, pool_out(x.s.h, k, s, p), pool_out(x.s.w, k, s, p)});
  for (int n = 0; n < x.s.n; ++n)
    for (int c = 0; c < x.s.c; ++c)
      for (int oy = 0; oy < y.s.h; ++oy)
        for (int ox = 0; ox < y.s.w; ++ox) {
          double best = -std::numeric_limits<double>::infinity();
          for_window(x, k, s, p, oy, ox, [&](int iy, int ix) { best = std::max(best, x.at(n, c, iy, ix)); });
          y.at(n, c, oy, ox) = best;
        }
  return y;
}

DT maxpool_bwd(const DT& x, int k, int s, int p, const DT& dy) {
  DT dx(x.s);
  for (int n = 0; n < x.s.n; ++n)
    for (int c = 0; c < x.s.c; ++c)
      for (int oy = 0; oy < dy.s.h; ++oy)
        for (int ox = 0; ox < dy.s.w; ++ox) {
          int by = -1, bx = -1;
          for_window(x, k, s, p, oy, ox, [&](int iy, int ix) {
            if (by < 0 || x.at(n, c, iy, ix) > x.at(n, c, by, bx)) by = iy, bx = ix;
          });
          dx.at(n, c, by, bx) += dy.at(n, c, oy, ox);
        }
  return dx;
}

double maxpool_tie_gap(const DT& x, int k, int s, int p, int n, int c, int h, int w) {
  double gap = std::numeric_limits<double>::infinity();
  const int oh = pool_out(x.s.h, k, s, p), ow = pool_out(x.s.w, k, s, p);
  for (int oy = 0; oy < oh; ++oy)
    for (int ox = 0; ox < ow; ++ox) {
      bool contains = false;
      std::vector<double> vals;
      for_window(x, k, s, p, oy, ox, [&](int iy, int ix) {
        contains |= (iy == h && ix == w);
        vals.push_back(x.at(n, c, iy, ix));
      });
      if (!contains || vals.size() < 2) continue;
      std::sort(vals.rbegin(), vals.rend());
      gap = std::min(gap, vals[0] - vals[1]);
    }
  return gap;
}

DT avgpool_fwd(const DT& x) {
  DT y({x.s.n, x.s.c, 1, 1});
  for (int n = 0; n < x.s.n; ++n)
    for (int c = 0; c < x.s.c; ++c) {
      double s = 0.0;
      for (int h = 0; h < x.s.h; ++h)
        for (int w = 0; w < x.s.w; ++w) s += x.at(n, c, h, w);
      y.at(n, c, 0, 0) = s / (x.s.h * x.s.w);
    }
  return y;
}

DT avgpool_bwd(const DT& x, const DT& dy) {
  DT dx(x.s);
  for (int n = 0; n < x.s.n; ++n)
    for (int c = 0; c < x.s.c; ++c)
      for (int h = 0; h < x.s.h; ++h)
        for (int w = 0; w < x.s.w; ++w) dx.at(n, c, h, w) = dy.at(n, c, 0, 0) / (x.s.h * x.s.w);
  return dx;
}

DT linear_fwd(const DT& x, const std::vector<double>& w, const std::vector<double>& b, int out) {
  const int in = x.s.c;
  DT y({x.s.n, out, 1, 1});
  for (int n = 0; n < x.s.n; ++n)
    for (int o = 0; o < out; ++o) {
      double acc = b[o];
      for (int i = 0; i < in; ++i) acc += w[size_t(o) * in + i] * x.v[size_t(n) * in + i];
      y.v[size_t(n) * out + o] = acc;
    }
  return y;
}

void linear_bwd(const DT& x, const std::vector<double>& w, int out, const DT& dy, DT& dx,
                std::vector<double>& dw, std::vector<double>& db) {
  const int in = x.s.c;
  dx = DT(x.s);
  dw.assign(w.size(), 0.0);
  db.assign(out, 0.0);
  for (int n = 0; n < x.s.n; ++n)
    for (int o = 0; o < out; ++o) {
      const double g = dy.v[size_t(n) * out + o];
      db[o] += g;
      for (int i = 0; i < in; ++i) {
        dw[size_t(o) * in + i] += g * x.v[size_t(n) * in + i];
        dx.v[size_t(n) * in + i] += g * w[size_t(o) * in + i];
      }
    }
}

double xent_fwd(const DT& logits, const std::vector<int>& labels) {
  const int n = logits.s.n, k = logits.s.c;
  double total = 0.0;
  for (int i = 0; i < n; ++i) {
    double s = 0.0;
    for (int j = 0; j < k; ++j) s += std::exp(logits.v[size_t(i) * k + j]);
    total += std::log(s) - logits.v[size_t(i) * k + labels[i]];
  }
  return total / n;
}

DT xent_bwd(const DT& logits, const std::vector<int>& labels) {
  const int n = logits.s.n, k = logits.s.c;
  DT d(logits.s);
  for (int i = 0; i < n; ++i) {
    double s = 0.0;
    for (int j = 0; j < k; ++j) s += std::exp(logits.v[size_t(i) * k + j]);
    for (int j = 0; j < k; ++j)
      d.v[size_t(i) * k + j] = (std::exp(logits.v[size_t(i) * k + j]) / s - (j == labels[i])) / n;
  }
  return d;
}

}  // namespace signvote::nn::ref
