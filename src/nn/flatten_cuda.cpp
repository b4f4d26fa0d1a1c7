// CudaFlatten: flatten.h's CUDA twin. y (N, C*H*W) in NCHW feature order:
// a copy of an nchw x, a transpose of an nhwc x (N, H, W, C); and back.
#include "common.h"
#include "cuda_context.h"
#include "flatten.h"
#include "nn_kernels_cuda.h"

namespace signvote::nn {

namespace {
// An nhwc tensor with one pixel per image is laid out as nchw: copy it.
bool needs_transpose(const Tensor& t) { return t.layout() == Layout::nhwc && t.h() * t.w() > 1; }
}  // namespace

void CudaFlatten::forward(const Tensor& x, Tensor& y, Mode) {
  require((x.layout() == Layout::nchw || x.layout() == Layout::nhwc) && x.numel() == y.numel(),
          "CudaFlatten: x/y mismatch");
  if (needs_transpose(x)) {  // x (N, H, W, C) -> y (N, C*H*W) in (c, h, w) order
    cuda::nhwc_to_nchw(x.data(), y.data(), x.n(), x.c(), x.h() * x.w(), /*accumulate=*/false, ctx_->stream);
    return;
  }
  SV_CUDA_CHECK(cudaMemcpyAsync(y.data(), x.data(), x.numel() * sizeof(float), cudaMemcpyDeviceToDevice, ctx_->stream));
}

void CudaFlatten::backward(const Tensor&, const Tensor&, const Tensor& dy, Tensor& dx) {
  if (dx.empty()) return;
  if (needs_transpose(dx)) {  // dy (N, C*H*W) -> dx (N, H, W, C)
    cuda::nchw_to_nhwc(dy.data(), dx.data(), dx.n(), dx.c(), dx.h() * dx.w(), ctx_->stream);
    return;
  }
  SV_CUDA_CHECK(cudaMemcpyAsync(dx.data(), dy.data(), dy.numel() * sizeof(float), cudaMemcpyDeviceToDevice, ctx_->stream));
}

}  // namespace signvote::nn
