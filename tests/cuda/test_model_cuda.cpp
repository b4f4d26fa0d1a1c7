// Whole cuda models against cpu models of the same seed (fp32):
//  - initial parameters and BN buffers are bit-identical (one init path);
//  - parameters copied from a cpu model (a CPU checkpoint) into a cuda one
//    and back round-trip exactly, and give the same evaluation;
//  - 20 steps of ResNet-18 width 8 (SGD, lr 0.02, one fixed batch of 16)
//    keep the two loss trajectories within 2e-3 + 2e-2 * |loss| of each
//    other (first step: 1e-4 relative); cuDNN sums in another order, so
//    the trajectories drift slowly apart rather than match bit for bit.
#define CATCH_CONFIG_RUNNER  // own main: skips without a device
#include "cuda_test_util.h"
#include "signvote/model.h"

#include <memory>

using namespace signvote;
using namespace signvote::nn;
using namespace signvote::cuda_test;

namespace {

ModelSpec spec(const std::string& device) {
  ModelSpec s;
  s.name = "resnet18";
  s.width = 8;
  s.seed = 11;
  s.device = device;
  s.math = "fp32";
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
  std::mt19937_64 rng(3);
  const Tensor images = random_tensor({16, 3, 32, 32}, rng);
  std::vector<int> labels(16);
  for (size_t i = 0; i < labels.size(); ++i) labels[i] = int(i % 10);
  for (int step = 0; step < 20; ++step) {
    cpu->zero_grads();
    gpu->zero_grads();
    const float lc = cpu->forward_backward(images, labels.data(), 16, nullptr);
    const float lg = gpu->forward_backward(images, labels.data(), 16, nullptr);
    INFO("step " << step << " cpu loss " << lc << " gpu loss " << lg);
    if (step == 0) REQUIRE(std::abs(lg - lc) <= 1e-4 * std::abs(lc));
    REQUIRE(std::abs(lg - lc) <= 2e-3 + 2e-2 * std::abs(lc));
    sgd(*cpu, 0.02f);
    sgd(*gpu, 0.02f);
  }
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

int main(int argc, char** argv) {
  if (const int skip = skip_without_device()) return skip;
  return Catch::Session().run(argc, argv);
}
