// Conv2d: double reference gradchecked; float backends (eigen, dnnl)
// against the reference and against each other.
#include "conv2d.h"
#include "test_util.h"

#include <catch2/catch.hpp>

using namespace signvote::nn;
using namespace signvote::nn::testing;

namespace {

const ConvGeom kGeoms[] = {
    {3, 4, 3, 3, 1, 1, 1, 1},  // 3x3 same
    {3, 5, 3, 3, 2, 2, 1, 1},  // 3x3 stride 2
    {4, 6, 1, 1, 2, 2, 0, 0},  // 1x1 stride 2 (ResNet shortcut)
    {2, 3, 5, 3, 1, 2, 2, 1},  // rectangular kernel, mixed strides
};

struct ConvRun {
  DT y, dx;
  std::vector<double> dw;  // accumulated part only
};

ConvRun run_conv(const std::string& backend, const ConvGeom& g, const DT& x,
                 const std::vector<double>& w, const DT& r, Layout in_layout) {
  const NnContext ctx = ctx_for(backend);
  Conv2d conv(g, make_conv_impl(backend, g, ctx));
  constexpr float kPrior = 0.25f;  // grads must accumulate on top of this
  std::vector<float> wf = to_f(w), dw(w.size(), kPrior);
  conv.bind_params(wf.data(), dw.data());
  const Tensor xt = to_tensor(x, in_layout);
  Tensor y(conv.output_shape(x.s), conv.output_layout(in_layout));
  conv.forward(xt, y, Mode::train);
  const Tensor dy = to_tensor(r, y.layout());
  Tensor dx(x.s, in_layout);
  conv.backward(xt, y, dy, dx);
  ConvRun out{to_dt(y), to_dt(dx), {}};
  for (float v : dw) out.dw.push_back(double(v) - kPrior);
  return out;
}

}  // namespace

TEST_CASE("reference conv passes a double-precision gradient check", "[conv][gradcheck]") {
  std::mt19937_64 rng(1);
  for (const ConvGeom& g : kGeoms) {
    DT x = random_dt({2, g.ic, 7, 6}, rng);
    std::vector<double> w = random_vec(g.weight_count(), rng, 0.0, 0.5);
    const DT r = random_dt(ref::conv_fwd(x, w, g).s, rng);
    DT dx;
    std::vector<double> dw;
    ref::conv_bwd(x, w, g, r, dx, dw);
    auto loss = [&] { return dot(ref::conv_fwd(x, w, g), r); };
    const GradCheck cx = grad_check(x.v, dx.v, loss), cw = grad_check(w, dw, loss);
    CHECK(cx.checked == int(x.v.size()));
    CHECK(cx.worst < 1e-6);
    CHECK(cw.worst < 1e-6);
  }
}

TEST_CASE("float Conv2d backends match the double reference", "[conv]") {
  const std::vector<std::string> backends = conv_backend_names();
  std::mt19937_64 rng(2);
  for (const ConvGeom& g : kGeoms)
    for (const auto& b : backends)
      for (Layout l : {Layout::nchw, Layout::nChw16c, Layout::nChw8c}) {
        if (b == "eigen" && l != Layout::nchw) continue;  // eigen is nchw-only
        INFO("backend " << b << " layout " << layout_name(l) << " ic " << g.ic << " k " << g.kh);
        const DT x = random_dt({3, g.ic, 9, 8}, rng);
        const std::vector<double> w = random_vec(g.weight_count(), rng, 0.0, 0.5);
        const DT y = ref::conv_fwd(x, w, g);
        const DT r = random_dt(y.s, rng);
        DT dx;
        std::vector<double> dw;
        ref::conv_bwd(x, w, g, r, dx, dw);
        const ConvRun got = run_conv(b, g, x, w, r, l);
        CHECK(rel_err(got.y, y) < 1e-5);
        CHECK(rel_err(got.dx, dx) < 1e-5);
        CHECK(rel_err(got.dw, dw) < 1e-5);
      }
}

TEST_CASE("eigen, dnnl and dnnl_wino conv backends agree on ResNet shapes", "[conv][backends]") {
  if (!have_dnnl()) {
    WARN("skipped: built without oneDNN");
    return;
  }
  std::mt19937_64 rng(3);
  const ConvGeom geoms[] = {{3, 16, 3, 3, 1, 1, 1, 1},
                            {16, 16, 3, 3, 1, 1, 1, 1},
                            {16, 32, 3, 3, 2, 2, 1, 1},
                            {16, 32, 1, 1, 2, 2, 0, 0},
                            {20, 24, 3, 3, 1, 1, 1, 1}};  // channels not a multiple of 16
  for (const ConvGeom& g : geoms) {
    INFO("ic " << g.ic << " oc " << g.oc << " k " << g.kh << " s " << g.sh);
    const DT x = random_dt({4, g.ic, 12, 12}, rng);
    const std::vector<double> w = random_vec(g.weight_count(), rng, 0.0, 0.2);
    const DT r = random_dt({4, g.oc, g.out_h(12), g.out_w(12)}, rng);
    const ConvRun e = run_conv("eigen", g, x, w, r, Layout::nchw);
    const Layout dl = g.ic == 3 ? Layout::nchw : Layout::nChw16c;  // the stem reads nchw images
    const ConvRun d = run_conv("dnnl", g, x, w, r, dl);
    CHECK(rel_err(d.y, e.y) < 1e-5);
    CHECK(rel_err(d.dx, e.dx) < 1e-5);
    CHECK(rel_err(d.dw, e.dw) < 1e-5);
    // Winograd (3x3 stride 1, >= 16 channels) trades exactness for speed:
    // its transforms add fp32 rounding (~2e-6 relative measured; 1e-4 allowed).
    const ConvRun wg = run_conv("dnnl_wino", g, x, w, r, dl);
    CHECK(rel_err(wg.y, e.y) < 1e-4);
    CHECK(rel_err(wg.dx, e.dx) < 1e-4);
    CHECK(rel_err(wg.dw, e.dw) < 1e-4);
  }
}

TEST_CASE("Conv2d skips the input gradient when dx is empty", "[conv]") {
  for (const auto& b : conv_backend_names()) {
    const ConvGeom g{3, 8, 3, 3, 1, 1, 1, 1};
    const NnContext ctx = ctx_for(b);
    Conv2d conv(g, make_conv_impl(b, g, ctx));
    std::vector<float> w(g.weight_count(), 0.1f), dw(g.weight_count(), 0.f);
    conv.bind_params(w.data(), dw.data());
    Tensor x({2, 3, 6, 6});
    x.fill(1.f);
    Tensor y(conv.output_shape(x.shape()), conv.output_layout(x.layout()));
    conv.forward(x, y, Mode::train);
    Tensor dy(y.shape(), y.layout()), none;
    dy.fill(1.f);
    conv.backward(x, y, dy, none);
    // Centre taps see every output pixel: 2 images * 36 pixels * 1 * 1.
    CHECK(dw[4] == Approx(72.f));
  }
}

TEST_CASE("conv backend factory rejects unknown names", "[conv]") {
  const ConvGeom g{3, 8, 3, 3, 1, 1, 1, 1};
  CHECK_THROWS_WITH(make_conv_impl("cudnn", g, eigen_ctx()), Catch::Contains("cudnn"));
  CHECK_THROWS_AS(Conv2d(g, make_conv_impl("eigen", g, eigen_ctx())).output_shape({1, 4, 8, 8}),
                  std::invalid_argument);
}
