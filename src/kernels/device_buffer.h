// RAII CUDA memory (device arrays, pinned host arrays) and explicit, named
// copies. Plain header: usable from .cpp files compiled by the host compiler.
#pragma once

#include <cuda_runtime_api.h>

#include <cstddef>
#include <cstring>
#include <utility>

#include "kernels/cuda_check.h"

namespace signvote::kernels::cuda {

// RAII array of `size` T in CUDA-managed memory, move-only; Memory says
// where: DeviceMemory (cudaMalloc / cudaFree) or PinnedMemory (page-locked
// host memory, cudaMallocHost / cudaFreeHost, zero-filled: the staging
// buffers of asynchronous copies).
struct DeviceMemory {
  static void* allocate(std::size_t bytes) {
    void* p = nullptr;
    SV_CUDA_CHECK(cudaMalloc(&p, bytes));
    return p;
  }
  static void release(void* p) noexcept { cudaFree(p); }  // no throw from a destructor
};
struct PinnedMemory {
  static void* allocate(std::size_t bytes) {
    void* p = nullptr;
    SV_CUDA_CHECK(cudaMallocHost(&p, bytes));
    std::memset(p, 0, bytes);
    return p;
  }
  static void release(void* p) noexcept { cudaFreeHost(p); }
};

template <class T, class Memory>
class CudaArray {
 public:
  CudaArray() = default;
  explicit CudaArray(std::size_t size) : size_(size) {
    if (size_ > 0) ptr_ = static_cast<T*>(Memory::allocate(size_ * sizeof(T)));
  }
  CudaArray(CudaArray&& o) noexcept : ptr_(std::exchange(o.ptr_, nullptr)), size_(std::exchange(o.size_, 0)) {}
  CudaArray& operator=(CudaArray&& o) noexcept {
    if (this != &o) {
      reset();
      ptr_ = std::exchange(o.ptr_, nullptr);
      size_ = std::exchange(o.size_, 0);
    }
    return *this;
  }
  CudaArray(const CudaArray&) = delete;
  CudaArray& operator=(const CudaArray&) = delete;
  ~CudaArray() { reset(); }

  T* data() { return ptr_; }
  const T* data() const { return ptr_; }
  std::size_t size() const { return size_; }

 private:
  void reset() noexcept {
    if (ptr_ != nullptr) Memory::release(ptr_);
    ptr_ = nullptr;
  }
  T* ptr_ = nullptr;
  std::size_t size_ = 0;
};

template <class T>
using DeviceBuffer = CudaArray<T, DeviceMemory>;
template <class T>
using PinnedBuffer = CudaArray<T, PinnedMemory>;

// Explicit, synchronous host -> device copy of count T.
template <class T>
void copy_to_device(T* device_dst, const T* host_src, std::size_t count) {
  SV_CUDA_CHECK(cudaMemcpy(device_dst, host_src, count * sizeof(T), cudaMemcpyHostToDevice));
}
// Explicit, synchronous device -> host copy of count T.
template <class T>
void copy_to_host(T* host_dst, const T* device_src, std::size_t count) {
  SV_CUDA_CHECK(cudaMemcpy(host_dst, device_src, count * sizeof(T), cudaMemcpyDeviceToHost));
}

}  // namespace signvote::kernels::cuda
