// CudaBatchNorm2d: cuDNN batch norm (+ fused ReLU kernels).
//
// Layout: x, y, dx, dy use the context's layout (NCHW or NHWC descriptors);
// gamma, beta and the statistics are (1, C, 1, 1) in either case.
// Mode: CUDNN_BATCHNORM_SPATIAL in both layouts, training and eval. cuDNN's
// NHWC fast kernel (the "semi-persistent" one behind
// CUDNN_BATCHNORM_SPATIAL_PERSISTENT) runs only through the ...Ex calls on
// fully packed NHWC half-precision tensors with a workspace; for float
// tensors through these calls the persistent mode buys nothing and may
// lose accuracy, so NHWC computes exactly what NCHW does. The forward-
// training and backward calls use the same mode, as cuDNN requires. The running variance is the unbiased batch variance in every
// mode (cuDNN's resultRunningVariance contract; tests/cuda check it).
#include "batchnorm2d_cuda.h"

#include "batchnorm2d.h"
#include "cuda_context.h"
#include "cudnn_check.h"
#include "nn_kernels_cuda.h"

namespace signvote::nn {

struct CudaBatchNorm2d::Descs {
  cudnnTensorDescriptor_t x = nullptr, param = nullptr;
};

CudaBatchNorm2d::CudaBatchNorm2d(int channels, std::shared_ptr<CudaContext> ctx, bool fuse_relu)
    : c_(channels), relu_(fuse_relu), ctx_(std::move(ctx)), d_(std::make_unique<Descs>()) {
  require(channels > 0 && ctx_ != nullptr, "CudaBatchNorm2d: needs channels > 0 and a CUDA context");
  SV_CUDNN_CHECK(cudnnCreateTensorDescriptor(&d_->x));
  SV_CUDNN_CHECK(cudnnCreateTensorDescriptor(&d_->param));
  SV_CUDNN_CHECK(cudnnSetTensor4dDescriptor(d_->param, CUDNN_TENSOR_NCHW, CUDNN_DATA_FLOAT, 1, c_, 1, 1));
  save_mean_ = Tensor(Shape{1, c_, 1, 1}, Layout::nchw, MemSpace::cuda);
  save_inv_std_ = Tensor(Shape{1, c_, 1, 1}, Layout::nchw, MemSpace::cuda);
}

CudaBatchNorm2d::~CudaBatchNorm2d() {
  cudnnDestroyTensorDescriptor(d_->param);
  cudnnDestroyTensorDescriptor(d_->x);
}

Shape CudaBatchNorm2d::output_shape(const Shape& in) const {
  require(in.c == c_, "CudaBatchNorm2d: input has " + std::to_string(in.c) + " channels, layer " + std::to_string(c_));
  return in;
}

std::vector<ParamDecl> CudaBatchNorm2d::param_decls() const { return {{"weight", size_t(c_)}, {"bias", size_t(c_)}}; }
std::vector<ParamDecl> CudaBatchNorm2d::buffer_decls() const {
  return {{"running_mean", size_t(c_)}, {"running_var", size_t(c_)}};
}
void CudaBatchNorm2d::bind_params(float* p, float* g) { gamma_ = p, beta_ = p + c_, dgamma_ = g, dbeta_ = g + c_; }
void CudaBatchNorm2d::bind_buffers(float* b) { rmean_ = b, rvar_ = b + c_; }
void CudaBatchNorm2d::init_params(std::mt19937_64&) { BatchNorm2d::init_values(gamma_, beta_, rmean_, rvar_, c_); }
std::string CudaBatchNorm2d::describe() const { return (relu_ ? "bn+relu " : "bn ") + std::to_string(c_) + " [cudnn]"; }

void CudaBatchNorm2d::set_shape(const Tensor& x) {
  const Layout l = ctx_->layout;
  require(x.space() == MemSpace::cuda && x.layout() == l && x.c() == c_,
          std::string("CudaBatchNorm2d: input must be a cuda ") + layout_name(l) + " tensor with " +
              std::to_string(c_) + " channels");
  // Dimensions in (N, C, H, W) order for either format.
  SV_CUDNN_CHECK(cudnnSetTensor4dDescriptor(d_->x, cudnn_format(l), CUDNN_DATA_FLOAT, x.n(), c_, x.h(), x.w()));
}

cudnnBatchNormMode_t CudaBatchNorm2d::train_mode() const {
  return CUDNN_BATCHNORM_SPATIAL;  // float data: see the top of this file
}

Tensor& CudaBatchNorm2d::scratch(const Tensor& like) {
  if (mask_.numel() < like.numel()) mask_ = Tensor(like.shape(), like.layout(), MemSpace::cuda);
  return mask_;
}

void CudaBatchNorm2d::forward(const Tensor& x, Tensor& y, Mode mode) {
  set_shape(x);
  last_mode_ = mode;
  const float one = 1.f, zero = 0.f;
  if (mode == Mode::train) {
    require(size_t(x.n()) * x.h() * x.w() > 1, "CudaBatchNorm2d: train mode needs more than one value per channel");
    SV_CUDNN_CHECK(cudnnBatchNormalizationForwardTraining(
        ctx_->cudnn, train_mode(), &one, &zero, d_->x, x.data(), d_->x, y.data(), d_->param, gamma_, beta_,
        double(BatchNorm2d::kMomentum), rmean_, rvar_, double(BatchNorm2d::kEps), save_mean_.data(), save_inv_std_.data()));
  } else {
    SV_CUDNN_CHECK(cudnnBatchNormalizationForwardInference(ctx_->cudnn, CUDNN_BATCHNORM_SPATIAL, &one, &zero, d_->x,
                                                           x.data(), d_->x, y.data(), d_->param, gamma_, beta_, rmean_,
                                                           rvar_, double(BatchNorm2d::kEps)));
  }
  if (relu_) cuda::relu_forward(y.data(), y.data(), y.numel(), ctx_->stream);
}

void CudaBatchNorm2d::backward(const Tensor& x, const Tensor& y, const Tensor& dy, Tensor& dx) {
  // cuDNN's backward uses the batch statistics saved by a train forward.
  if (last_mode_ != Mode::train) throw std::logic_error("CudaBatchNorm2d: backward needs a train-mode forward first");
  set_shape(x);
  const float* g = dy.data();
  if (relu_) {
    Tensor& m = scratch(dy);
    cuda::relu_backward(y.data(), dy.data(), m.data(), dy.numel(), ctx_->stream);
    g = m.data();
  }
  float* out = dx.data();
  if (dx.empty()) {  // cuDNN always writes dx
    if (spare_.numel() < x.numel()) spare_ = Tensor(x.shape(), x.layout(), MemSpace::cuda);
    out = spare_.data();
  }
  const float one = 1.f, zero = 0.f;
  // dx = dL/dx (beta 0); dgamma, dbeta += (beta 1: gradients accumulate).
  SV_CUDNN_CHECK(cudnnBatchNormalizationBackward(ctx_->cudnn, train_mode(), &one, &zero, &one, &one, d_->x,
                                                 x.data(), d_->x, g, d_->x, out, d_->param, gamma_, dgamma_, dbeta_,
                                                 double(BatchNorm2d::kEps), save_mean_.data(), save_inv_std_.data()));
}

}  // namespace signvote::nn
