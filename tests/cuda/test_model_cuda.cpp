// Whole cuda models against cpu models of the same seed (fp32):
//  - initial parameters and BN buffers are bit-identical (one init path);
//  - parameters copied from a cpu model (a CPU checkpoint) into a cuda one
//    and back round-trip exactly, and give the same evaluation;
//  - 20 steps of ResNet-18 width 8 (SGD, lr 0.02, one fixed batch of 16)
//    keep the two loss trajectories within 2e-3 + 2e-2 * |loss| of each
//    other (first step: 1e-4 relative); cuDNN sums in another order, so
//    the trajectories drift slowly apart rather than match bit for bit;
//  - model.layout: nhwc against nchw on the GPU and against the CPU, from
//    the same initial weights: loss, every gradient and the BN running
//    statistics of one step (atol 1e-3 * max|ref| + rtol 1e-2: a layout
//    bug moves gradients by O(1)), 5 SGD steps of loss trajectory, and a
//    CPU checkpoint evaluated by an nhwc model (resnet18, small_cnn, mlp:
//    the flatten paths).
#define CATCH_CONFIG_RUNNER  // own main: skips without a device
#include "cuda_test_util.h"
#include "signvote/model.h"

#include <algorithm>
#include <memory>

using namespace signvote;
using namespace signvote::nn;
using namespace signvote::cuda_test;

namespace {

ModelSpec spec(const std::string& device, const std::string& layout = "nchw", const std::string& name = "resnet18") {
  ModelSpec s;  // names as the config writes them, through the config keys' tables
  s.name = enum_from_name<ModelName>(name).value();
  s.layout = enum_from_name<ModelLayout>(layout).value();
  s.width = 8;
  s.seed = 11;
  s.device = enum_from_name<ModelDevice>(device).value();
  s.math = ConvMath::fp32;
  s.conv_backends = {"eigen"};
  return s;
}

std::vector<float> host_copy(Model& m, std::span<float> flat) { return m.space() == MemSpace::host ? std::vector<float>(flat.begin(), flat.end()) : download(flat.data(), flat.size()); }

// x -= lr * g on the host copy, written back to the model.
void sgd(Model& m, float lr) {
  auto x = host_copy(m, m.params());
  const auto g = host_copy(m, m.grads());
  for (size_t i = 0; i < x.size(); ++i) x[i] -= lr * g[i];
  copy_floats(m.params().data(), m.space(), x.data(), MemSpace::host, x.size());
}

// Loss, gradients and BN buffers of one forward_backward of `m`.
struct Pass {
  float loss = 0.f;
  std::vector<float> grads, buffers;
};
Pass one_pass(Model& m, const Tensor& images, const std::vector<int>& labels) {
  m.zero_grads();
  Pass p;
  p.loss = m.forward_backward(images, labels.data(), int(labels.size()), nullptr);
  p.grads = host_copy(m, m.grads());
  p.buffers = host_copy(m, m.buffers());
  return p;
}

// `steps` SGD steps (lr 0.02) of a and b on one fixed batch of 16 images
// drawn with `seed`; check(step, loss_a, loss_b) after each forward/backward.
template <class Check>
void lockstep(Model& a, Model& b, int steps, uint64_t seed, Check check) {
  std::mt19937_64 rng(seed);
  const Tensor images = random_tensor({16, 3, 32, 32}, rng);
  std::vector<int> labels(16);
  for (size_t i = 0; i < labels.size(); ++i) labels[i] = int(i % 10);
  for (int step = 0; step < steps; ++step) {
    a.zero_grads();
    b.zero_grads();
    const float la = a.forward_backward(images, labels.data(), 16, nullptr);
    const float lb = b.forward_backward(images, labels.data(), 16, nullptr);
    check(step, la, lb);
    sgd(a, 0.02f);
    sgd(b, 0.02f);
  }
}

// Each parameter tensor against its own scale: a layout bug in one conv's
// weight gradient moves it by O(its own largest value), which a tolerance
// scaled by the model's largest gradient (often the fc's) could hide.
void require_pass_close(const Pass& got, const Pass& ref, const std::vector<ParamRange>& ranges,
                        const std::string& what) {
  INFO(what << ": loss " << got.loss << " vs " << ref.loss);
  REQUIRE(std::abs(got.loss - ref.loss) <= 1e-4 * std::abs(ref.loss));
  for (const ParamRange& r : ranges) {
    const std::span<const float> g(got.grads.data() + r.offset, r.count), f(ref.grads.data() + r.offset, r.count);
    float gmax = 0.f;
    for (float v : f) gmax = std::max(gmax, std::abs(v));
    require_close(g, f, 1e-3 * gmax, 1e-2, what + " gradients of " + r.name);
  }
  require_close(got.buffers, ref.buffers, 1e-4, 1e-3, what + " BN running statistics");
}

}  // namespace

TEST_CASE("a cuda model starts from the cpu model's parameters", "[cuda][model]") {
  auto cpu = make_model(spec("cpu"));
  auto gpu = make_model(spec("cuda"));
  REQUIRE(gpu->space() == MemSpace::cuda);
  REQUIRE(gpu->num_params() == cpu->num_params());
  CHECK(host_copy(*gpu, gpu->params()) == host_copy(*cpu, cpu->params()));
  CHECK(host_copy(*gpu, gpu->buffers()) == host_copy(*cpu, cpu->buffers()));
  CHECK(gpu->summary().find("device=cuda:0") != std::string::npos);
}

TEST_CASE("20 ResNet-18 steps on the GPU follow the CPU loss trajectory", "[cuda][model]") {
  auto cpu = make_model(spec("cpu"));
  auto gpu = make_model(spec("cuda"));
  lockstep(*cpu, *gpu, 20, 3, [](int step, float lc, float lg) {
    INFO("step " << step << " cpu loss " << lc << " gpu loss " << lg);
    if (step == 0) REQUIRE(std::abs(lg - lc) <= 1e-4 * std::abs(lc));
    REQUIRE(std::abs(lg - lc) <= 2e-3 + 2e-2 * std::abs(lc));
  });
}

TEST_CASE("cpu parameters load into a cuda model and back unchanged", "[cuda][model][checkpoint]") {
  auto cpu = make_model(spec("cpu"));
  auto gpu = make_model(spec("cuda"));
  std::mt19937_64 rng(5);
  std::normal_distribution<float> nd(0.f, 0.05f);
  auto x = host_copy(*cpu, cpu->params());
  for (float& v : x) v += nd(rng);  // a "trained" checkpoint
  std::copy(x.begin(), x.end(), cpu->params().begin());
  copy_floats(gpu->params().data(), MemSpace::cuda, x.data(), MemSpace::host, x.size());
  CHECK(host_copy(*gpu, gpu->params()) == x);
  const Tensor images = random_tensor({40, 3, 32, 32}, rng);
  std::vector<int> labels(40);
  for (size_t i = 0; i < labels.size(); ++i) labels[i] = int((i * 7) % 10);
  const EvalResult rc = cpu->evaluate(images, labels.data(), 40);
  const EvalResult rg = gpu->evaluate(images, labels.data(), 40);
  CHECK(rg.count == rc.count);
  CHECK(std::abs(rg.loss_sum - rc.loss_sum) <= 1e-3 * std::abs(rc.loss_sum));
}

TEST_CASE("nhwc models follow the nchw and cpu models (resnet18, small_cnn, mlp)", "[cuda][model][nhwc]") {
  std::mt19937_64 rng(3);
  const Tensor images = random_tensor({16, 3, 32, 32}, rng);
  std::vector<int> labels(16);
  for (size_t i = 0; i < labels.size(); ++i) labels[i] = int((i * 3) % 10);
  for (const char* name : {"resnet18", "small_cnn", "mlp"}) {
    INFO(name);
    auto cpu = make_model(spec("cpu", "nchw", name));
    auto nchw = make_model(spec("cuda", "nchw", name));
    auto nhwc = make_model(spec("cuda", "nhwc", name));
    CHECK(nhwc->summary().find("layout=nhwc") != std::string::npos);
    // One init path: the same parameters and buffers in every layout.
    REQUIRE(host_copy(*nhwc, nhwc->params()) == host_copy(*cpu, cpu->params()));
    REQUIRE(host_copy(*nhwc, nhwc->buffers()) == host_copy(*cpu, cpu->buffers()));
    const Pass pc = one_pass(*cpu, images, labels), p1 = one_pass(*nchw, images, labels);
    const Pass p2 = one_pass(*nhwc, images, labels);
    require_pass_close(p2, p1, nhwc->param_ranges(), std::string(name) + " nhwc vs nchw");
    require_pass_close(p2, pc, nhwc->param_ranges(), std::string(name) + " nhwc vs cpu");
  }
}

TEST_CASE("5 ResNet-18 steps in nhwc follow the nchw trajectory", "[cuda][model][nhwc]") {
  auto nchw = make_model(spec("cuda"));
  auto nhwc = make_model(spec("cuda", "nhwc"));
  lockstep(*nchw, *nhwc, 5, 4, [](int step, float l1, float l2) {
    INFO("step " << step << " nchw loss " << l1 << " nhwc loss " << l2);
    REQUIRE(std::abs(l2 - l1) <= 2e-3 + 2e-2 * std::abs(l1));
  });
  const auto x1 = host_copy(*nchw, nchw->params()), x2 = host_copy(*nhwc, nhwc->params());
  require_close(x2, x1, 1e-3, 1e-2, "parameters after 5 steps");
}

TEST_CASE("a cpu checkpoint evaluates the same in an nhwc model and reads back unchanged",
          "[cuda][model][nhwc][checkpoint]") {
  auto cpu = make_model(spec("cpu"));
  auto nhwc = make_model(spec("cuda", "nhwc"));
  std::mt19937_64 rng(6);
  std::normal_distribution<float> nd(0.f, 0.05f);
  auto x = host_copy(*cpu, cpu->params());
  for (float& v : x) v += nd(rng);
  std::copy(x.begin(), x.end(), cpu->params().begin());
  copy_floats(nhwc->params().data(), MemSpace::cuda, x.data(), MemSpace::host, x.size());
  const Tensor images = random_tensor({40, 3, 32, 32}, rng);
  std::vector<int> labels(40);
  for (size_t i = 0; i < labels.size(); ++i) labels[i] = int((i * 7) % 10);
  const EvalResult rc = cpu->evaluate(images, labels.data(), 40);
  const EvalResult rg = nhwc->evaluate(images, labels.data(), 40);
  CHECK(rg.count == rc.count);
  CHECK(std::abs(rg.loss_sum - rc.loss_sum) <= 1e-3 * std::abs(rc.loss_sum));
  CHECK(host_copy(*nhwc, nhwc->params()) == x);  // the OIHW order is the parameters' order in every layout
}

int main(int argc, char** argv) {
  if (const int skip = skip_without_device()) return skip;
  return Catch::Session().run(argc, argv);
}
