// CudaReLU: relu.h's CUDA twin.
#include "cuda_context.h"
#include "nn_kernels_cuda.h"
#include "relu.h"

namespace signvote::nn {

void CudaReLU::forward(const Tensor& x, Tensor& y, Mode) {
  cuda::relu_forward(x.data(), y.data(), x.numel(), ctx_->stream);
}

void CudaReLU::backward(const Tensor&, const Tensor& y, const Tensor& dy, Tensor& dx) {
  if (!dx.empty()) cuda::relu_backward(y.data(), dy.data(), dx.data(), dy.numel(), ctx_->stream);
}

}  // namespace signvote::nn
