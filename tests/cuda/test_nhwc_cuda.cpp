// model.layout: nhwc. Every cuda layer whose work depends on the layout runs
// on NHWC tensors and is compared, in NCHW order, with the same layer on
// NCHW tensors (the GPU reference) and with its CPU twin: forward y, the
// running statistics, backward dx and the parameter gradients, from the
// same parameters and inputs. Tolerances as test_layers_cuda.cpp (atol 1e-4
// + rtol 1e-3 where cuDNN reduces, exact where the arithmetic is the same).
// Also the layout kernels themselves (transposes, the image upload) exactly.
#define CATCH_CONFIG_RUNNER  // own main: skips without a device
#include "avgpool.h"
#include "batchnorm2d.h"
#include "batchnorm2d_cuda.h"
#include "common.h"
#include "conv2d.h"
#include "conv_cudnn.h"
#include "conv_eigen.h"
#include "cuda_context.h"
#include "cuda_test_util.h"
#include "flatten.h"
#include "graph_ops.h"
#include "maxpool2d.h"
#include "nn_kernels_cuda.h"
#include "relu.h"

#include <functional>
#include <memory>

using namespace signvote;
using namespace signvote::nn;
using namespace signvote::cuda_test;

namespace {

constexpr double kAtol = 1e-4, kRtol = 1e-3;

std::shared_ptr<CudaContext> context(Layout l) {
  return std::make_shared<CudaContext>(0, /*tf32=*/false, 256u << 20, l);
}

// One layer's results, every tensor in NCHW order on the host.
struct Run {
  std::vector<float> y, buffers, dx, grads;
};

// Runs `layer` (host, or cuda with tensors in `l`) forward in `mode` on x
// and, in train mode, backward with dy; parameters and buffers start at
// `p` and `b`, parameter gradients at 0.25 (they must accumulate).
Run run(Layer& layer, MemSpace sp, Layout l, std::vector<float> p, std::vector<float> b, const Tensor& x,
        const Tensor& dy, Mode mode) {
  std::vector<float> g(p.size(), 0.25f);
  const int np = int(p.size()) + 1, nb = int(b.size()) + 1;  // + 1: never an empty tensor
  Tensor dp({np, 1, 1, 1}, Layout::nchw, sp), dg({np, 1, 1, 1}, Layout::nchw, sp), db({nb, 1, 1, 1}, Layout::nchw, sp);
  copy_floats(dp.data(), sp, p.data(), MemSpace::host, p.size());
  copy_floats(dg.data(), sp, g.data(), MemSpace::host, g.size());
  copy_floats(db.data(), sp, b.data(), MemSpace::host, b.size());
  layer.bind_params(dp.data(), dg.data());
  layer.bind_buffers(db.data());
  const Tensor xs = sp == MemSpace::host ? Tensor::view(const_cast<float*>(x.data()), x.shape()) : upload(x, l);
  const Layout ly = layer.output_layout(xs.layout());
  Tensor y(layer.output_shape(x.shape()), ly, sp);
  layer.forward(xs, y, mode);
  Run r;
  r.y = nchw_values(y);
  r.buffers = nchw_values(db);
  if (mode == Mode::eval) return r;
  const Tensor dys = sp == MemSpace::host ? Tensor::view(const_cast<float*>(dy.data()), dy.shape()) : upload(dy, ly);
  Tensor dx(x.shape(), xs.layout(), sp);
  layer.backward(xs, y, dys, dx);
  r.dx = nchw_values(dx);
  r.grads = nchw_values(dg);
  return r;
}

void require_runs_close(const Run& got, const Run& ref, double atol, double rtol, const std::string& what) {
  require_close(got.y, ref.y, atol, rtol, what + " forward");
  require_close(got.buffers, ref.buffers, atol, rtol, what + " running statistics");
  require_close(got.dx, ref.dx, atol, rtol, what + " backward dx");
  require_close(got.grads, ref.grads, atol, rtol, what + " parameter gradients");
}

size_t count(const std::vector<ParamDecl>& d) {
  size_t n = 0;
  for (const auto& p : d) n += p.count;
  return n;
}

// make(ctx) builds the cuda layer on a context, nullptr: the CPU twin.
using Make = std::function<std::unique_ptr<Layer>(std::shared_ptr<CudaContext>)>;

// CPU twin, cuda NCHW and cuda NHWC from the same parameters and inputs:
// NHWC against NCHW on the GPU, and against the CPU twin.
void compare_layouts(const Make& make, Shape in, Mode mode, double atol, double rtol) {
  std::mt19937_64 rng(42);
  auto cpu = make(nullptr);
  const size_t np = count(cpu->param_decls()), nb = count(cpu->buffer_decls());
  std::vector<float> p(np), g(np), b(nb);
  cpu->bind_params(p.data(), g.data());
  cpu->bind_buffers(b.data());
  cpu->init_params(rng);
  std::normal_distribution<float> nd(0.f, 0.1f);
  for (float& v : p) v += nd(rng);
  for (size_t i = 0; i < nb; ++i) b[i] = std::abs(b[i] + nd(rng)) + (i >= nb / 2 ? 0.5f : 0.f);  // var > 0
  const Tensor x = random_tensor(in, rng), dy = random_tensor(cpu->output_shape(in), rng);
  auto nchw = make(context(Layout::nchw)), nhwc = make(context(Layout::nhwc));
  const Run rc = run(*cpu, MemSpace::host, Layout::nchw, p, b, x, dy, mode);
  const Run r1 = run(*nchw, MemSpace::cuda, Layout::nchw, p, b, x, dy, mode);
  const Run r2 = run(*nhwc, MemSpace::cuda, Layout::nhwc, p, b, x, dy, mode);
  require_runs_close(r2, r1, atol, rtol, nhwc->describe() + " nhwc vs nchw");
  require_runs_close(r2, rc, atol, rtol, nhwc->describe() + " nhwc vs cpu");
}

}  // namespace

TEST_CASE("nhwc: the transposes and the image upload are exact", "[cuda][nhwc]") {
  auto ctx = context(Layout::nhwc);
  std::mt19937_64 rng(1);
  const Tensor a = random_tensor({3, 5, 7, 4}, rng);
  Tensor hn(a.shape(), Layout::nhwc);
  hn.copy_from(a);  // host reference: Tensor's own layout arithmetic
  const Tensor da = upload(a);
  Tensor dn(a.shape(), Layout::nhwc, MemSpace::cuda), back(a.shape(), Layout::nchw, MemSpace::cuda);
  cuda::nchw_to_nhwc(da.data(), dn.data(), 3, 5, 28, ctx->stream);
  CHECK(download(dn) == std::vector<float>(hn.span().begin(), hn.span().end()));
  back.fill(0.f);
  cuda::nhwc_to_nchw(dn.data(), back.data(), 3, 5, 28, /*accumulate=*/false, ctx->stream);
  CHECK(download(back) == std::vector<float>(a.span().begin(), a.span().end()));
  cuda::nhwc_to_nchw(dn.data(), back.data(), 3, 5, 28, /*accumulate=*/true, ctx->stream);  // back = 2 a
  const auto twice = download(back);
  for (size_t i = 0; i < twice.size(); ++i) REQUIRE(twice[i] == 2.f * a.data()[i]);
  // Model input: host NCHW images -> the nhwc store, first 2 of 3 images.
  auto ops = make_cuda_ops(ctx);
  Tensor store({3, 5, 7, 4}, Layout::nhwc, MemSpace::cuda);
  const Tensor staged = ops->stage_input(a, 2, store);
  CHECK(staged.layout() == Layout::nhwc);
  CHECK(staged.n() == 2);
  const auto got = nchw_values(staged);
  REQUIRE(got.size() == 2u * 5 * 7 * 4);
  for (size_t i = 0; i < got.size(); ++i) REQUIRE(got[i] == a.data()[i]);
}

TEST_CASE("nhwc: cudnn convolution equals nchw and the Eigen convolution", "[cuda][nhwc][conv]") {
  const ConvGeom geoms[] = {
      {5, 7, 3, 3, 1, 1, 1, 1}, {5, 6, 3, 3, 2, 2, 1, 1}, {4, 9, 1, 1, 2, 2, 0, 0}, {3, 8, 5, 5, 1, 1, 2, 2},
      // kh != kw, sh != sw, ph != pw: a swapped R/S order in the KRSC filter
      // copy, or swapped strides or paddings, cannot pass these
      {5, 6, 3, 1, 2, 1, 1, 0}, {4, 7, 1, 3, 1, 2, 0, 1}};
  for (const ConvGeom& g : geoms) {
    compare_layouts(
        [&](std::shared_ptr<CudaContext> c) -> std::unique_ptr<Layer> {
          if (!c) return std::make_unique<Conv2d>(g, std::make_unique<EigenConv>(g));
          return std::make_unique<Conv2d>(g, std::make_unique<CudnnConv>(g, c));
        },
        {3, g.ic, 11, 9}, Mode::train, kAtol, kRtol);
  }
  auto c = context(Layout::nhwc);
  const ConvGeom g{3, 4, 3, 3, 1, 1, 1, 1};
  Conv2d conv(g, std::make_unique<CudnnConv>(g, c));
  CHECK(conv.output_layout(Layout::nhwc) == Layout::nhwc);
  CHECK_THROWS_AS(conv.output_layout(Layout::nchw), std::invalid_argument);  // one layout per model
}

TEST_CASE("nhwc: batch norm (spatial persistent) equals nchw and the CPU twin", "[cuda][nhwc][bn]") {
  NnContext host;
  for (const Shape in : {Shape{2, 6, 2, 2}, Shape{3, 6, 7, 5}})
    for (bool relu : {false, true})
      for (Mode mode : {Mode::train, Mode::eval}) {
        INFO(to_string(in) << (relu ? " relu" : "") << (mode == Mode::train ? " train" : " eval"));
        compare_layouts(
            [&](std::shared_ptr<CudaContext> c) -> std::unique_ptr<Layer> {
              if (!c) return std::make_unique<BatchNorm2d>(6, host, relu);
              return std::make_unique<CudaBatchNorm2d>(6, c, relu);
            },
            in, mode, kAtol, kRtol);
      }
}

TEST_CASE("nhwc: pooling, flatten and ReLU equal nchw and the CPU twins", "[cuda][nhwc][pool]") {
  auto maxpool = [](int k, int s, int p) {
    return [=](std::shared_ptr<CudaContext> c) -> std::unique_ptr<Layer> {
      if (!c) return std::make_unique<MaxPool2d>(k, s, p);
      return std::make_unique<CudaMaxPool2d>(k, s, p, c);
    };
  };
  compare_layouts(maxpool(2, 2, 0), {2, 3, 9, 7}, Mode::train, 0, 0);
  compare_layouts(maxpool(3, 2, 1), {2, 3, 9, 7}, Mode::train, 1e-6, 1e-6);  // overlapping windows
  // Global average pool: the same per-(n, c) summation order in both layouts.
  compare_layouts(
      [](std::shared_ptr<CudaContext> c) -> std::unique_ptr<Layer> {
        if (!c) return std::make_unique<GlobalAvgPool>();
        return std::make_unique<CudaGlobalAvgPool>(c);
      },
      {3, 5, 7, 9}, Mode::train, 1e-6, 1e-5);
  // Flatten: NCHW feature order from either layout, H*W > 1 and = 1.
  for (const Shape in : {Shape{3, 5, 3, 2}, Shape{3, 5, 1, 1}})
    compare_layouts(
        [](std::shared_ptr<CudaContext> c) -> std::unique_ptr<Layer> {
          if (!c) return std::make_unique<Flatten>();
          return std::make_unique<CudaFlatten>(c);
        },
        in, Mode::train, 0, 0);
  compare_layouts(
      [](std::shared_ptr<CudaContext> c) -> std::unique_ptr<Layer> {
        if (!c) return std::make_unique<ReLU>();
        return std::make_unique<CudaReLU>(c);
      },
      {3, 5, 7, 9}, Mode::train, 0, 0);
}

int main(int argc, char** argv) {
  if (const int skip = skip_without_device()) return skip;
  return Catch::Session().run(argc, argv);
}
