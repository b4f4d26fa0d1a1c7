// The CUDA execution context of one model, chosen when the model is built
// (never a global mode): the device, a compute stream and a copy stream,
// the cuDNN and cuBLAS handles bound to the compute stream, the math mode,
// the memory layout of the model's activations (model.layout: nchw | nhwc,
// one per model) and two growable buffers shared by the model's
// convolutions: the algorithms' workspace and the NHWC filter scratch.
// Every layer of a cuda model runs on ctx.stream, so work is ordered
// without synchronisation; host reads (loss, logits, flat buffers) sync.
#pragma once

#include <cublas_v2.h>
#include <cuda_runtime_api.h>
#include <cudnn.h>

#include <cstddef>
#include <memory>
#include <string>

#include "kernels/device_buffer.h"
#include "signvote/tensor.h"

namespace signvote::nn {

struct CudaContext {
  // Throws std::runtime_error when `device` is not a visible device and
  // std::invalid_argument for a layout other than nchw or nhwc.
  CudaContext(int device, bool tf32, size_t workspace_limit_bytes, Layout layout = Layout::nchw);
  ~CudaContext();
  CudaContext(const CudaContext&) = delete;
  CudaContext& operator=(const CudaContext&) = delete;

  // Makes this context's device current on the calling thread.
  void activate() const;
  // Workspace of at least `bytes` (<= workspace_limit), grown on demand.
  void* workspace(size_t bytes);
  // Device floats for a convolution's filter in KRSC order (nhwc models:
  // the transposed weights, then the backward-filter result), grown on
  // demand; valid until the next call. Stream-ordered use only.
  float* filter_scratch(size_t floats);
  void synchronize() const;

  int device = 0;
  bool tf32 = false;            // TF32 tensor-core maths in convolutions (GEMMs stay FP32)
  size_t workspace_limit = 0;   // bytes one convolution algorithm may use
  Layout layout = Layout::nchw; // of every 4-D activation of the model (nchw | nhwc)
  std::string device_name;      // "NVIDIA H200 (sm_90, 139.8 GiB)"
  cudaStream_t stream = nullptr;       // all layer work
  cudaStream_t copy_stream = nullptr;  // host -> device batch uploads
  cudnnHandle_t cudnn = nullptr;
  cublasHandle_t cublas = nullptr;

 private:
  void create();
  void release() noexcept;
  kernels::cuda::DeviceBuffer<unsigned char> ws_;
  kernels::cuda::DeviceBuffer<float> filter_;
};

// The cuDNN tensor format of a cuda tensor layout (nchw | nhwc).
cudnnTensorFormat_t cudnn_format(Layout l);

}  // namespace signvote::nn
