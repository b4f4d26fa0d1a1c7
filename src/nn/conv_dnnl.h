// oneDNN convolution backend. Activations stay in oneDNN's blocked
// nChw16c layout between layers (no per-call activation reorders); the
// input may also be plain nchw (the stem conv on the images). Weights live
// OIHW in the model's flat buffer and are reordered into the kernel's
// blocked format once per forward (and once per backward-data); weight
// gradients are reordered back and ACCUMULATED with a sum post-op.
// Primitives are created once per input shape and cached.
//
// Two backend names share this class: "dnnl" (direct convolution, the
// algorithm PyTorch's oneDNN path uses) and "dnnl_wino" (Winograd
// F(4x4, 3x3) for 3x3 stride-1 convs where oneDNN implements it, direct
// for the rest; ~1.4x faster on ResNet-18; max-relative error vs a double
// reference ~2e-6 instead of ~3e-7 for direct at 256 channels).
#pragma once

#ifdef SIGNVOTE_HAVE_DNNL
#include "conv_backend.h"
#include "dnnl_util.h"

#include <map>
#include <memory>
#include <tuple>

namespace signvote::nn {

class DnnlConv final : public ConvImpl {
 public:
  DnnlConv(const ConvGeom& g, std::shared_ptr<DnnlContext> ctx, bool winograd);
  ~DnnlConv() override;
  const char* name() const override { return winograd_ ? "dnnl_wino" : "dnnl"; }
  Layout output_layout(Layout) const override { return ctx_->blocked; }
  void forward(const Tensor& x, const float* w, Tensor& y) override;
  void backward(const Tensor& x, const float* w, const Tensor& dy, float* dw,
                Tensor& dx) override;
  std::string details() const override;

 private:
  struct Prims;  // primitives + weight scratch for one input shape
  using Key = std::tuple<int, int, int, int>;  // N, H, W, input layout
  Prims& prims_for(const Tensor& x);
  std::unique_ptr<Prims> create(const Tensor& x, dnnl::algorithm algo) const;

  ConvGeom g_;
  std::shared_ptr<DnnlContext> ctx_;
  bool winograd_;
  std::map<Key, std::unique_ptr<Prims>> cache_;
  std::string details_;
};

}  // namespace signvote::nn
#endif  // SIGNVOTE_HAVE_DNNL
