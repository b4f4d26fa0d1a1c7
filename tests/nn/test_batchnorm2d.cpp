// BatchNorm2d: double reference gradchecked; float loops and oneDNN paths
// (nchw and nChw16c) against it, running statistics, eval mode.
#include "batchnorm2d.h"
#include "test_util.h"

#include <catch2/catch.hpp>

using namespace signvote::nn;
using namespace signvote::nn::testing;

namespace {
constexpr double kEps = BatchNorm2d::kEps;

struct BnState {  // params and buffers in flat arrays, as a model holds them
  std::vector<float> params, grads, buffers;
};

BnState make_state(int c, const std::vector<double>& gamma, const std::vector<double>& beta,
                   const std::vector<double>& rm, const std::vector<double>& rv) {
  BnState s;
  for (double v : gamma) s.params.push_back(float(v));
  for (double v : beta) s.params.push_back(float(v));
  s.grads.assign(2 * size_t(c), 0.5f);  // prior value: grads must accumulate
  for (double v : rm) s.buffers.push_back(float(v));
  for (double v : rv) s.buffers.push_back(float(v));
  return s;
}
}  // namespace

TEST_CASE("reference batchnorm passes a double-precision gradient check", "[bn][gradcheck]") {
  std::mt19937_64 rng(11);
  DT x = random_dt({3, 4, 3, 2}, rng, 2.0);
  std::vector<double> gamma = random_vec(4, rng, 1.0, 0.3), beta = random_vec(4, rng, 0.0, 0.3);
  const DT r = random_dt(x.s, rng);
  DT dx;
  std::vector<double> dg, db;
  ref::bn_bwd(x, gamma, kEps, r, dx, dg, db);
  auto loss = [&] { return dot(ref::bn_fwd(x, gamma, beta, kEps), r); };
  CHECK(grad_check(x.v, dx.v, loss).worst < 1e-6);
  CHECK(grad_check(gamma, dg, loss).worst < 1e-6);
  CHECK(grad_check(beta, db, loss).worst < 1e-6);
}

TEST_CASE("float BatchNorm2d matches the reference in train mode", "[bn]") {
  std::vector<NnContext> ctxs{eigen_ctx()};
  if (have_dnnl()) ctxs.push_back(dnnl_ctx());
  std::mt19937_64 rng(12);
  const int C = 5;
  for (const NnContext& ctx : ctxs)
    for (Layout l : {Layout::nchw, Layout::nChw16c, Layout::nChw8c}) {
      INFO((ctx.dnnl ? "dnnl" : "loops") << " " << layout_name(l));
      const DT x = random_dt({4, C, 5, 3}, rng, 3.0);
      const auto gamma = random_vec(C, rng, 1.0, 0.3), beta = random_vec(C, rng, 0.0, 0.3);
      const auto rm = random_vec(C, rng, 0.0, 0.5), rv = random_vec(C, rng, 2.0, 0.2);
      BnState st = make_state(C, gamma, beta, rm, rv);
      BatchNorm2d bn(C, ctx);
      bn.bind_params(st.params.data(), st.grads.data());
      bn.bind_buffers(st.buffers.data());
      const Tensor xt = to_tensor(x, l);
      Tensor y(x.s, l), dx(x.s, l);
      bn.forward(xt, y, Mode::train);
      const DT r = random_dt(x.s, rng);
      bn.backward(xt, y, to_tensor(r, l), dx);

      DT rdx;
      std::vector<double> rdg, rdb;
      ref::bn_bwd(x, gamma, kEps, r, rdx, rdg, rdb);
      CHECK(rel_err(to_dt(y), ref::bn_fwd(x, gamma, beta, kEps)) < 1e-5);
      CHECK(rel_err(to_dt(dx), rdx) < 1e-4);
      std::vector<double> dg, db;
      for (int c = 0; c < C; ++c) dg.push_back(st.grads[c] - 0.5), db.push_back(st.grads[C + c] - 0.5);
      CHECK(rel_err(dg, rdg) < 1e-4);
      CHECK(rel_err(db, rdb) < 1e-4);
      // Running stats: momentum 0.1, unbiased variance (M = 60 values/channel).
      for (int c = 0; c < C; ++c) {
        double s = 0, q = 0;
        for (int n = 0; n < 4; ++n)
          for (int h = 0; h < 5; ++h)
            for (int w = 0; w < 3; ++w) s += x.at(n, c, h, w);
        const double mean = s / 60;
        for (int n = 0; n < 4; ++n)
          for (int h = 0; h < 5; ++h)
            for (int w = 0; w < 3; ++w) q += (x.at(n, c, h, w) - mean) * (x.at(n, c, h, w) - mean);
        CHECK(st.buffers[c] == Approx(0.9 * rm[c] + 0.1 * mean).epsilon(1e-5));
        CHECK(st.buffers[C + c] == Approx(0.9 * rv[c] + 0.1 * q / 59).epsilon(1e-5));
      }
    }
}

TEST_CASE("BatchNorm2d eval mode uses running statistics", "[bn]") {
  std::vector<NnContext> ctxs{eigen_ctx()};
  if (have_dnnl()) ctxs.push_back(dnnl_ctx());
  std::mt19937_64 rng(13);
  const int C = 3;
  for (const NnContext& ctx : ctxs) {
    const DT x = random_dt({2, C, 4, 4}, rng);
    const auto gamma = random_vec(C, rng, 1.0, 0.3), beta = random_vec(C, rng, 0.0, 0.3);
    const auto rm = random_vec(C, rng, 0.0, 0.5), rv = random_vec(C, rng, 2.0, 0.2);
    BnState st = make_state(C, gamma, beta, rm, rv);
    BatchNorm2d bn(C, ctx);
    bn.bind_params(st.params.data(), st.grads.data());
    bn.bind_buffers(st.buffers.data());
    const Tensor xt = to_tensor(x, Layout::nChw16c);
    Tensor y(x.s, Layout::nChw16c), dx(x.s, Layout::nChw16c);
    bn.forward(xt, y, Mode::eval);
    const DT r = random_dt(x.s, rng);
    bn.backward(xt, y, to_tensor(r, Layout::nChw16c), dx);
    DT ey(x.s), edx(x.s);
    for (size_t i = 0; i < x.v.size(); ++i) {
      const int c = int(i / 16) % C;  // NCHW index -> channel (H*W = 16)
      const double a = gamma[c] / std::sqrt(rv[c] + kEps);
      ey.v[i] = a * (x.v[i] - rm[c]) + beta[c];
      edx.v[i] = a * r.v[i];
    }
    CHECK(rel_err(to_dt(y), ey) < 1e-5);
    CHECK(rel_err(to_dt(dx), edx) < 1e-5);
    CHECK(st.buffers[0] == float(rm[0]));  // eval leaves running stats alone
  }
}

TEST_CASE("BatchNorm2d rejects bad inputs", "[bn]") {
  BatchNorm2d bn(4, eigen_ctx());
  CHECK_THROWS_AS(bn.output_shape({1, 3, 2, 2}), std::invalid_argument);
  std::vector<float> p(8), g(8), b(8);
  bn.bind_params(p.data(), g.data());
  bn.bind_buffers(b.data());
  Tensor x({1, 4, 1, 1}), y({1, 4, 1, 1});
  CHECK_THROWS_WITH(bn.forward(x, y, Mode::train), Catch::Contains("more than one value"));
}

TEST_CASE("BatchNorm2d with fused ReLU equals relu(bn(x)) forward and backward", "[bn][relu]") {
  std::vector<NnContext> ctxs{eigen_ctx()};
  if (have_dnnl()) ctxs.push_back(dnnl_ctx());
  std::mt19937_64 rng(14);
  const int C = 18;  // two channel blocks, the second one padded
  for (const NnContext& ctx : ctxs)
    for (Mode mode : {Mode::train, Mode::eval}) {
      INFO((ctx.dnnl ? "dnnl" : "loops") << (mode == Mode::train ? " train" : " eval"));
      const DT x = random_dt({3, C, 4, 3}, rng, 2.0), r = random_dt(x.s, rng);
      const auto gamma = random_vec(C, rng, 1.0, 0.3), beta = random_vec(C, rng, 0.0, 0.3);
      const auto rm = random_vec(C, rng, 0.0, 0.3), rv = random_vec(C, rng, 1.5, 0.2);
      // Unfused pair on the loops path as the reference.
      BnState s1 = make_state(C, gamma, beta, rm, rv), s2 = s1;
      BatchNorm2d plain(C, eigen_ctx()), fused(C, ctx, /*fuse_relu=*/true);
      plain.bind_params(s1.params.data(), s1.grads.data());
      plain.bind_buffers(s1.buffers.data());
      fused.bind_params(s2.params.data(), s2.grads.data());
      fused.bind_buffers(s2.buffers.data());
      const Tensor xt = to_tensor(x, Layout::nChw16c), rt = to_tensor(r, Layout::nChw16c);
      Tensor z(x.s, Layout::nChw16c), dz(x.s, Layout::nChw16c), dx1(x.s, Layout::nChw16c);
      plain.forward(xt, z, mode);
      DT zr = to_dt(z), y1 = ref::relu_fwd(zr), g = ref::relu_bwd(zr, r);
      plain.backward(xt, z, to_tensor(g, Layout::nChw16c), dx1);
      Tensor y2(x.s, Layout::nChw16c), dx2(x.s, Layout::nChw16c);
      fused.forward(xt, y2, mode);
      fused.backward(xt, y2, rt, dx2);
      CHECK(rel_err(to_dt(y2), y1) < 1e-5);
      CHECK(rel_err(to_dt(dx2), to_dt(dx1)) < 1e-4);
      CHECK(rel_err(s2.grads, std::vector<double>(s1.grads.begin(), s1.grads.end())) < 1e-4);
      CHECK(rel_err(s2.buffers, std::vector<double>(s1.buffers.begin(), s1.buffers.end())) < 1e-5);
    }
}
