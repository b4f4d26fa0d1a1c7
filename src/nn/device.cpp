// include/signvote/device.h and device_memory.h: the CUDA runtime calls
// behind memory spaces, or clear errors in a build without CUDA.
#include "device_memory.h"
#include "signvote/device.h"

#include <algorithm>
#include <cstdio>
#include <stdexcept>

#ifdef SIGNVOTE_NN_CUDA
#include <cuda_runtime_api.h>

#include "kernels/cuda_check.h"
#endif

namespace signvote {

const char* mem_space_name(MemSpace s) { return s == MemSpace::cuda ? "cuda" : "host"; }

#ifdef SIGNVOTE_NN_CUDA

bool cuda_built() { return true; }

int cuda_device_count(std::string* why) {
  int n = 0;
  const cudaError_t err = cudaGetDeviceCount(&n);
  if (err != cudaSuccess) {
    if (why) *why = std::string(cudaGetErrorName(err)) + ": " + cudaGetErrorString(err);
    cudaGetLastError();  // clear the sticky-free error state for later calls
    return 0;
  }
  if (n == 0 && why) *why = "the CUDA runtime reports 0 devices";
  return n;
}

std::string cuda_device_name(int index) {
  cudaDeviceProp p{};
  SV_CUDA_CHECK(cudaGetDeviceProperties(&p, index));
  char buf[320];
  std::snprintf(buf, sizeof buf, "%s (sm_%d%d, %.1f GiB)", p.name, p.major, p.minor,
                double(p.totalGlobalMem) / double(1ull << 30));
  return buf;
}

void copy_floats(float* dst, MemSpace dst_space, const float* src, MemSpace src_space, size_t n, void* stream) {
  if (n == 0) return;
  if (dst_space == MemSpace::host && src_space == MemSpace::host) {
    std::copy_n(src, n, dst);
    return;
  }
  const cudaMemcpyKind kind = src_space == MemSpace::host ? cudaMemcpyHostToDevice
                              : dst_space == MemSpace::host ? cudaMemcpyDeviceToHost
                                                            : cudaMemcpyDeviceToDevice;
  if (stream == nullptr) {
    SV_CUDA_CHECK(cudaMemcpy(dst, src, n * sizeof(float), kind));
    return;
  }
  const auto s = static_cast<cudaStream_t>(stream);
  SV_CUDA_CHECK(cudaMemcpyAsync(dst, src, n * sizeof(float), kind, s));
  SV_CUDA_CHECK(cudaStreamSynchronize(s));
}

#else

namespace {
[[noreturn]] void no_cuda(const char* what) {
  throw std::logic_error(std::string(what) + ": this signvote was built without CUDA (configure with the CUDA toolkit in /usr/local/cuda)");
}
}  // namespace

bool cuda_built() { return false; }
int cuda_device_count(std::string* why) {
  if (why) *why = "this signvote was built without CUDA";
  return 0;
}
std::string cuda_device_name(int) { no_cuda("cuda_device_name"); }
void copy_floats(float* dst, MemSpace dst_space, const float* src, MemSpace src_space, size_t n, void*) {
  if (dst_space == MemSpace::cuda || src_space == MemSpace::cuda) no_cuda("copy_floats");
  std::copy_n(src, n, dst);
}

#endif

namespace nn {

#ifdef SIGNVOTE_NN_CUDA
float* device_alloc_floats(size_t n) {
  if (n == 0) return nullptr;
  void* p = nullptr;
  SV_CUDA_CHECK(cudaMalloc(&p, n * sizeof(float)));
  return static_cast<float*>(p);
}
void device_free(float* p) noexcept {
  if (p) cudaFree(p);
}
void device_zero(float* p, size_t n) {
  if (n) SV_CUDA_CHECK(cudaMemset(p, 0, n * sizeof(float)));
}
#else
float* device_alloc_floats(size_t) { no_cuda("device tensor"); }
void device_free(float*) noexcept {}
void device_zero(float*, size_t) { no_cuda("device tensor"); }
#endif

}  // namespace nn
}  // namespace signvote
