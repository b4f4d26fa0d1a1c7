// The fp32 baselines' per-coordinate update rules, ONE definition shared by
// the host optimizer (src/worker/optimizer.cpp) and its CUDA twin
// (dense_kernels_cuda.cu). Each op is separately rounded (fmul/fadd/fsub of
// sign_layout.h), so host and device give the same floats up to sqrt/div.
#pragma once

#include "signvote/sign_layout.h"

#ifndef __CUDA_ARCH__
#include <cmath>
#endif

namespace signvote::kernels {

// Scalars of one step, computed once on the host.
struct DenseStep {
  float lr = 0, wd = 0, mu = 0;  // mu: SGD heavy-ball momentum / Adam beta1
  float b2 = 0, eps = 0;         // Adam
  float adam_a = 0;              // Adam: lr * sqrt(1 - b2^t) / (1 - mu^t)
  float grad_scale = 1;          // g is multiplied by this first (1/W after a sum)
  float lr_wd = 0;               // AdamW's decoupled decay: x -= (lr wd) x first (then wd = 0)
  bool nesterov = false;         // SGD: x -= lr (d + mu b) instead of lr b
};

// SGD, heavy ball, coupled weight decay (PyTorch): d = g + wd x; b = mu b + d;
// x -= lr b, or with Nesterov (PyTorch's nesterov=True) x -= lr (d + mu b).
SV_HD SV_INLINE void sgd_update(float& x, float& m, float g, const DenseStep& s) {
  g = fmul(g, s.grad_scale);
  const float d = fadd(g, fmul(s.wd, x));
  m = fadd(fmul(s.mu, m), d);
  x = fsub(x, fmul(s.lr, s.nesterov ? fadd(d, fmul(s.mu, m)) : m));
}

// Adam, coupled weight decay (wd), bias correction folded into adam_a; AdamW
// (Loshchilov & Hutter, PyTorch's AdamW): lr_wd = lr wd decays x first, wd = 0.
SV_HD SV_INLINE void adam_update(float& x, float& m, float& v, float g, const DenseStep& s) {
  g = fmul(g, s.grad_scale);
  if (s.lr_wd != 0.0f) x = fsub(x, fmul(s.lr_wd, x));
  const float d = fadd(g, fmul(s.wd, x));
  m = fadd(fmul(s.mu, m), fmul(fsub(1.0f, s.mu), d));
  v = fadd(fmul(s.b2, v), fmul(fsub(1.0f, s.b2), fmul(d, d)));
#ifdef __CUDA_ARCH__
  const float root = __fsqrt_rn(v);
  x = fsub(x, __fdiv_rn(fmul(s.adam_a, m), fadd(root, s.eps)));
#else
  x = fsub(x, fmul(s.adam_a, m) / fadd(std::sqrt(v), s.eps));
#endif
}

}  // namespace signvote::kernels
