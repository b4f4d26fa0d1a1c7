// `signvote-bench step`: one worker's training step on one replica:
// zero_grads + forward + loss + backward (signvote_nn) + a Signum update
//   m = 0.9 m + 0.1 g;  x -= lr * (sign(m) + wd * x)
// as a plain C++ loop on the CPU (the packed/voted kernels live elsewhere),
// or, with --device cuda, as the worker's own device kernels: the fused
// momentum+pack and the apply of the packed signs (step_update_cuda.cpp).
// Prints one JSON object: images_per_s = batch / median step time over
// --iters timed steps (after --warmup untimed ones), plus the mean
// per-layer-type time per step in ms (cuda: from CUDA events).
//
//   build/signvote-bench step --model resnet18 --batch 32 --threads 1 --json
//   build/signvote-bench step --device cuda --math tf32 --width 64 --batch 128 --json
//   build/signvote-bench step --device cuda --layout nhwc ...   (as PyTorch channels_last)
#include "bench_registry.h"
#include "step_update.h"
#include "core/resources.h"
#include "signvote/model.h"

#include <CLI/CLI.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <memory>
#include <random>
#include <sstream>
#include <string>
#include <vector>

namespace {

struct StepOptions {
  std::string model = "resnet18";
  std::string conv;  // empty: first available backend
  std::string device = "cpu", math = "tf32", layout = "nchw";
  int batch = 32, threads = 1, width = 64, iters = 10, warmup = 2;
  float lr = 1e-4f, wd = 5e-4f;
  bool json = false;
};

using Clock = std::chrono::steady_clock;

// Signum with weight decay on the flat buffers.
void signum_update(std::span<float> x, std::span<const float> g, std::vector<float>& m, float lr,
                   float wd) {
  for (size_t i = 0; i < x.size(); ++i) {
    m[i] = 0.9f * m[i] + 0.1f * g[i];
    const float s = m[i] > 0.f ? 1.f : (m[i] < 0.f ? -1.f : 0.f);
    x[i] -= lr * (s + wd * x[i]);
  }
}

std::string to_json(const StepOptions& o, const signvote::nn::Model& model, double median_s,
                    const std::vector<double>& steps, double update_s) {
  using signvote::nn::LayerKind;
  std::ostringstream js;
  js.precision(6);
  js << "{\"bench\":\"step\",\"device\":\"" << o.device << "\",\"math\":\"" << (o.device == "cuda" ? o.math : "fp32")
     << "\",\"layout\":\"" << o.layout << "\",\"model\":\"" << o.model << "\",\"width\":" << o.width
     << ",\"batch\":" << o.batch << ",\"threads\":" << o.threads << ",\"conv\":\""
     << model.conv_backend() << "\",\"num_params\":" << model.num_params()
     << ",\"iters\":" << o.iters << ",\"warmup\":" << o.warmup
     << ",\"step_ms\":" << median_s * 1e3 << ",\"min_step_ms\":"
     << *std::min_element(steps.begin(), steps.end()) * 1e3
     << ",\"images_per_s\":" << o.batch / median_s << ",\"breakdown_ms\":{";
  const auto& t = model.layer_times();
  double layers = 0.0;
  for (size_t k = 0; k < signvote::nn::kNumLayerKinds; ++k) {
    const double ms = t.seconds[k] / o.iters * 1e3;
    layers += ms;
    js << "\"" << signvote::nn::layer_kind_name(static_cast<LayerKind>(k)) << "\":" << ms << ",";
  }
  js << "\"update\":" << update_s / o.iters * 1e3 << ",\"layers_total\":" << layers << "}}";
  return js.str();
}

// A flag's value as its enum (the table of the config key it mirrors);
// throws std::invalid_argument naming the value and the known ones.
template <class E>
E flag_value(const std::string& v, const char* what) {
  if (const auto e = signvote::enum_from_name<E>(v)) return *e;
  throw std::invalid_argument("unknown " + std::string(what) + " '" + v + "' (known: " + signvote::enum_name_list<E>() + ")");
}

void run_step_bench(const StepOptions& o) {
  signvote::nn::ModelSpec spec;
  spec.name = flag_value<signvote::ModelName>(o.model, "model name");
  spec.width = o.width;
  spec.threads = o.threads;
  spec.seed = 1;
  if (!o.conv.empty()) spec.conv_backends = {o.conv};
  spec.device = flag_value<signvote::ModelDevice>(o.device, "model device");
  spec.math = flag_value<signvote::ConvMath>(o.math, "math mode");
  spec.layout = flag_value<signvote::ModelLayout>(o.layout, "model layout");  // nhwc needs --device cuda (make_model says so)
  auto model = signvote::nn::make_model(spec);
  std::unique_ptr<signvote::bench::StepUpdate> device_update;
  const bool cuda = spec.device == signvote::ModelDevice::cuda;
  if (cuda) device_update = signvote::bench::make_cuda_update(*model, o.lr, o.wd);

  signvote::nn::Tensor images({o.batch, spec.in_channels, spec.image_size, spec.image_size});
  std::vector<int> labels(size_t(o.batch));
  std::mt19937_64 rng(7);
  std::normal_distribution<float> nd;
  for (float& v : images.span()) v = nd(rng);
  for (int& l : labels) l = int(rng() % uint64_t(spec.num_classes));
  std::vector<float> momentum(cuda ? 0 : model->num_params(), 0.f);

  std::vector<double> steps;
  double update_s = 0.0;
  for (int it = 0; it < o.warmup + o.iters; ++it) {
    if (it == o.warmup) model->reset_layer_times(), update_s = 0.0;
    const auto t0 = Clock::now();
    model->zero_grads();
    model->forward_backward(images, labels.data(), o.batch, nullptr);
    const auto t1 = Clock::now();
    if (device_update) device_update->run();  // returns after the device finished
    else signum_update(model->params(), model->grads(), momentum, o.lr, o.wd);
    const auto t2 = Clock::now();
    if (it < o.warmup) continue;
    steps.push_back(std::chrono::duration<double>(t2 - t0).count());
    update_s += std::chrono::duration<double>(t2 - t1).count();
  }
  std::vector<double> sorted = steps;
  std::nth_element(sorted.begin(), sorted.begin() + long(sorted.size() / 2), sorted.end());
  const double median = sorted[sorted.size() / 2];
  if (o.json) {
    std::printf("%s\n", to_json(o, *model, median, steps, update_s).c_str());
  } else {
    std::printf("%s\n%s: %.1f images/s (median step %.1f ms over %d iters)\n",
                model->summary().c_str(), o.model.c_str(), o.batch / median, median * 1e3, o.iters);
  }
}

void add_step_bench(CLI::App& app) {
  auto opts = std::make_shared<StepOptions>();
  CLI::App* sub = app.add_subcommand("step", "one worker's forward+backward+Signum step");
  sub->add_option("--model", opts->model, "resnet18 | small_cnn | mlp");
  sub->add_option("--batch", opts->batch, "images per step, 1..65536")->check(CLI::Range(1, 65536));
  sub->add_option("--threads", opts->threads, "OpenMP/Eigen/oneDNN threads, 1..CPUs this process may use")
      ->check(CLI::Range(1, signvote::usable_cpus()));
  sub->add_option("--width", opts->width, "resnet18 base channels, 1..4096")->check(CLI::Range(1, 4096));
  sub->add_option("--iters", opts->iters, "timed steps (median reported), 1..100000")->check(CLI::Range(1, 100000));
  sub->add_option("--warmup", opts->warmup, "untimed steps first, 0..100000")->check(CLI::Range(0, 100000));
  sub->add_option("--conv", opts->conv, "conv backend: dnnl | eigen (default: first available)");
  sub->add_option("--device", opts->device, "cpu | cuda (device 0)")->check(CLI::IsMember({"cpu", "cuda"}));
  sub->add_option("--math", opts->math, "cuda convolutions: fp32 | tf32")->check(CLI::IsMember({"fp32", "tf32"}));
  sub->add_option("--layout", opts->layout, "cuda activations: nchw | nhwc (channels last)")
      ->check(CLI::IsMember({"nchw", "nhwc"}));
  sub->add_flag("--json", opts->json, "print one JSON object");
  sub->callback([opts] { run_step_bench(*opts); });
}

static signvote::bench::RegisterBench reg(&add_step_bench);

}  // namespace
