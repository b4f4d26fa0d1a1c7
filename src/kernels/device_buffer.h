// RAII CUDA memory (device arrays, pinned host arrays) and explicit, named
// copies. Plain header: usable from .cpp files compiled by the host compiler.
#pragma once

#include <cuda_runtime_api.h>

#include <cstddef>
#include <utility>

#include "kernels/cuda_check.h"

namespace signvote::kernels::cuda {

// RAII device array of `size` T (cudaMalloc / cudaFree); move-only.
template <class T>
class DeviceBuffer {
 public:
  DeviceBuffer() = default;
  explicit DeviceBuffer(std::size_t size) : size_(size) {
    if (size_ > 0) SV_CUDA_CHECK(cudaMalloc(reinterpret_cast<void**>(&ptr_), size_ * sizeof(T)));
  }
  DeviceBuffer(DeviceBuffer&& o) noexcept
      : ptr_(std::exchange(o.ptr_, nullptr)), size_(std::exchange(o.size_, 0)) {}
  DeviceBuffer& operator=(DeviceBuffer&& o) noexcept {
    if (this != &o) {
      release();
      ptr_ = std::exchange(o.ptr_, nullptr);
      size_ = std::exchange(o.size_, 0);
    }
    return *this;
  }
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;
  ~DeviceBuffer() { release(); }

  T* data() { return ptr_; }
  const T* data() const { return ptr_; }
  std::size_t size() const { return size_; }

 private:
  void release() noexcept {
    if (ptr_ != nullptr) cudaFree(ptr_);  // no throw from a destructor
    ptr_ = nullptr;
  }
  T* ptr_ = nullptr;
  std::size_t size_ = 0;
};

// RAII page-locked host array of `size` T (cudaMallocHost / cudaFreeHost):
// the staging buffers of asynchronous copies; move-only, zero-filled.
template <class T>
class PinnedBuffer {
 public:
  PinnedBuffer() = default;
  explicit PinnedBuffer(std::size_t size) : size_(size) {
    if (size_ == 0) return;
    SV_CUDA_CHECK(cudaMallocHost(reinterpret_cast<void**>(&ptr_), size_ * sizeof(T)));
    for (std::size_t i = 0; i < size_; ++i) ptr_[i] = T{};
  }
  PinnedBuffer(PinnedBuffer&& o) noexcept
      : ptr_(std::exchange(o.ptr_, nullptr)), size_(std::exchange(o.size_, 0)) {}
  PinnedBuffer& operator=(PinnedBuffer&& o) noexcept {
    if (this != &o) {
      release();
      ptr_ = std::exchange(o.ptr_, nullptr);
      size_ = std::exchange(o.size_, 0);
    }
    return *this;
  }
  PinnedBuffer(const PinnedBuffer&) = delete;
  PinnedBuffer& operator=(const PinnedBuffer&) = delete;
  ~PinnedBuffer() { release(); }

  T* data() { return ptr_; }
  const T* data() const { return ptr_; }
  std::size_t size() const { return size_; }

 private:
  void release() noexcept {
    if (ptr_ != nullptr) cudaFreeHost(ptr_);
    ptr_ = nullptr;
  }
  T* ptr_ = nullptr;
  std::size_t size_ = 0;
};

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
