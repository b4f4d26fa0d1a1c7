// SV_CUDA_CHECK(call): throws std::runtime_error "file:line: call: <CUDA
// error string>" when a CUDA runtime call (or cudaGetLastError() after a
// launch) does not return cudaSuccess. Plain header, usable from .cpp and .cu.
#pragma once

#include <cuda_runtime_api.h>

#include <stdexcept>
#include <string>

namespace signvote::kernels {

[[noreturn]] inline void cuda_fail(cudaError_t err, const char* call, const char* file,
                                   int line) {
  throw std::runtime_error(std::string(file) + ":" + std::to_string(line) + ": " + call + ": " +
                           cudaGetErrorName(err) + ": " + cudaGetErrorString(err));
}

}  // namespace signvote::kernels

#define SV_CUDA_CHECK(call)                                                   \
  do {                                                                        \
    const cudaError_t sv_cuda_err_ = (call);                                  \
    if (sv_cuda_err_ != cudaSuccess) {                                        \
      ::signvote::kernels::cuda_fail(sv_cuda_err_, #call, __FILE__, __LINE__); \
    }                                                                         \
  } while (0)
