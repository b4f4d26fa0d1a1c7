// The CUDA execution context of one model, chosen when the model is built
// (never a global mode): the device, a compute stream and a copy stream,
// the cuDNN and cuBLAS handles bound to the compute stream, the math mode
// and one growable workspace shared by the model's convolutions.
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

namespace signvote::nn {

struct CudaContext {
  // Throws std::runtime_error when `device` is not a visible device.
  CudaContext(int device, bool tf32, size_t workspace_limit_bytes);
  ~CudaContext();
  CudaContext(const CudaContext&) = delete;
  CudaContext& operator=(const CudaContext&) = delete;

  // Makes this context's device current on the calling thread.
  void activate() const;
  // Workspace of at least `bytes` (<= workspace_limit), grown on demand.
  void* workspace(size_t bytes);
  void synchronize() const;

  int device = 0;
  bool tf32 = false;            // TF32 tensor-core maths in convolutions (GEMMs stay FP32)
  size_t workspace_limit = 0;   // bytes one convolution algorithm may use
  std::string device_name;      // "NVIDIA H200 (sm_90, 139.8 GiB)"
  cudaStream_t stream = nullptr;       // all layer work
  cudaStream_t copy_stream = nullptr;  // host -> device batch uploads
  cudnnHandle_t cudnn = nullptr;
  cublasHandle_t cublas = nullptr;

 private:
  void create();
  void release() noexcept;
  kernels::cuda::DeviceBuffer<unsigned char> ws_;
};

// "fp32" | "tf32" -> tf32 flag; throws std::invalid_argument otherwise.
bool parse_math_mode(const std::string& math);

}  // namespace signvote::nn
