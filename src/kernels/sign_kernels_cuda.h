// CUDA twins of the CPU sign kernels (signvote/sign_kernels.h), same layout
// (signvote/sign_layout.h), bit-identical results. Host launchers take DEVICE
// pointers and a stream; they are asynchronous (launch errors are checked
// with SV_CUDA_CHECK and thrown as std::runtime_error). Plain header: usable
// from .cpp files compiled by the host compiler.
#pragma once

#include <cuda_runtime_api.h>

#include <cstddef>
#include <cstdint>
#include <utility>

#include "kernels/cuda_check.h"
#include "signvote/sign_layout.h"

namespace signvote::kernels::cuda {

// x (n,) float -> out (packed_words(n),) uint32 (same bits as CPU pack).
// *nan_count (device, one value) is zeroed, then set to the NaN count of x.
void pack(const float* x, std::size_t n, std::uint32_t* out, unsigned long long* nan_count,
          cudaStream_t stream);
// m (n,) = beta*m + (1-beta)*g in place, then pack(m) -> out; *nan_count as pack.
void momentum_pack(float* m, const float* g, std::size_t n, float beta, std::uint32_t* out,
                   unsigned long long* nan_count, cudaStream_t stream);
// x (n,) -= lr * (s + wd*x), s = +-1 from bits (packed_words(n),).
void apply(float* x, std::size_t n, const std::uint32_t* bits, float lr, float wd,
           cudaStream_t stream);
// votes: W rows of `words` words, row r at votes + r*stride -> out (words,)
// majority bits (ties -> +1). W in [1, 1023], else std::invalid_argument.
void tally(const std::uint32_t* votes, std::size_t W, std::size_t stride, std::size_t words,
           std::uint32_t* out, cudaStream_t stream);

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
