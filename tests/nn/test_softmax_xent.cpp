// Softmax cross-entropy: reference gradcheck; float vs reference; accuracy.
#include "softmax_xent.h"
#include "test_util.h"

#include <catch2/catch.hpp>

using namespace signvote::nn;
using namespace signvote::nn::testing;

TEST_CASE("reference cross-entropy passes a gradient check", "[loss][gradcheck]") {
  std::mt19937_64 rng(81);
  DT z = random_dt({4, 6, 1, 1}, rng, 3.0);
  const std::vector<int> labels{0, 5, 2, 2};
  const DT dz = ref::xent_bwd(z, labels);
  CHECK(grad_check(z.v, dz.v, [&] { return ref::xent_fwd(z, labels); }).worst < 1e-6);
}

TEST_CASE("float SoftmaxCrossEntropy matches the reference", "[loss]") {
  std::mt19937_64 rng(82);
  DT z = random_dt({5, 10, 1, 1}, rng, 4.0);
  z.at(0, 3, 0, 0) = 50.0;  // large logit: needs the stable log-sum-exp
  const std::vector<int> labels{3, 1, 9, 0, 4};
  SoftmaxCrossEntropy loss;
  const LossResult r = loss.forward(to_tensor(z), labels.data());
  CHECK(r.loss_mean == Approx(ref::xent_fwd(z, labels)).epsilon(1e-5));
  CHECK(r.loss_sum == Approx(5 * r.loss_mean));
  int correct = 0;
  for (int i = 0; i < 5; ++i) {
    int best = 0;
    for (int j = 1; j < 10; ++j)
      if (z.at(i, j, 0, 0) > z.at(i, best, 0, 0)) best = j;
    correct += best == labels[size_t(i)];
  }
  CHECK(r.correct == correct);
  CHECK(r.correct >= 1);  // sample 0 is correct by construction
  Tensor dz({5, 10, 1, 1});
  loss.backward(dz);
  CHECK(rel_err(to_dt(dz), ref::xent_bwd(z, labels)) < 1e-5);
  const std::vector<int> bad{3, 1, 10, 0, 4};
  CHECK_THROWS_WITH(loss.forward(to_tensor(z), bad.data()), Catch::Contains("label 10"));
}
