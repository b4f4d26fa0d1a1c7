// CudaFlatten: flatten.h's CUDA twin (NCHW order is already flat).
#include "common.h"
#include "cuda_context.h"
#include "flatten.h"

namespace signvote::nn {

void CudaFlatten::forward(const Tensor& x, Tensor& y, Mode) {
  require(x.layout() == Layout::nchw && x.numel() == y.numel(), "CudaFlatten: x/y mismatch");
  SV_CUDA_CHECK(cudaMemcpyAsync(y.data(), x.data(), x.numel() * sizeof(float), cudaMemcpyDeviceToDevice, ctx_->stream));
}

void CudaFlatten::backward(const Tensor&, const Tensor&, const Tensor& dy, Tensor& dx) {
  if (dx.empty()) return;
  SV_CUDA_CHECK(cudaMemcpyAsync(dx.data(), dy.data(), dy.numel() * sizeof(float), cudaMemcpyDeviceToDevice, ctx_->stream));
}

}  // namespace signvote::nn
