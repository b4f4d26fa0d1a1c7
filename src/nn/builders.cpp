// make_model(): validates a ModelSpec, picks the conv backend and builds
// resnet18 / small_cnn / mlp as GraphModels.
#include "avgpool.h"
#include "batchnorm2d.h"
#include "conv2d.h"
#include "flatten.h"
#include "graph_model.h"
#include "layer_factory.h"
#include "linear.h"
#include "maxpool2d.h"
#include "relu.h"

#include <cmath>
#include <stdexcept>

namespace signvote::nn {

const char* layer_kind_name(LayerKind k) {
  static constexpr const char* kNames[] = {"conv", "bn",     "relu",    "add",
                                           "pool", "linear", "loss", "flatten"};
  const auto i = static_cast<size_t>(k);
  return i < kNumLayerKinds ? kNames[i] : "unknown";
}

std::vector<std::string> available_conv_backends() { return conv_backend_names(); }

namespace {

class HostLayers final : public LayerFactory {
 public:
  HostLayers(std::string backend, const NnContext& ctx) : backend_(std::move(backend)), ctx_(ctx) {}
  std::unique_ptr<Layer> conv(const ConvGeom& g) override {
    return std::make_unique<Conv2d>(g, make_conv_impl(backend_, g, ctx_));
  }
  std::unique_ptr<Layer> batchnorm(int c, bool relu) override { return std::make_unique<BatchNorm2d>(c, ctx_, relu); }
  std::unique_ptr<Layer> relu() override { return std::make_unique<ReLU>(); }
  std::unique_ptr<Layer> maxpool(int k, int s) override { return std::make_unique<MaxPool2d>(k, s); }
  std::unique_ptr<Layer> global_avgpool() override { return std::make_unique<GlobalAvgPool>(); }
  std::unique_ptr<Layer> flatten() override { return std::make_unique<Flatten>(); }
  std::unique_ptr<Layer> linear(int in, int out, double gain) override { return std::make_unique<Linear>(in, out, gain); }

 private:
  std::string backend_;
  const NnContext& ctx_;
};

// conv(k x k, stride, pad k/2) + BN (+ ReLU fused into the BN layer).
int conv_bn(GraphModel& m, LayerFactory& f, const std::string& conv_name, const std::string& bn_name, int x,
            int cout, int k, int stride, bool relu) {
  const int cin = m.act_shape(x).c;
  const ConvGeom g{cin, cout, k, k, stride, stride, k / 2, k / 2};
  x = m.add_layer(conv_name, f.conv(g), x);
  return m.add_layer(bn_name, f.batchnorm(cout, relu), x);
}

// torchvision-style BasicBlock with the CIFAR 1x1 conv + BN shortcut.
int basic_block(GraphModel& m, LayerFactory& f, const std::string& p, int x, int cout, int stride) {
  const int cin = m.act_shape(x).c;
  int h = conv_bn(m, f, p + ".conv1", p + ".bn1", x, cout, 3, stride, true);
  h = conv_bn(m, f, p + ".conv2", p + ".bn2", h, cout, 3, 1, false);
  int sc = x;
  if (stride != 1 || cin != cout) sc = conv_bn(m, f, p + ".shortcut.0", p + ".shortcut.1", x, cout, 1, stride, false);
  return m.add_residual(p + ".add_relu", h, sc, /*relu=*/true);
}

void build_resnet18(GraphModel& m, LayerFactory& f, const ModelSpec& s) {
  int x = conv_bn(m, f, "conv1", "bn1", 0, s.width, 3, 1, true);
  for (int stage = 0; stage < 4; ++stage)
    for (int b = 0; b < 2; ++b) {
      const int stride = (stage > 0 && b == 0) ? 2 : 1;
      const std::string p = "layer" + std::to_string(stage + 1) + "." + std::to_string(b);
      x = basic_block(m, f, p, x, s.width << stage, stride);
    }
  x = m.add_layer("avgpool", f.global_avgpool(), x);
  m.add_layer("linear", f.linear(m.act_shape(x).c, s.num_classes, 1.0), x);
}

// [conv3x3 + BN + ReLU + maxpool2] x 2 with width/4 and width/2 channels,
// then a linear classifier.
void build_small_cnn(GraphModel& m, LayerFactory& f, const ModelSpec& s) {
  int x = conv_bn(m, f, "conv1", "bn1", 0, std::max(1, s.width / 4), 3, 1, true);
  x = m.add_layer("pool1", f.maxpool(2, 2), x);
  x = conv_bn(m, f, "conv2", "bn2", x, std::max(1, s.width / 2), 3, 1, true);
  x = m.add_layer("pool2", f.maxpool(2, 2), x);
  x = m.add_layer("flatten", f.flatten(), x);
  m.add_layer("fc", f.linear(m.act_shape(x).c, s.num_classes, 1.0), x);
}

// flatten -> linear(2*width) -> ReLU -> linear(classes).
void build_mlp(GraphModel& m, LayerFactory& f, const ModelSpec& s) {
  int x = m.add_layer("flatten", f.flatten(), 0);
  x = m.add_layer("fc1", f.linear(m.act_shape(x).c, 2 * s.width, std::sqrt(2.0)), x);
  x = m.add_layer("fc1.relu", f.relu(), x);
  m.add_layer("fc2", f.linear(m.act_shape(x).c, s.num_classes, 1.0), x);
}

std::string choose_backend(const ModelSpec& s) {
  if (s.device == ModelDevice::cuda) return "cudnn";
  std::string tried;
  for (const auto& b : s.conv_backends) {
    if (b != "dnnl_wino" && b != "dnnl" && b != "eigen")
      throw std::invalid_argument("unknown conv backend '" + b + "' (known: dnnl_wino, dnnl, eigen)");
    if (conv_backend_available(b)) return b;
    tried += (tried.empty() ? "" : ", ") + b;
  }
  std::string have;
  for (const auto& b : conv_backend_names()) have += (have.empty() ? "" : ", ") + b;
  throw std::invalid_argument("no requested conv backend is available (requested: " +
                              (tried.empty() ? std::string("none") : tried) +
                              "; this build has: " + have + ")");
}

void validate(const ModelSpec& s) {
  auto positive = [](int v, const char* what) {
    if (v < 1) throw std::invalid_argument(std::string("ModelSpec.") + what + " = " + std::to_string(v) + " must be >= 1");
  };
  positive(s.width, "width");
  positive(s.num_classes, "num_classes");
  positive(s.in_channels, "in_channels");
  positive(s.image_size, "image_size");
  positive(s.threads, "threads");
  // A value outside its table (a cast) is refused by number.
  auto known = [](auto v, const char* what, const char* names) {
    if (enum_name(v).empty())
      throw std::invalid_argument(std::string("unknown ") + what + " " + std::to_string(int(v)) + " (known: " + names + ")");
  };
  known(s.device, "model device", "cpu, cuda");
  known(s.math, "math mode", "fp32, tf32");
  known(s.layout, "model layout", "nchw, nhwc");
  if (s.layout == ModelLayout::nhwc && s.device != ModelDevice::cuda)
    throw std::invalid_argument("model layout 'nhwc' needs device 'cuda' (the cpu layers are nchw)");
  if (s.device == ModelDevice::cuda && s.workspace_mb < 0)
    throw std::invalid_argument("ModelSpec.workspace_mb = " + std::to_string(s.workspace_mb) + " must be >= 0");
  if (s.name != ModelName::resnet18 && s.name != ModelName::small_cnn && s.name != ModelName::mlp) {
    const std::string_view n = enum_name(s.name);
    throw std::invalid_argument("unknown model name '" + (n.empty() ? std::to_string(int(s.name)) : std::string(n)) +
                                "' (known: resnet18, small_cnn, mlp)");
  }
}

}  // namespace

std::unique_ptr<LayerFactory> make_host_layers(const std::string& conv_backend, const NnContext& ctx) {
  return std::make_unique<HostLayers>(conv_backend, ctx);
}

std::unique_ptr<Model> make_model(const ModelSpec& spec) {
  validate(spec);
  auto m = std::make_unique<GraphModel>(spec, choose_backend(spec));
  const auto f = spec.device == ModelDevice::cuda ? make_cuda_layers(m->context())
                                                 : make_host_layers(m->conv_backend(), m->context());
  if (spec.name == ModelName::resnet18) build_resnet18(*m, *f, spec);
  else if (spec.name == ModelName::small_cnn) build_small_cnn(*m, *f, spec);
  else build_mlp(*m, *f, spec);
  m->finalize();
  return m;
}

}  // namespace signvote::nn
