// GlobalAvgPool: reference gradcheck; float vs reference on both layouts.
#include "avgpool.h"
#include "test_util.h"

#include <catch2/catch.hpp>

using namespace signvote::nn;
using namespace signvote::nn::testing;

TEST_CASE("reference global avgpool passes a gradient check", "[pool][gradcheck]") {
  std::mt19937_64 rng(41);
  DT x = random_dt({2, 3, 3, 4}, rng);
  const DT r = random_dt({2, 3, 1, 1}, rng);
  const DT dx = ref::avgpool_bwd(x, r);
  CHECK(grad_check(x.v, dx.v, [&] { return dot(ref::avgpool_fwd(x), r); }).worst < 1e-6);
}

TEST_CASE("float GlobalAvgPool matches the reference", "[pool]") {
  std::mt19937_64 rng(42);
  for (Layout l : {Layout::nchw, Layout::nChw16c, Layout::nChw8c}) {
    const DT x = random_dt({3, 18, 4, 4}, rng);
    GlobalAvgPool pool;
    CHECK(pool.output_layout(l) == Layout::nchw);
    const Tensor xt = to_tensor(x, l);
    Tensor y(pool.output_shape(x.s)), dx(x.s, l);
    dx.fill(7.f);  // padding channels must come back as zero
    pool.forward(xt, y, Mode::train);
    const DT r = random_dt(y.shape(), rng);
    pool.backward(xt, y, to_tensor(r), dx);
    CHECK(rel_err(to_dt(y), ref::avgpool_fwd(x)) < 1e-6);
    CHECK(rel_err(to_dt(dx), ref::avgpool_bwd(x, r)) < 1e-6);
    if (l == Layout::nChw16c) CHECK(dx.data()[dx.plane_offset(0, 16) + 15] == 0.f);  // channel 31
  }
}
