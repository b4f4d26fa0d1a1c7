// Flatten: NCHW feature order from either layout, and its inverse.
#include "flatten.h"
#include "test_util.h"

#include <catch2/catch.hpp>

using namespace signvote::nn;
using namespace signvote::nn::testing;

TEST_CASE("Flatten keeps NCHW feature order and inverts in backward", "[flatten]") {
  std::mt19937_64 rng(71);
  for (Layout l : {Layout::nchw, Layout::nChw16c, Layout::nChw8c}) {
    const DT x = random_dt({2, 3, 2, 5}, rng);
    Flatten f;
    const Tensor xt = to_tensor(x, l);
    Tensor y(f.output_shape(x.s), f.output_layout(l)), dx(x.s, l);
    REQUIRE(y.shape() == Shape{2, 30, 1, 1});
    f.forward(xt, y, Mode::train);
    for (size_t i = 0; i < x.v.size(); ++i) CHECK(y.data()[i] == float(x.v[i]));
    f.backward(xt, y, y, dx);
    CHECK(rel_err(to_dt(dx), x) == 0.0);
  }
}
