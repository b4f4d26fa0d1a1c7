// Model factory, flat parameter layout, init, training sanity, eval
// chunking and backend agreement.
#include "signvote/model.h"
#include "test_util.h"

#include <catch2/catch.hpp>

#include <cmath>
#include <numeric>

using namespace signvote::nn;
using signvote::ModelLayout;
using signvote::ModelName;
using namespace signvote::nn::testing;

namespace {
struct Batch {
  Tensor images;
  std::vector<int> labels;
};
Batch random_batch(int n, int c, int size, int classes, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> nd;
  Batch b{Tensor({n, c, size, size}), std::vector<int>(size_t(n))};
  for (float& v : b.images.span()) v = nd(rng);
  for (int& l : b.labels) l = int(rng() % uint64_t(classes));
  return b;
}
std::vector<float> copy(std::span<float> s) { return {s.begin(), s.end()}; }
}  // namespace

TEST_CASE("resnet18 at width 64 has exactly 11,173,962 parameters", "[model]") {
  auto m = make_model({.name = ModelName::resnet18, .width = 64, .conv_backends = {"eigen"}});
  CHECK(m->num_params() == 11173962u);
  CHECK(m->params().size() == m->grads().size());
  const auto& r = m->param_ranges();
  REQUIRE(r.size() == 62);  // = len(list(torch_model.parameters()))
  CHECK(r.front().name == "conv1.weight");
  CHECK(r[3].name == "layer1.0.conv1.weight");
  CHECK(r.back().name == "linear.bias");
  CHECK(r.back().kind == LayerKind::linear);
  size_t next = 0;
  for (const auto& p : r) {
    CHECK(p.offset == next);
    next += p.count;
  }
  CHECK(next == m->num_params());
  // BN running stats: 2 per channel of every BN (20 BNs, 4800 channels).
  CHECK(m->buffers().size() == 2u * 4800);
  CHECK(m->buffer_ranges().front().name == "bn1.running_mean");
}

TEST_CASE("resnet18 at width 16 has about 0.7M parameters", "[model]") {
  auto m = make_model({.name = ModelName::resnet18, .width = 16, .conv_backends = {"eigen"}});
  CHECK(m->num_params() > 650000u);
  CHECK(m->num_params() < 750000u);
}

TEST_CASE("make_model rejects bad specs with the value in the message", "[model]") {
  CHECK_THROWS_WITH(make_model({.name = ModelName::quadratic}), Catch::Contains("quadratic"));
  CHECK_THROWS_WITH(make_model({.name = ModelName::mlp, .conv_backends = {"cuda"}}), Catch::Contains("cuda"));
  CHECK_THROWS_AS(make_model({.name = ModelName::mlp, .conv_backends = {}}), std::invalid_argument);
  CHECK_THROWS_WITH(make_model({.name = ModelName::mlp, .width = 0}), Catch::Contains("width"));
  CHECK_THROWS_AS(make_model({.name = ModelName::mlp, .threads = 0}), std::invalid_argument);
  // nhwc is a cuda layout: refused on the cpu before any device is asked for.
  CHECK_THROWS_WITH(make_model({.name = ModelName::mlp, .layout = ModelLayout::nhwc}),
                    Catch::Contains("layout 'nhwc'") && Catch::Contains("device 'cuda'"));
  CHECK_THROWS_WITH(make_model({.name = ModelName::mlp, .layout = static_cast<ModelLayout>(7)}), Catch::Contains("layout 7"));
  // The first available backend in the list wins.
  auto m = make_model({.name = ModelName::small_cnn, .conv_backends = {"eigen", "dnnl"}});
  CHECK(m->conv_backend() == "eigen");
  CHECK(make_model({.name = ModelName::mlp})->conv_backend() == available_conv_backends().front());
}

TEST_CASE("initialisation is deterministic in the seed and Kaiming-scaled", "[model]") {
  auto a = make_model({.name = ModelName::resnet18, .width = 16, .seed = 7, .conv_backends = {"eigen"}});
  auto b = make_model({.name = ModelName::resnet18, .width = 16, .seed = 7, .conv_backends = {"eigen"}});
  auto c = make_model({.name = ModelName::resnet18, .width = 16, .seed = 8, .conv_backends = {"eigen"}});
  CHECK(copy(a->params()) == copy(b->params()));
  CHECK(copy(a->params()) != copy(c->params()));
  // layer3.0.conv1: 64 out channels, 3x3 -> fan_out 576, std sqrt(2/576).
  for (const auto& r : a->param_ranges()) {
    if (r.name != "layer3.0.conv1.weight") continue;
    double s = 0, q = 0;
    for (size_t i = r.offset; i < r.offset + r.count; ++i) s += a->params()[i], q += a->params()[i] * a->params()[i];
    const double mean = s / double(r.count), sd = std::sqrt(q / double(r.count) - mean * mean);
    CHECK(std::abs(mean) < 0.01);
    CHECK(sd == Approx(std::sqrt(2.0 / 576)).epsilon(0.03));
  }
  for (const auto& r : a->param_ranges())
    if (r.name == "bn1.weight") CHECK(a->params()[r.offset] == 1.f);
}

TEST_CASE("SGD on a fixed batch lowers the loss for every model and backend", "[model][train]") {
  const Batch b = random_batch(8, 3, 8, 10, 99);
  for (ModelName name : {ModelName::mlp, ModelName::small_cnn, ModelName::resnet18})
    for (const auto& backend : available_conv_backends()) {
      INFO(signvote::enum_name(name) << " " << backend);
      auto m = make_model({.name = name, .width = 8, .image_size = 8, .seed = 3, .conv_backends = {backend}});
      float first = 0.f, last = 0.f;
      for (int step = 0; step < 12; ++step) {
        m->zero_grads();
        StepStats st;
        last = m->forward_backward(b.images, b.labels.data(), 8, &st);
        if (step == 0) first = last;
        auto p = m->params();
        auto g = m->grads();
        for (size_t i = 0; i < p.size(); ++i) p[i] -= 0.05f * g[i];
      }
      CHECK(std::isfinite(last));
      CHECK(last < 0.7f * first);
      CHECK(m->layer_times()[LayerKind::linear] > 0.0);
    }
}

TEST_CASE("conv backends give the same model gradients", "[model][backends]") {
  if (!have_dnnl()) {
    WARN("skipped: built without oneDNN");
    return;
  }
  const Batch b = random_batch(4, 3, 16, 10, 5);
  for (ModelName name : {ModelName::small_cnn, ModelName::resnet18}) {
    INFO(signvote::enum_name(name));
    std::vector<float> grads[3];
    float loss[3];
    int i = 0;
    for (const char* backend : {"eigen", "dnnl", "dnnl_wino"}) {
      auto m = make_model({.name = name, .width = 8, .image_size = 16, .seed = 11, .threads = 2,
                           .conv_backends = {backend}});
      m->zero_grads();
      loss[i] = m->forward_backward(b.images, b.labels.data(), 4, nullptr);
      grads[i++] = copy(m->grads());
    }
    const std::vector<double> ref(grads[0].begin(), grads[0].end());
    CHECK(loss[0] == Approx(loss[1]).epsilon(1e-5));
    CHECK(rel_err(grads[1], ref) < 1e-3);
    CHECK(loss[0] == Approx(loss[2]).epsilon(1e-4));
    CHECK(rel_err(grads[2], ref) < 1e-3);
  }
}

TEST_CASE("evaluate in chunks equals evaluate in one pass", "[model][eval]") {
  const Batch b = random_batch(10, 3, 8, 10, 17);
  auto big = make_model({.name = ModelName::small_cnn, .image_size = 8, .seed = 2});
  auto small = make_model({.name = ModelName::small_cnn, .image_size = 8, .seed = 2});
  small->forward_backward(b.images, b.labels.data(), 3, nullptr);  // capacity 3, BN stats move
  std::copy(small->buffers().begin(), small->buffers().end(), big->buffers().begin());
  const EvalResult e1 = big->evaluate(b.images, b.labels.data(), 10);
  const EvalResult e3 = small->evaluate(b.images, b.labels.data(), 10);  // chunks 3,3,3,1
  CHECK(e1.count == 10);
  CHECK(e3.count == 10);
  CHECK(e1.correct == e3.correct);
  CHECK(e1.loss_sum == Approx(e3.loss_sum).epsilon(1e-5));
}

TEST_CASE("models validate their inputs", "[model]") {
  auto m = make_model({.name = ModelName::small_cnn, .image_size = 8});
  const Batch b = random_batch(2, 3, 8, 10, 1);
  CHECK_THROWS_AS(m->forward_backward(b.images, b.labels.data(), 3, nullptr), std::invalid_argument);
  const Batch wrong = random_batch(2, 1, 8, 10, 1);
  CHECK_THROWS_AS(m->forward_backward(wrong.images, wrong.labels.data(), 2, nullptr), std::invalid_argument);
}
