// SV_CUDNN_CHECK / SV_CUBLAS_CHECK: every cuDNN and cuBLAS call goes through
// one of these; a failure throws std::runtime_error
// "file:line: call: <library status name and string>".
#pragma once

#include <cublas_v2.h>
#include <cudnn.h>

#include <stdexcept>
#include <string>

namespace signvote::nn {

[[noreturn]] inline void cudnn_fail(cudnnStatus_t st, const char* call, const char* file, int line) {
  throw std::runtime_error(std::string(file) + ":" + std::to_string(line) + ": " + call + ": " +
                           cudnnGetErrorString(st));
}
[[noreturn]] inline void cublas_fail(cublasStatus_t st, const char* call, const char* file, int line) {
  throw std::runtime_error(std::string(file) + ":" + std::to_string(line) + ": " + call + ": " +
                           cublasGetStatusName(st) + ": " + cublasGetStatusString(st));
}

}  // namespace signvote::nn

#define SV_CUDNN_CHECK(call)                                                        \
  do {                                                                              \
    const cudnnStatus_t sv_cudnn_st_ = (call);                                      \
    if (sv_cudnn_st_ != CUDNN_STATUS_SUCCESS)                                       \
      ::signvote::nn::cudnn_fail(sv_cudnn_st_, #call, __FILE__, __LINE__);          \
  } while (0)

#define SV_CUBLAS_CHECK(call)                                                       \
  do {                                                                              \
    const cublasStatus_t sv_cublas_st_ = (call);                                    \
    if (sv_cublas_st_ != CUBLAS_STATUS_SUCCESS)                                     \
      ::signvote::nn::cublas_fail(sv_cublas_st_, #call, __FILE__, __LINE__);        \
  } while (0)
