// oneDNN convolution backend. Activations stay in oneDNN's blocked
// nChw16c layout between layers (no per-call activation reorders); the
// input may also be plain nchw (the stem conv on the images). Weights live
// OIHW in the model's flat buffer and are reordered into the kernel's
// blocked format once per forward (and once per backward-data); weight
// gradients are reordered back and ACCUMULATED with a sum post-op.
// Primitives are created once per input shape and cached.
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
  DnnlConv(const ConvGeom& g, std::shared_ptr<DnnlContext> ctx);
  ~DnnlConv() override;
  const char* name() const override { return "dnnl"; }
  Layout output_layout(Layout) const override { return Layout::nChw16c; }
  void forward(const Tensor& x, const float* w, Tensor& y) override;
  void backward(const Tensor& x, const float* w, const Tensor& dy, float* dw,
                Tensor& dx) override;
  std::string details() const override;

 private:
  struct Prims;  // primitives + weight scratch for one input shape
  using Key = std::tuple<int, int, int, int>;  // N, H, W, input layout
  Prims& prims_for(const Tensor& x);

  ConvGeom g_;
  std::shared_ptr<DnnlContext> ctx_;
  std::map<Key, std::unique_ptr<Prims>> cache_;
  std::string details_;
};

}  // namespace signvote::nn
#endif  // SIGNVOTE_HAVE_DNNL
