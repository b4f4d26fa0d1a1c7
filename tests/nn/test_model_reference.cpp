// Whole-network check against PyTorch: a width-2 CIFAR ResNet-18 with the
// fixture's weights loaded into our flat buffer (named_parameters order);
// logits, loss, every parameter gradient, BN running stats and eval-mode
// logits must match, for each conv backend.
#include "fixture_reader.h"
#include "signvote/model.h"
#include "test_util.h"

#include <catch2/catch.hpp>

#include <algorithm>

using namespace signvote::nn;
using namespace signvote::nn::testing;

namespace {
double rel(const std::vector<float>& a, const std::vector<float>& b) {
  return rel_err(a, std::vector<double>(b.begin(), b.end()));
}
}  // namespace

TEST_CASE("resnet18 (width 2) matches the PyTorch reference fixture", "[model][reference]") {
  const NetFixture f = read_net_fixture(SIGNVOTE_NN_FIXTURE_DIR "/resnet18_w2.bin");
  for (const std::string& backend : available_conv_backends()) {
    INFO("conv backend " << backend);
    ModelSpec spec{.name = signvote::ModelName::resnet18, .width = f.width, .num_classes = f.num_classes,
                   .in_channels = f.in_channels, .image_size = f.image_size, .seed = 5,
                   .threads = 1, .conv_backends = {backend}};
    auto m = make_model(spec);
    REQUIRE(m->conv_backend() == backend);
    REQUIRE(m->num_params() == size_t(f.num_params));
    REQUIRE(m->buffers().size() == size_t(f.num_buffers));
    std::copy(f.params.begin(), f.params.end(), m->params().begin());
    std::copy(f.buffers_before.begin(), f.buffers_before.end(), m->buffers().begin());

    Tensor images({f.batch, f.in_channels, f.image_size, f.image_size});
    std::copy(f.images.begin(), f.images.end(), images.data());
    m->zero_grads();
    StepStats st;
    const float loss = m->forward_backward(images, f.labels.data(), f.batch, &st);
    const auto logits = m->logits().span();
    CHECK(rel({logits.begin(), logits.end()}, f.logits_train) < 1e-4);
    CHECK(loss == Approx(f.loss).epsilon(1e-5));
    CHECK(st.batch == f.batch);
    const auto g = m->grads();
    CHECK(rel({g.begin(), g.end()}, f.grads) < 2e-4);
    // Per tensor too, so a small layer's gradient cannot hide behind a big one.
    for (const ParamRange& r : m->param_ranges()) {
      INFO(r.name);
      const std::vector<float> got(g.begin() + long(r.offset), g.begin() + long(r.offset + r.count));
      const std::vector<float> want(f.grads.begin() + long(r.offset),
                                    f.grads.begin() + long(r.offset + r.count));
      CHECK(rel(got, want) < 1e-3);
    }
    const auto b = m->buffers();
    CHECK(rel({b.begin(), b.end()}, f.buffers_after) < 1e-5);

    const EvalResult ev = m->evaluate(images, f.labels.data(), f.batch);
    const auto le = m->logits().span();
    CHECK(rel({le.begin(), le.end()}, f.logits_eval) < 1e-4);
    CHECK(ev.count == f.batch);
  }
}
