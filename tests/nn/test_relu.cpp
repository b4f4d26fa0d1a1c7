// ReLU: reference gradcheck away from the kink; float layer vs reference
// on both layouts.
#include "relu.h"
#include "test_util.h"

#include <catch2/catch.hpp>

using namespace signvote::nn;
using namespace signvote::nn::testing;

TEST_CASE("reference relu passes a gradient check away from the kink", "[relu][gradcheck]") {
  std::mt19937_64 rng(21);
  DT x = random_dt({2, 3, 4, 4}, rng);
  const DT r = random_dt(x.s, rng);
  const DT dx = ref::relu_bwd(x, r);
  const auto near_kink = [&](size_t i) { return std::abs(x.v[i]) < 1e-4; };
  const GradCheck c = grad_check(x.v, dx.v, [&] { return dot(ref::relu_fwd(x), r); }, near_kink);
  CHECK(c.checked > 80);
  CHECK(c.worst < 1e-6);
}

TEST_CASE("float ReLU matches the reference", "[relu]") {
  std::mt19937_64 rng(22);
  for (Layout l : {Layout::nchw, Layout::nChw16c, Layout::nChw8c}) {
    const DT x = random_dt({2, 5, 3, 3}, rng), r = random_dt(x.s, rng);
    ReLU relu;
    const Tensor xt = to_tensor(x, l);
    Tensor y(x.s, l), dx(x.s, l);
    relu.forward(xt, y, Mode::train);
    relu.backward(xt, y, to_tensor(r, l), dx);
    CHECK(rel_err(to_dt(y), ref::relu_fwd(x)) == 0.0);
    CHECK(rel_err(to_dt(dx), ref::relu_bwd(x, r)) == 0.0);
  }
}
