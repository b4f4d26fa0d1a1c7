// CudaGlobalAvgPool: avgpool.h's CUDA twin.
#include "avgpool.h"
#include "cuda_context.h"
#include "nn_kernels_cuda.h"

namespace signvote::nn {

void CudaGlobalAvgPool::forward(const Tensor& x, Tensor& y, Mode) {
  cuda::avgpool_forward(x.data(), y.data(), size_t(x.n()) * x.c(), x.h() * x.w(), ctx_->stream);
}

void CudaGlobalAvgPool::backward(const Tensor& x, const Tensor&, const Tensor& dy, Tensor& dx) {
  if (!dx.empty()) cuda::avgpool_backward(dy.data(), dx.data(), size_t(x.n()) * x.c(), x.h() * x.w(), ctx_->stream);
}

}  // namespace signvote::nn
