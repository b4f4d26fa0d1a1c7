// The CUDA layer factory: every layer's CUDA twin on the model's context.
#include "avgpool.h"
#include "batchnorm2d_cuda.h"
#include "conv2d.h"
#include "conv_cudnn.h"
#include "flatten.h"
#include "layer_factory.h"
#include "linear.h"
#include "maxpool2d.h"
#include "relu.h"

namespace signvote::nn {
namespace {

class CudaLayers final : public LayerFactory {
 public:
  explicit CudaLayers(std::shared_ptr<CudaContext> ctx) : ctx_(std::move(ctx)) {}
  std::unique_ptr<Layer> conv(const ConvGeom& g) override {
    return std::make_unique<Conv2d>(g, std::make_unique<CudnnConv>(g, ctx_));  // Conv2d: params, init; cuDNN: maths
  }
  std::unique_ptr<Layer> batchnorm(int c, bool relu) override { return std::make_unique<CudaBatchNorm2d>(c, ctx_, relu); }
  std::unique_ptr<Layer> relu() override { return std::make_unique<CudaReLU>(ctx_); }
  std::unique_ptr<Layer> maxpool(int k, int s) override { return std::make_unique<CudaMaxPool2d>(k, s, 0, ctx_); }
  std::unique_ptr<Layer> global_avgpool() override { return std::make_unique<CudaGlobalAvgPool>(ctx_); }
  std::unique_ptr<Layer> flatten() override { return std::make_unique<CudaFlatten>(ctx_); }
  std::unique_ptr<Layer> linear(int in, int out, double gain) override {
    return std::make_unique<CudaLinear>(in, out, gain, ctx_);
  }

 private:
  std::shared_ptr<CudaContext> ctx_;
};

}  // namespace

std::unique_ptr<LayerFactory> make_cuda_layers(const NnContext& ctx) { return std::make_unique<CudaLayers>(ctx.cuda); }

}  // namespace signvote::nn
