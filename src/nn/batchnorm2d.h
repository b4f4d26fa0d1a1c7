// BatchNorm2d with PyTorch semantics: train mode normalises with the batch
// mean and biased variance over (N, H, W) and updates running stats as
//   running = (1 - momentum) * running + momentum * batch_stat,
// using the UNBIASED batch variance (M / (M - 1)) for running_var, M = N*H*W.
// Eval mode uses the running stats. momentum 0.1, eps 1e-5.
// Parameters: "weight" (gamma, C), "bias" (beta, C).
// Buffers: "running_mean" (C, init 0), "running_var" (C, init 1).
// Works on nchw and nChw16c. With a oneDNN context the train/eval forward
// and the train backward run as oneDNN primitives; otherwise plain loops.
// fuse_relu = true makes the layer compute relu(bn(x)) in the same pass
// (one memory sweep less each way); backward then masks dy with y > 0.
#pragma once

#include "common.h"
#include "signvote/layer.h"

#include <memory>
#include <vector>

namespace signvote::nn {

class DnnlBatchNorm;

class BatchNorm2d final : public Layer {
 public:
  static constexpr float kEps = 1e-5f;
  static constexpr float kMomentum = 0.1f;

  BatchNorm2d(int channels, const NnContext& ctx, bool fuse_relu = false);
  ~BatchNorm2d() override;
  LayerKind kind() const override { return LayerKind::bn; }
  Shape output_shape(const Shape& in) const override;
  void forward(const Tensor& x, Tensor& y, Mode mode) override;
  void backward(const Tensor& x, const Tensor& y, const Tensor& dy, Tensor& dx) override;
  std::vector<ParamDecl> param_decls() const override;
  void bind_params(float* params, float* grads) override;
  std::vector<ParamDecl> buffer_decls() const override;
  void bind_buffers(float* buffers) override;
  void init_params(std::mt19937_64& rng) override;  // init_values
  // gamma = 1, beta = 0, running_mean = 0, running_var = 1 (C each); shared
  // with the CUDA twin (batchnorm2d_cuda.h).
  static void init_values(float* gamma, float* beta, float* rmean, float* rvar, int channels);
  std::string describe() const override;

 private:
  void forward_train_loops(const Tensor& x, Tensor& y);
  void forward_eval_loops(const Tensor& x, Tensor& y);
  void backward_loops(const Tensor& x, const Tensor& y, const Tensor& dy, Tensor& dx);
  void update_running(size_t m);  // from mean_/var_ of the last train forward

  int c_;
  bool relu_;
  float *gamma_ = nullptr, *beta_ = nullptr, *dgamma_ = nullptr, *dbeta_ = nullptr;
  float *rmean_ = nullptr, *rvar_ = nullptr;
  std::vector<float> mean_, var_;  // batch stats of the last train forward (biased var)
  std::vector<float> tmp_;         // 2*C scratch for oneDNN diff scale/shift
  Mode last_mode_ = Mode::train;
  std::unique_ptr<DnnlBatchNorm> dnnl_;
};

}  // namespace signvote::nn
