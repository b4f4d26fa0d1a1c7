// Convolution backends. Conv2d owns one ConvImpl, chosen at model
// construction by name ("eigen" = im2col + Eigen GEMM, always built and the
// reference; "dnnl" = oneDNN direct convolution and "dnnl_wino" = oneDNN
// Winograd where possible, when built with SIGNVOTE_HAVE_DNNL).
#pragma once

#include "common.h"
#include "signvote/tensor.h"

#include <memory>
#include <string>
#include <vector>

namespace signvote::nn {

// Geometry of a 2-D convolution without bias, groups or dilation.
// Weights are stored OIHW: w[((o*ic + i)*kh + r)*kw + s].
struct ConvGeom {
  int ic = 0, oc = 0;
  int kh = 1, kw = 1;
  int sh = 1, sw = 1;  // strides
  int ph = 0, pw = 0;  // symmetric zero padding
  int out_h(int h) const { return (h + 2 * ph - kh) / sh + 1; }
  int out_w(int w) const { return (w + 2 * pw - kw) / sw + 1; }
  size_t weight_count() const { return size_t(oc) * ic * kh * kw; }
};

class ConvImpl {
 public:
  virtual ~ConvImpl() = default;
  virtual const char* name() const = 0;
  // Layout the backend produces for an input layout (throws if unsupported).
  virtual Layout output_layout(Layout in) const = 0;
  // y = conv(x, w). x: (N, ic, H, W); y: (N, oc, OH, OW) in output_layout.
  virtual void forward(const Tensor& x, const float* w, Tensor& y) = 0;
  // dw += dL/dw (OIHW); dx = dL/dx unless dx.empty().
  virtual void backward(const Tensor& x, const float* w, const Tensor& dy, float* dw,
                        Tensor& dx) = 0;
  // Implementation details for logs (e.g. the oneDNN kernel names).
  virtual std::string details() const { return name(); }
};

// Names compiled into this build, in default preference order.
std::vector<std::string> conv_backend_names();
// true if `name` is a backend this build has.
bool conv_backend_available(const std::string& name);
// Throws std::invalid_argument for unknown/unavailable names.
std::unique_ptr<ConvImpl> make_conv_impl(const std::string& name, const ConvGeom& g,
                                         const NnContext& ctx);

}  // namespace signvote::nn
