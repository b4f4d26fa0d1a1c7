// Softmax cross-entropy, mean over the batch (PyTorch F.cross_entropy).
// forward(logits (N, K, 1, 1) nchw, labels[N]) -> mean loss, loss sum and
// number of correct argmax predictions; backward writes
// dlogits = (softmax(logits) - onehot(label)) / N.
#pragma once

#include "signvote/tensor.h"

#include <vector>

namespace signvote::nn {

struct LossResult {
  double loss_mean = 0.0;
  double loss_sum = 0.0;
  int correct = 0;
};

class SoftmaxCrossEntropy {
 public:
  // Throws std::invalid_argument for a label outside [0, K).
  LossResult forward(const Tensor& logits, const int* labels);
  // Gradient of the MEAN loss of the last forward (overwrites dlogits).
  void backward(Tensor& dlogits) const;

 private:
  std::vector<float> prob_;  // softmax of the last forward, (N, K)
  std::vector<int> labels_;
  int n_ = 0, k_ = 0;
};

}  // namespace signvote::nn
