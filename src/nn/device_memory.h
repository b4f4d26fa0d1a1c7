// Internal: raw CUDA memory for Tensor and the models' flat buffers. Every
// function throws std::logic_error in a build without CUDA and
// std::runtime_error (file:line, CUDA error string) when a call fails.
#pragma once

#include <cstddef>

namespace signvote::nn {

float* device_alloc_floats(size_t n);       // cudaMalloc; nullptr for n == 0
void device_free(float* p) noexcept;        // cudaFree; ignores errors (destructors)
void device_zero(float* p, size_t n);       // cudaMemset, synchronous

}  // namespace signvote::nn
