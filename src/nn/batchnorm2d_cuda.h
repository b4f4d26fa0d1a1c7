// CudaBatchNorm2d: the CUDA twin of BatchNorm2d (batchnorm2d.h), same
// semantics and parameter/buffer order: cuDNN spatial batch norm with
// exponentialAverageFactor = momentum 0.1 and eps 1e-5, which updates the
// running variance with the unbiased batch variance as the CPU layer does.
// NCHW or NHWC tensors (the context's layout), CUDNN_BATCHNORM_SPATIAL in
// both (see batchnorm2d_cuda.cpp for why not the persistent mode).
// fuse_relu applies ReLU in place after the normalisation and masks dy
// with y > 0 before cuDNN's backward. backward() needs a train-mode
// forward before it (it uses that pass's saved batch statistics).
#pragma once

#include "common.h"
#include "signvote/layer.h"

#include <cudnn.h>

#include <memory>

namespace signvote::nn {

struct CudaContext;

class CudaBatchNorm2d final : public Layer {
 public:
  CudaBatchNorm2d(int channels, std::shared_ptr<CudaContext> ctx, bool fuse_relu);
  ~CudaBatchNorm2d() override;
  LayerKind kind() const override { return LayerKind::bn; }
  Shape output_shape(const Shape& in) const override;
  void forward(const Tensor& x, Tensor& y, Mode mode) override;
  void backward(const Tensor& x, const Tensor& y, const Tensor& dy, Tensor& dx) override;
  std::vector<ParamDecl> param_decls() const override;
  void bind_params(float* params, float* grads) override;
  std::vector<ParamDecl> buffer_decls() const override;
  void bind_buffers(float* buffers) override;
  void init_params(std::mt19937_64& rng) override;  // on host-bound memory, as the CPU twin
  std::string describe() const override;

 private:
  struct Descs;
  void set_shape(const Tensor& x);
  cudnnBatchNormMode_t train_mode() const;  // forward-training and backward
  Tensor& scratch(const Tensor& like);  // masked dy / unused dx, grown on demand
  int c_;
  bool relu_;
  std::shared_ptr<CudaContext> ctx_;
  std::unique_ptr<Descs> d_;
  float *gamma_ = nullptr, *beta_ = nullptr, *dgamma_ = nullptr, *dbeta_ = nullptr;
  float *rmean_ = nullptr, *rvar_ = nullptr;
  Tensor save_mean_, save_inv_std_;  // (C,) of the last train forward
  Tensor mask_, spare_;
  Mode last_mode_ = Mode::eval;
};

}  // namespace signvote::nn
