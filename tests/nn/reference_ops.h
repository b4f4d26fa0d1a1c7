// Double-precision reference layers for the gradient checks: plain loops
// over NCHW, forward and analytic backward. They are gradchecked against
// central differences (reference_ops gradcheck tests) and the float layers
// are then compared against them.
#pragma once

#include "conv_backend.h"  // ConvGeom
#include "signvote/tensor.h"

#include <vector>

namespace signvote::nn::ref {

struct DT {  // dense double tensor, NCHW
  Shape s;
  std::vector<double> v;
  DT() = default;
  explicit DT(Shape shape) : s(shape), v(shape.numel(), 0.0) {}
  double& at(int n, int c, int h, int w) { return v[((size_t(n) * s.c + c) * s.h + h) * s.w + w]; }
  double at(int n, int c, int h, int w) const {
    return v[((size_t(n) * s.c + c) * s.h + h) * s.w + w];
  }
};

DT conv_fwd(const DT& x, const std::vector<double>& w, const ConvGeom& g);
// Overwrites dx and dw.
void conv_bwd(const DT& x, const std::vector<double>& w, const ConvGeom& g, const DT& dy, DT& dx,
              std::vector<double>& dw);

// Train-mode batch norm (batch stats, biased variance).
DT bn_fwd(const DT& x, const std::vector<double>& gamma, const std::vector<double>& beta, double eps);
void bn_bwd(const DT& x, const std::vector<double>& gamma, double eps, const DT& dy, DT& dx,
            std::vector<double>& dgamma, std::vector<double>& dbeta);

DT relu_fwd(const DT& x);
DT relu_bwd(const DT& x, const DT& dy);

DT maxpool_fwd(const DT& x, int k, int s, int p);
DT maxpool_bwd(const DT& x, int k, int s, int p, const DT& dy);
// Smallest gap between the largest and second-largest value of any window
// containing x(n,c,h,w) (+inf when it is in no multi-element window).
double maxpool_tie_gap(const DT& x, int k, int s, int p, int n, int c, int h, int w);

DT avgpool_fwd(const DT& x);
DT avgpool_bwd(const DT& x, const DT& dy);

// x: (N, in, 1, 1); w: (out, in); b: (out).
DT linear_fwd(const DT& x, const std::vector<double>& w, const std::vector<double>& b, int out);
void linear_bwd(const DT& x, const std::vector<double>& w, int out, const DT& dy, DT& dx,
                std::vector<double>& dw, std::vector<double>& db);

// Mean softmax cross-entropy over the batch and its gradient.
double xent_fwd(const DT& logits, const std::vector<int>& labels);
DT xent_bwd(const DT& logits, const std::vector<int>& labels);

}  // namespace signvote::nn::ref
