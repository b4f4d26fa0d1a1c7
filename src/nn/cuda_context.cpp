// CudaContext: device selection, streams and library handles.
#include "cuda_context.h"

#include "cudnn_check.h"
#include "signvote/device.h"

#include <stdexcept>

namespace signvote::nn {

cudnnTensorFormat_t cudnn_format(Layout l) {
  if (l == Layout::nchw) return CUDNN_TENSOR_NCHW;
  if (l == Layout::nhwc) return CUDNN_TENSOR_NHWC;
  throw std::invalid_argument(std::string("cuda layers: layout ") + layout_name(l) + " (known: nchw, nhwc)");
}

CudaContext::CudaContext(int dev, bool use_tf32, size_t limit, Layout l)
    : device(dev), tf32(use_tf32), workspace_limit(limit), layout(l) {
  (void)cudnn_format(l);  // nchw | nhwc, before any device work
  try {
    create();
  } catch (...) {
    release();  // the destructor does not run for a constructor that throws
    throw;
  }
}

void CudaContext::create() {
  std::string why;
  const int count = cuda_device_count(&why);
  const int dev = device;
  if (count == 0) throw std::runtime_error("no CUDA device visible (" + why + ")");
  if (dev < 0 || dev >= count)
    throw std::runtime_error("CUDA device " + std::to_string(dev) + " requested, " + std::to_string(count) +
                             " visible (CUDA_VISIBLE_DEVICES applies)");
  SV_CUDA_CHECK(cudaSetDevice(dev));
  device_name = cuda_device_name(dev);
  // Blocking streams: the synchronous copies of copy_floats (legacy default
  // stream) wait for queued layer work, so a host read never races a kernel.
  SV_CUDA_CHECK(cudaStreamCreate(&stream));
  SV_CUDA_CHECK(cudaStreamCreate(&copy_stream));
  SV_CUDNN_CHECK(cudnnCreate(&cudnn));
  SV_CUDNN_CHECK(cudnnSetStream(cudnn, stream));
  SV_CUBLAS_CHECK(cublasCreate(&cublas));
  SV_CUBLAS_CHECK(cublasSetStream(cublas, stream));
  // GEMMs stay FP32 in both math modes, as PyTorch's default
  // (torch.backends.cuda.matmul.allow_tf32 = False); tf32 is for convolutions.
  SV_CUBLAS_CHECK(cublasSetMathMode(cublas, CUBLAS_DEFAULT_MATH));
}

CudaContext::~CudaContext() { release(); }

void CudaContext::release() noexcept {
  // Errors are ignored here: this may run while an exception unwinds.
  if (cublas) cublasDestroy(cublas);
  if (cudnn) cudnnDestroy(cudnn);
  if (copy_stream) cudaStreamDestroy(copy_stream);
  if (stream) cudaStreamDestroy(stream);
  cublas = nullptr, cudnn = nullptr, copy_stream = nullptr, stream = nullptr;
}

void CudaContext::activate() const { SV_CUDA_CHECK(cudaSetDevice(device)); }

void* CudaContext::workspace(size_t bytes) {
  if (bytes > ws_.size()) {
    synchronize();  // the old workspace may still be in use on the stream
    ws_ = kernels::cuda::DeviceBuffer<unsigned char>(bytes);
  }
  return ws_.data();
}

float* CudaContext::filter_scratch(size_t floats) {
  if (floats > filter_.size()) {
    synchronize();  // queued convolutions may still read the old copy
    filter_ = kernels::cuda::DeviceBuffer<float>(floats);
  }
  return filter_.data();
}

void CudaContext::synchronize() const { SV_CUDA_CHECK(cudaStreamSynchronize(stream)); }

}  // namespace signvote::nn
