// Numerically stable softmax cross-entropy (log-sum-exp in double).
#include "softmax_xent.h"

#include "common.h"

#include <cmath>

namespace signvote::nn {

LossResult SoftmaxCrossEntropy::forward(const Tensor& logits, const int* labels) {
  require(logits.h() == 1 && logits.w() == 1 && logits.layout() == Layout::nchw,
          "SoftmaxCrossEntropy: logits must be (N, K, 1, 1) nchw");
  n_ = logits.n();
  k_ = logits.c();
  prob_.resize(size_t(n_) * k_);
  labels_.assign(labels, labels + n_);
  LossResult r;
  for (int i = 0; i < n_; ++i) {
    const int y = labels[i];
    require(y >= 0 && y < k_, "SoftmaxCrossEntropy: label " + std::to_string(y) +
                                  " outside [0, " + std::to_string(k_) + ")");
    const float* z = logits.data() + size_t(i) * k_;
    int best = 0;
    for (int j = 1; j < k_; ++j)
      if (z[j] > z[best]) best = j;
    double sum = 0.0;
    for (int j = 0; j < k_; ++j) sum += std::exp(double(z[j]) - z[best]);
    const double lse = z[best] + std::log(sum);
    for (int j = 0; j < k_; ++j) prob_[size_t(i) * k_ + j] = float(std::exp(double(z[j]) - lse));
    r.loss_sum += lse - z[y];
    r.correct += best == y ? 1 : 0;
  }
  r.loss_mean = n_ > 0 ? r.loss_sum / n_ : 0.0;
  return r;
}

void SoftmaxCrossEntropy::backward(Tensor& dlogits) const {
  require(dlogits.n() == n_ && dlogits.c() == k_, "SoftmaxCrossEntropy::backward: bad shape");
  const float inv_n = 1.f / float(n_);
  for (int i = 0; i < n_; ++i)
    for (int j = 0; j < k_; ++j)
      dlogits.data()[size_t(i) * k_ + j] =
          (prob_[size_t(i) * k_ + j] - (j == labels_[i] ? 1.f : 0.f)) * inv_n;
}

}  // namespace signvote::nn
