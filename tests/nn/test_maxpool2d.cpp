// MaxPool2d: reference gradcheck skipping near-ties; float vs reference.
#include "maxpool2d.h"
#include "test_util.h"

#include <catch2/catch.hpp>

using namespace signvote::nn;
using namespace signvote::nn::testing;

TEST_CASE("reference maxpool passes a gradient check away from ties", "[pool][gradcheck]") {
  std::mt19937_64 rng(31);
  for (auto [k, s, p] : {std::tuple{2, 2, 0}, std::tuple{3, 2, 1}}) {
    DT x = random_dt({2, 2, 6, 5}, rng);
    const DT r = random_dt(ref::maxpool_fwd(x, k, s, p).s, rng);
    const DT dx = ref::maxpool_bwd(x, k, s, p, r);
    const auto tie = [&, k = k, s = s, p = p](size_t i) {
      const int w = int(i % 5), h = int(i / 5 % 6), c = int(i / 30 % 2), n = int(i / 60);
      return ref::maxpool_tie_gap(x, k, s, p, n, c, h, w) < 1e-4;
    };
    const GradCheck g =
        grad_check(x.v, dx.v, [&, k = k, s = s, p = p] { return dot(ref::maxpool_fwd(x, k, s, p), r); }, tie);
    CHECK(g.checked > 100);
    CHECK(g.worst < 1e-6);
  }
}

TEST_CASE("float MaxPool2d matches the reference", "[pool]") {
  std::mt19937_64 rng(32);
  for (Layout l : {Layout::nchw, Layout::nChw16c, Layout::nChw8c}) {
    const DT x = random_dt({2, 3, 7, 6}, rng);
    MaxPool2d pool(3, 2, 1);
    const Tensor xt = to_tensor(x, l);
    Tensor y(pool.output_shape(x.s), l), dx(x.s, l);
    pool.forward(xt, y, Mode::train);
    const DT r = random_dt(y.shape(), rng);
    pool.backward(xt, y, to_tensor(r, l), dx);
    CHECK(rel_err(to_dt(y), ref::maxpool_fwd(x, 3, 2, 1)) == 0.0);
    CHECK(rel_err(to_dt(dx), ref::maxpool_bwd(x, 3, 2, 1, r)) < 1e-6);
  }
  CHECK_THROWS_AS(MaxPool2d(2, 2, 2), std::invalid_argument);
}
