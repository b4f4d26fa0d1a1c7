// LayerFactory: the builders (builders.cpp) ask it for each layer, so one
// architecture description serves both devices. Host: the CPU layers
// (the reference); cuda (layer_factory_cuda.cpp): their CUDA twins.
#pragma once

#include "conv_backend.h"
#include "signvote/layer.h"

#include <memory>
#include <string>

namespace signvote::nn {

class LayerFactory {
 public:
  virtual ~LayerFactory() = default;
  virtual std::unique_ptr<Layer> conv(const ConvGeom& g) = 0;
  virtual std::unique_ptr<Layer> batchnorm(int channels, bool fuse_relu) = 0;
  virtual std::unique_ptr<Layer> relu() = 0;
  virtual std::unique_ptr<Layer> maxpool(int kernel, int stride) = 0;
  virtual std::unique_ptr<Layer> global_avgpool() = 0;
  virtual std::unique_ptr<Layer> flatten() = 0;
  virtual std::unique_ptr<Layer> linear(int in, int out, double init_gain) = 0;
};

// Host layers; convs use `conv_backend` (eigen | dnnl | dnnl_wino).
std::unique_ptr<LayerFactory> make_host_layers(const std::string& conv_backend, const NnContext& ctx);
// CUDA twins on ctx.cuda; throws std::logic_error in a build without CUDA.
std::unique_ptr<LayerFactory> make_cuda_layers(const NnContext& ctx);

}  // namespace signvote::nn
