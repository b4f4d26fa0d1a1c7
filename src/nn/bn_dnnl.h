// oneDNN batch normalisation primitives for BatchNorm2d (nchw or a blocked layout).
// Scale/shift/mean/variance are plain float[C] arrays passed by pointer,
// so gamma/beta are used in place inside the model's flat params buffer.
#pragma once

#ifdef SIGNVOTE_HAVE_DNNL
#include "dnnl_util.h"

#include <map>
#include <memory>
#include <tuple>

namespace signvote::nn {

class DnnlBatchNorm {
 public:
  // fuse_relu: oneDNN's fuse_norm_relu (the train forward keeps a ReLU
  // mask workspace per input shape for the backward).
  DnnlBatchNorm(int channels, float eps, bool fuse_relu, std::shared_ptr<DnnlContext> ctx);
  ~DnnlBatchNorm();
  // Train: y = gamma * (x - mean) / sqrt(var + eps) + beta; writes the batch
  // mean and biased variance (C each).
  void forward_train(const Tensor& x, const float* gamma, const float* beta, Tensor& y,
                     float* mean, float* var);
  void forward_eval(const Tensor& x, const float* gamma, const float* beta, const float* rmean,
                    const float* rvar, Tensor& y);
  // Train-mode backward. dgamma/dbeta are OVERWRITTEN (C each).
  // oneDNN 2.6 validates that the shift (beta) argument is present too.
  void backward(const Tensor& x, const Tensor& dy, const float* gamma, const float* beta,
                const float* mean, const float* var, Tensor& dx, float* dgamma, float* dbeta);

 private:
  struct Prims;
  using Key = std::tuple<int, int, int, int>;  // N, H, W, layout
  Prims& prims_for(const Tensor& x);

  int c_;
  float eps_;
  bool relu_;
  std::shared_ptr<DnnlContext> ctx_;
  std::map<Key, std::unique_ptr<Prims>> cache_;
};

}  // namespace signvote::nn
#else
namespace signvote::nn {
// Built without oneDNN: BatchNorm2d's pointer to one stays null; the empty
// type only completes std::unique_ptr's destructor.
class DnnlBatchNorm {};
}  // namespace signvote::nn
#endif  // SIGNVOTE_HAVE_DNNL
