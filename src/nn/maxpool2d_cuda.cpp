// CudaMaxPool2d: maxpool2d.h's CUDA twin through cuDNN pooling; x, y in the
// context's layout (NCHW or NHWC descriptors, same window either way).
#include "common.h"
#include "cuda_context.h"
#include "cudnn_check.h"
#include "maxpool2d.h"

namespace signvote::nn {

struct CudaMaxPool2d::Descs {
  cudnnPoolingDescriptor_t pool = nullptr;
  cudnnTensorDescriptor_t x = nullptr, y = nullptr;
};

CudaMaxPool2d::CudaMaxPool2d(int kernel, int stride, int pad, std::shared_ptr<CudaContext> ctx)
    : cpu_(kernel, stride, pad), k_(kernel), s_(stride), p_(pad), ctx_(std::move(ctx)), d_(std::make_unique<Descs>()) {
  SV_CUDNN_CHECK(cudnnCreatePoolingDescriptor(&d_->pool));
  SV_CUDNN_CHECK(cudnnCreateTensorDescriptor(&d_->x));
  SV_CUDNN_CHECK(cudnnCreateTensorDescriptor(&d_->y));
  SV_CUDNN_CHECK(cudnnSetPooling2dDescriptor(d_->pool, CUDNN_POOLING_MAX_DETERMINISTIC, CUDNN_NOT_PROPAGATE_NAN, k_, k_,
                                             p_, p_, s_, s_));
}

CudaMaxPool2d::~CudaMaxPool2d() {
  cudnnDestroyTensorDescriptor(d_->y);
  cudnnDestroyTensorDescriptor(d_->x);
  cudnnDestroyPoolingDescriptor(d_->pool);
}

void CudaMaxPool2d::set_shapes(const Tensor& x, const Tensor& y) {
  const Layout l = ctx_->layout;
  require(x.space() == MemSpace::cuda && x.layout() == l && y.layout() == l,
          std::string("CudaMaxPool2d: x and y must be cuda ") + layout_name(l) + " tensors");
  // Dimensions in (N, C, H, W) order for either format.
  SV_CUDNN_CHECK(cudnnSetTensor4dDescriptor(d_->x, cudnn_format(l), CUDNN_DATA_FLOAT, x.n(), x.c(), x.h(), x.w()));
  SV_CUDNN_CHECK(cudnnSetTensor4dDescriptor(d_->y, cudnn_format(l), CUDNN_DATA_FLOAT, y.n(), y.c(), y.h(), y.w()));
}

void CudaMaxPool2d::forward(const Tensor& x, Tensor& y, Mode) {
  set_shapes(x, y);
  const float one = 1.f, zero = 0.f;
  SV_CUDNN_CHECK(cudnnPoolingForward(ctx_->cudnn, d_->pool, &one, d_->x, x.data(), &zero, d_->y, y.data()));
}

void CudaMaxPool2d::backward(const Tensor& x, const Tensor& y, const Tensor& dy, Tensor& dx) {
  if (dx.empty()) return;
  set_shapes(x, y);
  const float one = 1.f, zero = 0.f;
  SV_CUDNN_CHECK(cudnnPoolingBackward(ctx_->cudnn, d_->pool, &one, d_->y, y.data(), d_->y, dy.data(), d_->x, x.data(),
                                      &zero, d_->x, dx.data()));
}

}  // namespace signvote::nn
