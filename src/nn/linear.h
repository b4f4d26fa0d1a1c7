// Linear: y = x W^T + b. x: (N, in, 1, 1) nchw (use Flatten first for
// feature maps); y: (N, out, 1, 1). Parameters: "weight" (out, in) row-major
// as PyTorch, then "bias" (out).
// Init: Kaiming normal, fan_in mode: std = gain / sqrt(in), bias 0. gain is
// 1 for a classifier head and sqrt(2) for hidden layers followed by ReLU.
#pragma once

#include "signvote/layer.h"

#include <memory>

namespace signvote::nn {

struct CudaContext;

class Linear final : public Layer {
 public:
  Linear(int in_features, int out_features, double init_gain = 1.0);
  LayerKind kind() const override { return LayerKind::linear; }
  Shape output_shape(const Shape& in) const override;
  void forward(const Tensor& x, Tensor& y, Mode mode) override;
  void backward(const Tensor& x, const Tensor& y, const Tensor& dy, Tensor& dx) override;
  std::vector<ParamDecl> param_decls() const override;
  void bind_params(float* params, float* grads) override;
  void init_params(std::mt19937_64& rng) override;
  std::string describe() const override;

 private:
  int in_, out_;
  double gain_;
  float *w_ = nullptr, *b_ = nullptr, *dw_ = nullptr, *db_ = nullptr;
};

// CUDA twin (linear_cuda.cpp): cuBLAS SGEMMs on the row-major (N, in) x
// (out, in) layout of the CPU layer, bias by kernels; same init.
class CudaLinear final : public Layer {
 public:
  CudaLinear(int in_features, int out_features, double init_gain, std::shared_ptr<CudaContext> ctx);
  LayerKind kind() const override { return LayerKind::linear; }
  Shape output_shape(const Shape& in) const override { return cpu_.output_shape(in); }
  void forward(const Tensor& x, Tensor& y, Mode mode) override;
  void backward(const Tensor& x, const Tensor& y, const Tensor& dy, Tensor& dx) override;
  std::vector<ParamDecl> param_decls() const override { return cpu_.param_decls(); }
  void bind_params(float* params, float* grads) override;
  void init_params(std::mt19937_64& rng) override { cpu_.init_params(rng); }  // host-bound at init
  std::string describe() const override { return cpu_.describe() + " [cublas]"; }

 private:
  Linear cpu_;  // geometry, parameter order and init (bound to the same memory)
  int in_, out_;
  std::shared_ptr<CudaContext> ctx_;
  float *w_ = nullptr, *b_ = nullptr, *dw_ = nullptr, *db_ = nullptr;
};

}  // namespace signvote::nn
