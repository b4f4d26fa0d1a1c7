// CudaGlobalAvgPool: avgpool.h's CUDA twin. x (N, C, H, W) in the model's
// layout (nchw: planes of H*W; nhwc: pixels of C) -> y (N, C) = (N, C, 1, 1),
// the same memory in either layout, tagged nchw for Linear.
#include "avgpool.h"
#include "common.h"
#include "cuda_context.h"
#include "nn_kernels_cuda.h"

namespace signvote::nn {

void CudaGlobalAvgPool::forward(const Tensor& x, Tensor& y, Mode) {
  require(x.layout() == Layout::nchw || x.layout() == Layout::nhwc, "CudaGlobalAvgPool: input must be nchw or nhwc");
  const int hw = x.h() * x.w();
  if (x.layout() == Layout::nhwc) {
    cuda::avgpool_nhwc_forward(x.data(), y.data(), x.n(), x.c(), hw, ctx_->stream);
    return;
  }
  cuda::avgpool_forward(x.data(), y.data(), size_t(x.n()) * x.c(), hw, ctx_->stream);
}

void CudaGlobalAvgPool::backward(const Tensor& x, const Tensor&, const Tensor& dy, Tensor& dx) {
  if (dx.empty()) return;
  const int hw = x.h() * x.w();
  if (dx.layout() == Layout::nhwc) {
    cuda::avgpool_nhwc_backward(dy.data(), dx.data(), x.n(), x.c(), hw, ctx_->stream);
    return;
  }
  cuda::avgpool_backward(dy.data(), dx.data(), size_t(x.n()) * x.c(), hw, ctx_->stream);
}

}  // namespace signvote::nn
