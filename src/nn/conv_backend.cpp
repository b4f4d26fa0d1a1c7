// Conv backend factory.
#include "conv_backend.h"

#include "conv_eigen.h"
#ifdef SIGNVOTE_HAVE_DNNL
#include "conv_dnnl.h"
#endif

#include <stdexcept>

namespace signvote::nn {

std::vector<std::string> conv_backend_names() {
#ifdef SIGNVOTE_HAVE_DNNL
  return {"dnnl_wino", "dnnl", "eigen"};
#else
  return {"eigen"};
#endif
}

bool conv_backend_available(const std::string& name) {
  for (const auto& n : conv_backend_names())
    if (n == name) return true;
  return false;
}

std::unique_ptr<ConvImpl> make_conv_impl(const std::string& name, const ConvGeom& g,
                                         const NnContext& ctx) {
  if (name == "eigen") return std::make_unique<EigenConv>(g);
#ifdef SIGNVOTE_HAVE_DNNL
  if (name == "dnnl" || name == "dnnl_wino") {
    if (!ctx.dnnl)
      throw std::invalid_argument("conv backend '" + name + "': model has no oneDNN context");
    return std::make_unique<DnnlConv>(g, ctx.dnnl, name == "dnnl_wino");
  }
#endif
  throw std::invalid_argument("unknown or unavailable conv backend '" + name + "'");
}

}  // namespace signvote::nn
