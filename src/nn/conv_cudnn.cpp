// cuDNN convolution: descriptors, measured algorithm choice, the three passes.
//
// NHWC (model.layout: nhwc). x, y, dx, dy are NHWC tensor descriptors
// (CUDNN_TENSOR_NHWC); the filter descriptor is CUDNN_TENSOR_NHWC too, i.e.
// KRSC = (oc, kh, kw, ic) in memory, while the parameters stay OIHW -- the
// order of CPU models, PyTorch and every checkpoint, so checkpoints stay
// interchangeable between layouts and devices. Why a KRSC copy rather than
// an NCHW filter descriptor next to NHWC tensors: cuDNN's NHWC kernels
// (the implicit-GEMM/tensor-core ones cudnnFind picks for NHWC) take the
// filter in the activations' format, and the legacy API's support tables
// list mixed x/w formats for the generic implicit GEMM at most; PyTorch's
// channels_last likewise converts the weight to channels_last before
// calling cuDNN. (The cuDNN 9 support table itself was not in the
// documentation we could search; this follows the cuDNN 8 tables and
// PyTorch.) The copy costs one small transpose kernel per pass (the filter
// is C*R*S*K floats, 2.4M for the largest ResNet-18 conv):
//   forward         KRSC <- OIHW w;  y = conv(x, KRSC)
//   backward        KRSC dw' = dL/dw (beta 0);  dw (OIHW) += transpose(dw')
//                   KRSC <- OIHW w;  dx = conv_bwd_data(dy, KRSC)
// all in the context's one filter scratch, stream-ordered.
#include "conv_cudnn.h"

#include "cuda_context.h"
#include "cudnn_check.h"
#include "nn_kernels_cuda.h"

#include <algorithm>
#include <stdexcept>
#include <vector>

namespace signvote::nn {

struct CudnnConv::Descs {
  cudnnTensorDescriptor_t x = nullptr, y = nullptr;
  cudnnFilterDescriptor_t w = nullptr;
  cudnnConvolutionDescriptor_t conv = nullptr;
};

struct CudnnConv::Plan {
  cudnnConvolutionFwdAlgo_t fwd{};
  cudnnConvolutionBwdDataAlgo_t bwd_data{};
  cudnnConvolutionBwdFilterAlgo_t bwd_filter{};
  cudnnMathType_t fwd_math{}, data_math{}, filter_math{};
  size_t ws_fwd = 0, ws_data = 0, ws_filter = 0;
  std::string no_bwd_data;  // non-empty: why no backward-data algorithm fits
  int n = 0, h = 0, w = 0;
};

namespace {

// The fastest result that succeeded, is deterministic, fits the workspace
// limit and respects the math mode (fp32: no tensor-core maths).
template <class Perf>
const Perf& pick(const std::vector<Perf>& perf, int count, size_t limit, bool tf32, const char* pass) {
  for (int i = 0; i < count; ++i) {
    const Perf& p = perf[size_t(i)];
    const bool math_ok = tf32 || p.mathType == CUDNN_FMA_MATH;
    if (p.status == CUDNN_STATUS_SUCCESS && p.determinism == CUDNN_DETERMINISTIC && p.memory <= limit && math_ok)
      return p;
  }
  throw std::runtime_error(std::string("cuDNN: no deterministic ") + pass +
                           " convolution algorithm fits the workspace limit of " + std::to_string(limit >> 20) +
                           " MiB (raise model.workspace_mb)");
}

}  // namespace

CudnnConv::CudnnConv(const ConvGeom& g, std::shared_ptr<CudaContext> ctx)
    : g_(g), ctx_(std::move(ctx)), d_(std::make_unique<Descs>()) {
  require(ctx_ != nullptr, "CudnnConv: model has no CUDA context");
  SV_CUDNN_CHECK(cudnnCreateTensorDescriptor(&d_->x));
  SV_CUDNN_CHECK(cudnnCreateTensorDescriptor(&d_->y));
  SV_CUDNN_CHECK(cudnnCreateFilterDescriptor(&d_->w));
  SV_CUDNN_CHECK(cudnnCreateConvolutionDescriptor(&d_->conv));
  // Dimensions (K, C, R, S) in this order for either format; NHWC = KRSC memory.
  const cudnnTensorFormat_t fmt = cudnn_format(ctx_->layout);
  SV_CUDNN_CHECK(cudnnSetFilter4dDescriptor(d_->w, CUDNN_DATA_FLOAT, fmt, g.oc, g.ic, g.kh, g.kw));
  SV_CUDNN_CHECK(cudnnSetConvolution2dDescriptor(d_->conv, g.ph, g.pw, g.sh, g.sw, 1, 1, CUDNN_CROSS_CORRELATION,
                                                 CUDNN_DATA_FLOAT));
  SV_CUDNN_CHECK(cudnnSetConvolutionMathType(d_->conv, ctx_->tf32 ? CUDNN_DEFAULT_MATH : CUDNN_FMA_MATH));
}

CudnnConv::~CudnnConv() {
  cudnnDestroyConvolutionDescriptor(d_->conv);
  cudnnDestroyFilterDescriptor(d_->w);
  cudnnDestroyTensorDescriptor(d_->y);
  cudnnDestroyTensorDescriptor(d_->x);
}

Layout CudnnConv::output_layout(Layout in) const {
  require(in == ctx_->layout, std::string("cudnn conv: input must be ") + layout_name(ctx_->layout) +
                                  " (the model's layout), got " + layout_name(in));
  return ctx_->layout;
}

bool CudnnConv::nhwc() const { return ctx_->layout == Layout::nhwc; }

const float* CudnnConv::filter_for(const float* w) {
  if (!nhwc()) return w;
  float* krsc = ctx_->filter_scratch(g_.weight_count());
  cuda::nchw_to_nhwc(w, krsc, g_.oc, g_.ic, g_.kh * g_.kw, ctx_->stream);  // OIHW -> KRSC
  return krsc;
}

const CudnnConv::Plan& CudnnConv::plan_for(const Tensor& x) {
  const Layout l = ctx_->layout;
  require(x.space() == MemSpace::cuda && x.layout() == l && x.c() == g_.ic,
          std::string("cudnn conv: input must be a cuda ") + layout_name(l) + " tensor with " + std::to_string(g_.ic) +
              " channels");
  // Dimensions in (N, C, H, W) order for either format.
  SV_CUDNN_CHECK(cudnnSetTensor4dDescriptor(d_->x, cudnn_format(l), CUDNN_DATA_FLOAT, x.n(), g_.ic, x.h(), x.w()));
  SV_CUDNN_CHECK(cudnnSetTensor4dDescriptor(d_->y, cudnn_format(l), CUDNN_DATA_FLOAT, x.n(), g_.oc, g_.out_h(x.h()),
                                            g_.out_w(x.w())));
  auto& slot = plans_[{x.n(), x.h(), x.w()}];
  if (slot) return *(last_ = slot.get());
  auto p = std::make_unique<Plan>();
  p->n = x.n(), p->h = x.h(), p->w = x.w();
  const size_t lim = ctx_->workspace_limit;
  const bool tf32 = ctx_->tf32;
  int got = 0;
  // The last pass left its algorithm's math type on the descriptor: search
  // under the model's math mode again.
  SV_CUDNN_CHECK(cudnnSetConvolutionMathType(d_->conv, tf32 ? CUDNN_DEFAULT_MATH : CUDNN_FMA_MATH));
  std::vector<cudnnConvolutionFwdAlgoPerf_t> fp(CUDNN_CONVOLUTION_FWD_ALGO_COUNT);
  SV_CUDNN_CHECK(cudnnFindConvolutionForwardAlgorithm(ctx_->cudnn, d_->x, d_->w, d_->conv, d_->y, int(fp.size()), &got, fp.data()));
  const auto& f = pick(fp, got, lim, tf32, "forward");
  p->fwd = f.algo, p->fwd_math = f.mathType, p->ws_fwd = f.memory;
  std::vector<cudnnConvolutionBwdDataAlgoPerf_t> dp(CUDNN_CONVOLUTION_BWD_DATA_ALGO_COUNT);
  SV_CUDNN_CHECK(cudnnFindConvolutionBackwardDataAlgorithm(ctx_->cudnn, d_->w, d_->y, d_->conv, d_->x, int(dp.size()), &got, dp.data()));
  try {  // the first conv never needs dx: fail only if backward-data runs
    const auto& b = pick(dp, got, lim, tf32, "backward-data");
    p->bwd_data = b.algo, p->data_math = b.mathType, p->ws_data = b.memory;
  } catch (const std::runtime_error& e) {
    p->no_bwd_data = e.what();
  }
  std::vector<cudnnConvolutionBwdFilterAlgoPerf_t> wp(CUDNN_CONVOLUTION_BWD_FILTER_ALGO_COUNT);
  SV_CUDNN_CHECK(cudnnFindConvolutionBackwardFilterAlgorithm(ctx_->cudnn, d_->x, d_->y, d_->conv, d_->w, int(wp.size()), &got, wp.data()));
  const auto& w = pick(wp, got, lim, tf32, "backward-filter");
  p->bwd_filter = w.algo, p->filter_math = w.mathType, p->ws_filter = w.memory;
  slot = std::move(p);
  return *(last_ = slot.get());
}

void CudnnConv::forward(const Tensor& x, const float* w, Tensor& y) {
  const Plan& p = plan_for(x);
  const float one = 1.f, zero = 0.f;
  const float* wf = filter_for(w);
  SV_CUDNN_CHECK(cudnnSetConvolutionMathType(d_->conv, p.fwd_math));
  SV_CUDNN_CHECK(cudnnConvolutionForward(ctx_->cudnn, &one, d_->x, x.data(), d_->w, wf, d_->conv, p.fwd,
                                         ctx_->workspace(p.ws_fwd), p.ws_fwd, &zero, d_->y, y.data()));
}

void CudnnConv::backward(const Tensor& x, const float* w, const Tensor& dy, float* dw, Tensor& dx) {
  const Plan& p = plan_for(x);
  const float one = 1.f, zero = 0.f;
  // dw += dL/dw (parameter gradients accumulate, see layer.h): beta = 1
  // straight into dw (nchw), or beta = 0 into the KRSC scratch and added
  // to dw by the transpose (nhwc).
  float* dwf = nhwc() ? ctx_->filter_scratch(g_.weight_count()) : dw;
  const float* beta_w = nhwc() ? &zero : &one;
  SV_CUDNN_CHECK(cudnnSetConvolutionMathType(d_->conv, p.filter_math));
  SV_CUDNN_CHECK(cudnnConvolutionBackwardFilter(ctx_->cudnn, &one, d_->x, x.data(), d_->y, dy.data(), d_->conv,
                                                p.bwd_filter, ctx_->workspace(p.ws_filter), p.ws_filter, beta_w, d_->w,
                                                dwf));
  if (nhwc()) cuda::nhwc_to_nchw(dwf, dw, g_.oc, g_.ic, g_.kh * g_.kw, /*accumulate=*/true, ctx_->stream);
  if (dx.empty()) return;
  if (!p.no_bwd_data.empty()) throw std::runtime_error(p.no_bwd_data);
  const float* wf = filter_for(w);  // reuses the scratch after the transpose above read it (same stream)
  SV_CUDNN_CHECK(cudnnSetConvolutionMathType(d_->conv, p.data_math));
  SV_CUDNN_CHECK(cudnnConvolutionBackwardData(ctx_->cudnn, &one, d_->w, wf, d_->y, dy.data(), d_->conv, p.bwd_data,
                                              ctx_->workspace(p.ws_data), p.ws_data, &zero, d_->x, dx.data()));
}

std::string CudnnConv::details() const {
  if (!last_) return std::string("cudnn ") + (ctx_->tf32 ? "tf32" : "fp32") + " (algorithms chosen at the first pass)";
  const Plan& p = *last_;
  const size_t ws = std::max({p.ws_fwd, p.ws_data, p.ws_filter});
  return std::string("cudnn ") + (ctx_->tf32 ? "tf32" : "fp32") + " " + layout_name(ctx_->layout) + " N=" +
         std::to_string(p.n) + " fwd=" +
         std::to_string(int(p.fwd)) + " bwd_data=" + std::to_string(int(p.bwd_data)) + " bwd_filter=" +
         std::to_string(int(p.bwd_filter)) + " ws=" + std::to_string((ws + (1u << 20) - 1) >> 20) + "MiB";
}

}  // namespace signvote::nn
