// Grid-stride element kernels for the fp32 baselines (dense_update.h).
#include <algorithm>

#include "kernels/cuda_check.h"
#include "kernels/dense_kernels_cuda.h"

namespace signvote::kernels::cuda {
namespace {

constexpr int kBlock = 256;
unsigned grid_for(std::size_t n) {
  return static_cast<unsigned>(std::min<std::size_t>((n + kBlock - 1) / kBlock, 65535));
}

__global__ void sgd_kernel(float* x, float* m, const float* g, std::size_t n, DenseStep s) {
  const std::size_t stride = static_cast<std::size_t>(gridDim.x) * blockDim.x;
  for (std::size_t i = static_cast<std::size_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += stride)
    sgd_update(x[i], m[i], g[i], s);
}

__global__ void adam_kernel(float* x, float* m, float* v, const float* g, std::size_t n, DenseStep s) {
  const std::size_t stride = static_cast<std::size_t>(gridDim.x) * blockDim.x;
  for (std::size_t i = static_cast<std::size_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += stride)
    adam_update(x[i], m[i], v[i], g[i], s);
}

__global__ void scale_kernel(float* x, std::size_t n, float a) {
  const std::size_t stride = static_cast<std::size_t>(gridDim.x) * blockDim.x;
  for (std::size_t i = static_cast<std::size_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += stride)
    x[i] = __fmul_rn(x[i], a);
}

}  // namespace

void scale(float* x, std::size_t n, float a, cudaStream_t stream) {
  if (n == 0) return;
  scale_kernel<<<grid_for(n), kBlock, 0, stream>>>(x, n, a);
  SV_CUDA_CHECK(cudaGetLastError());
}

void sgd_step(float* x, float* m, const float* g, std::size_t n, const DenseStep& s, cudaStream_t stream) {
  if (n == 0) return;
  sgd_kernel<<<grid_for(n), kBlock, 0, stream>>>(x, m, g, n, s);
  SV_CUDA_CHECK(cudaGetLastError());
}

void adam_step(float* x, float* m, float* v, const float* g, std::size_t n, const DenseStep& s,
               cudaStream_t stream) {
  if (n == 0) return;
  adam_kernel<<<grid_for(n), kBlock, 0, stream>>>(x, m, v, g, n, s);
  SV_CUDA_CHECK(cudaGetLastError());
}

}  // namespace signvote::kernels::cuda
