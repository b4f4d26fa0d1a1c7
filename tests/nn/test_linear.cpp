// Linear: reference gradcheck; float vs reference incl. accumulation.
#include "linear.h"
#include "test_util.h"

#include <catch2/catch.hpp>

using namespace signvote::nn;
using namespace signvote::nn::testing;

TEST_CASE("reference linear passes a gradient check", "[linear][gradcheck]") {
  std::mt19937_64 rng(51);
  DT x = random_dt({3, 5, 1, 1}, rng);
  std::vector<double> w = random_vec(4 * 5, rng, 0, 1), b = random_vec(4, rng, 0, 1);
  const DT r = random_dt({3, 4, 1, 1}, rng);
  DT dx;
  std::vector<double> dw, db;
  ref::linear_bwd(x, w, 4, r, dx, dw, db);
  auto loss = [&] { return dot(ref::linear_fwd(x, w, b, 4), r); };
  CHECK(grad_check(x.v, dx.v, loss).worst < 1e-6);
  CHECK(grad_check(w, dw, loss).worst < 1e-6);
  CHECK(grad_check(b, db, loss).worst < 1e-6);
}

TEST_CASE("float Linear matches the reference and accumulates gradients", "[linear]") {
  std::mt19937_64 rng(52);
  const int in = 37, out = 10, n = 6;
  const DT x = random_dt({n, in, 1, 1}, rng);
  const auto w = random_vec(size_t(in) * out, rng, 0, 0.3), b = random_vec(out, rng, 0, 0.3);
  Linear lin(in, out);
  REQUIRE(lin.param_decls().size() == 2);
  std::vector<float> params = to_f(w), grads(size_t(in) * out + out, 0.f);
  for (double v : b) params.push_back(float(v));
  lin.bind_params(params.data(), grads.data());
  const Tensor xt = to_tensor(x);
  Tensor y(lin.output_shape(x.s)), dx(x.s);
  lin.forward(xt, y, Mode::train);
  const DT r = random_dt(y.shape(), rng);
  lin.backward(xt, y, to_tensor(r), dx);
  lin.backward(xt, y, to_tensor(r), dx);  // twice: parameter grads add up
  DT rdx;
  std::vector<double> rdw, rdb;
  ref::linear_bwd(x, w, out, r, rdx, rdw, rdb);
  CHECK(rel_err(to_dt(y), ref::linear_fwd(x, w, b, out)) < 1e-5);
  CHECK(rel_err(to_dt(dx), rdx) < 1e-5);
  std::vector<double> dw(grads.begin(), grads.begin() + in * out), db(grads.begin() + in * out, grads.end());
  for (auto& v : rdw) v *= 2;
  for (auto& v : rdb) v *= 2;
  CHECK(rel_err(dw, rdw) < 1e-5);
  CHECK(rel_err(db, rdb) < 1e-5);
  CHECK_THROWS_AS(lin.output_shape({n, in, 2, 1}), std::invalid_argument);
}
