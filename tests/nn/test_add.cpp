// Residual Add: forward/backward and gradient accumulation.
#include "add.h"
#include "test_util.h"

#include <catch2/catch.hpp>

using namespace signvote::nn;
using namespace signvote::nn::testing;

TEST_CASE("Add forward, backward and accumulate", "[add]") {
  std::mt19937_64 rng(61);
  for (Layout l : {Layout::nchw, Layout::nChw16c, Layout::nChw8c}) {
    const DT a = random_dt({2, 3, 2, 2}, rng), b = random_dt(a.s, rng), g = random_dt(a.s, rng);
    Tensor y(a.s, l), da(a.s, l), db(a.s, l);
    Add::forward(to_tensor(a, l), to_tensor(b, l), y);
    Add::backward(to_tensor(g, l), da, db);
    DT sum(a.s);
    for (size_t i = 0; i < a.v.size(); ++i) sum.v[i] = double(float(a.v[i]) + float(b.v[i]));
    CHECK(rel_err(to_dt(y), sum) == 0.0);
    CHECK(rel_err(to_dt(da), g) == 0.0);
    CHECK(rel_err(to_dt(db), g) == 0.0);
    Add::accumulate(to_tensor(g, l), da);  // da = 2 g
    DT g2 = g;
    for (auto& v : g2.v) v *= 2;
    CHECK(rel_err(to_dt(da), g2) == 0.0);
  }
  Tensor a({1, 2, 2, 2}), b({1, 3, 2, 2}), y({1, 2, 2, 2});
  CHECK_THROWS_AS(Add::forward(a, b, y), std::invalid_argument);
}

TEST_CASE("Add fused with ReLU masks forward and backward", "[add][relu]") {
  std::mt19937_64 rng(62);
  const DT a = random_dt({2, 20, 3, 3}, rng), b = random_dt(a.s, rng), g = random_dt(a.s, rng);
  const Layout l = Layout::nChw16c;
  Tensor y(a.s, l), d(a.s, l);
  Add::forward_relu(to_tensor(a, l), to_tensor(b, l), y);
  Add::backward_relu(y, to_tensor(g, l), d, false);
  DT sum(a.s);
  for (size_t i = 0; i < a.v.size(); ++i) sum.v[i] = double(float(a.v[i]) + float(b.v[i]));
  CHECK(rel_err(to_dt(y), ref::relu_fwd(sum)) == 0.0);
  const DT masked = ref::relu_bwd(sum, g);
  CHECK(rel_err(to_dt(d), masked) == 0.0);
  Add::backward_relu(y, to_tensor(g, l), d, true);  // accumulate: 2 * masked
  DT twice = masked;
  for (auto& v : twice.v) v *= 2;
  CHECK(rel_err(to_dt(d), twice) == 0.0);
}
