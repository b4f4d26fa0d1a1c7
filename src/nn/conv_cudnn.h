// cuDNN convolution backend ("cudnn"): the CUDA twin of the eigen/dnnl
// ConvImpls, used by every conv of a cuda model. Device tensors in the
// context's layout: NCHW, or NHWC (model.layout: nhwc) with the filter
// handed to cuDNN as a KRSC copy of the OIHW parameters (conv_cudnn.cpp).
// Forward, backward-data and backward-filter algorithms are chosen once per
// input shape (N, H, W) by cudnnFind* (measured, as PyTorch's
// cudnn.benchmark = True), keeping the fastest DETERMINISTIC algorithm whose
// workspace fits CudaContext::workspace_limit; details() names them.
// Math: fp32 allows only FMA (no tensor-core) algorithms, tf32 allows TF32.
#pragma once

#include "conv_backend.h"

#include <map>
#include <memory>
#include <string>
#include <tuple>

namespace signvote::nn {

struct CudaContext;

class CudnnConv final : public ConvImpl {
 public:
  CudnnConv(const ConvGeom& g, std::shared_ptr<CudaContext> ctx);
  ~CudnnConv() override;
  const char* name() const override { return "cudnn"; }
  Layout output_layout(Layout in) const override;
  void forward(const Tensor& x, const float* w, Tensor& y) override;
  void backward(const Tensor& x, const float* w, const Tensor& dy, float* dw, Tensor& dx) override;
  std::string details() const override;

 private:
  struct Plan;  // algorithms + workspace for one (N, H, W)
  struct Descs;  // cuDNN descriptors
  const Plan& plan_for(const Tensor& x);
  bool nhwc() const;
  // The filter in the descriptor's order: w itself (nchw) or its KRSC copy
  // in the context's filter scratch (nhwc).
  const float* filter_for(const float* w);
  ConvGeom g_;
  std::shared_ptr<CudaContext> ctx_;
  std::unique_ptr<Descs> d_;
  std::map<std::tuple<int, int, int>, std::unique_ptr<Plan>> plans_;
  const Plan* last_ = nullptr;
};

}  // namespace signvote::nn
