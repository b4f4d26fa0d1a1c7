// CudaLinear: linear.h's CUDA twin. Row-major (N, in) activations and
// (out, in) weights are column-major (in, N) and (in, out) to cuBLAS:
//   forward   Y (out x N)  = W^T(cm) X        gemm(T, N, out, N, in)
//   dX        dX (in x N)  = W(cm) dY          gemm(N, N, in, N, out)
//   dW       dW (in x out) += X dY^T           gemm(N, T, in, out, N), beta 1
#include "common.h"
#include "cuda_context.h"
#include "cudnn_check.h"
#include "linear.h"
#include "nn_kernels_cuda.h"

namespace signvote::nn {

CudaLinear::CudaLinear(int in_features, int out_features, double init_gain, std::shared_ptr<CudaContext> ctx)
    : cpu_(in_features, out_features, init_gain), in_(in_features), out_(out_features), ctx_(std::move(ctx)) {}

void CudaLinear::bind_params(float* params, float* grads) {
  cpu_.bind_params(params, grads);
  w_ = params, b_ = params + size_t(in_) * out_, dw_ = grads, db_ = grads + size_t(in_) * out_;
}

void CudaLinear::forward(const Tensor& x, Tensor& y, Mode) {
  require(x.space() == MemSpace::cuda && y.shape() == output_shape(x.shape()), "CudaLinear::forward: bad input/output");
  const float one = 1.f, zero = 0.f;
  SV_CUBLAS_CHECK(cublasSgemm(ctx_->cublas, CUBLAS_OP_T, CUBLAS_OP_N, out_, x.n(), in_, &one, w_, in_, x.data(), in_,
                              &zero, y.data(), out_));
  cuda::bias_forward(y.data(), b_, x.n(), out_, ctx_->stream);
}

void CudaLinear::backward(const Tensor& x, const Tensor&, const Tensor& dy, Tensor& dx) {
  const float one = 1.f, zero = 0.f;
  SV_CUBLAS_CHECK(cublasSgemm(ctx_->cublas, CUBLAS_OP_N, CUBLAS_OP_T, in_, out_, x.n(), &one, x.data(), in_, dy.data(),
                              out_, &one, dw_, in_));
  cuda::bias_backward(dy.data(), db_, x.n(), out_, ctx_->stream);
  if (dx.empty()) return;
  SV_CUBLAS_CHECK(cublasSgemm(ctx_->cublas, CUBLAS_OP_N, CUBLAS_OP_N, in_, x.n(), out_, &one, w_, in_, dy.data(), out_,
                              &zero, dx.data(), in_));
}

}  // namespace signvote::nn
