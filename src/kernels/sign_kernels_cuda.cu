// CUDA sign kernels + thin launchers. Layout, float op order and the
// bit-sliced counter come from sign_layout.h, shared with the CPU code, so
// results are bit-identical to the CPU kernels.
#include <algorithm>
#include <stdexcept>
#include <string>

#include "kernels/sign_kernels_cuda.h"
#include "kernels/tally_dispatch.h"

namespace signvote::kernels::cuda {
namespace {

constexpr int kBlock = 256;               // threads per block (8 warps)
constexpr std::size_t kMaxBlocks = 65535;  // grid-stride loops cover the rest
constexpr unsigned kFullWarp = 0xFFFFFFFFu;

// Blocks for `threads` work items, capped (kernels use grid-stride loops).
unsigned grid_for(std::size_t threads) {
  const std::size_t blocks = (threads + kBlock - 1) / kBlock;
  return static_cast<unsigned>(std::min(blocks, kMaxBlocks));
}

// One warp per output word: lane l handles coordinate 32w + l, __ballot_sync
// gathers the 32 sign bits (lane l -> bit l, matching sign_layout.h) and the
// NaN lanes. Warp-uniform loop, so the full-warp ballots are safe.
// kMomentum: m (n,) is first updated in place with g (n,) and packed.
// kLion: c = beta m + omb g is packed, m = beta2 m + omb2 g stored.
enum PackMode { kPlain, kMomentum, kLion };

template <int Mode>
__global__ void pack_kernel(float* x, const float* g, std::size_t n, float beta, float omb, float beta2, float omb2,
                            std::uint32_t* out, unsigned long long* nan_count) {
  const unsigned lane = threadIdx.x % 32u;
  const std::size_t first_warp = (static_cast<std::size_t>(blockIdx.x) * blockDim.x + threadIdx.x) / 32u;
  const std::size_t warps = static_cast<std::size_t>(gridDim.x) * blockDim.x / 32u;
  unsigned long long nans = 0;
  for (std::size_t w = first_warp; w < packed_words(n); w += warps) {
    const std::size_t i = w * kBitsPerWord + lane;
    const bool valid = i < n;
    float v = valid ? x[i] : 0.0f;
    if (Mode != kPlain && valid) {
      const float m = v;
      v = momentum_update(m, g[i], beta, omb);
      x[i] = Mode == kLion ? momentum_update(m, g[i], beta2, omb2) : v;
    }
    const unsigned bits = __ballot_sync(kFullWarp, valid && sign_bit(v) != 0u);
    const unsigned nan_lanes = __ballot_sync(kFullWarp, valid && non_finite(v));
    if (lane == 0) {
      out[w] = bits;
      nans += static_cast<unsigned long long>(__popc(nan_lanes));
    }
  }
  if (lane == 0 && nans != 0) atomicAdd(nan_count, nans);
}

// One thread per coordinate: x[i] = x[i] - lr*(s_i + wd*x[i]).
// x[first + i] for i < n, with bit first + i of bits.
__global__ void apply_kernel(float* x, std::size_t first, std::size_t n, const std::uint32_t* bits,
                             float lr, float wd) {
  const std::size_t stride = static_cast<std::size_t>(gridDim.x) * blockDim.x;
  for (std::size_t i = static_cast<std::size_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n;
       i += stride) {
    x[first + i] = apply_update(x[first + i], sign_value(get_bit(bits, first + i)), lr, wd);
  }
}

// One thread per word: the adversary's sign flip (sign_layout.h inverted_word).
__global__ void invert_kernel(std::uint32_t* bits, std::size_t n) {
  const std::size_t words = packed_words(n);
  const std::size_t stride = static_cast<std::size_t>(gridDim.x) * blockDim.x;
  for (std::size_t w = static_cast<std::size_t>(blockIdx.x) * blockDim.x + threadIdx.x; w < words;
       w += stride) {
    bits[w] = inverted_word(bits[w], n, w);
  }
}

// One thread per output word: W rows (coalesced across threads) through K+1
// bit-sliced counter planes in registers; out bit = plane K, a tie's from `ties`.
template <int K>
__global__ void tally_kernel(const std::uint32_t* votes, std::uint32_t W, std::size_t stride,
                             std::size_t words, std::uint32_t* out, std::uint32_t ties) {
  const std::size_t step = static_cast<std::size_t>(gridDim.x) * blockDim.x;
  for (std::size_t c = static_cast<std::size_t>(blockIdx.x) * blockDim.x + threadIdx.x;
       c < words; c += step) {
    std::uint32_t planes[K + 1];
    bitslice_preload<K, std::uint32_t>(planes, W, 0u, ~0u);
    for (std::uint32_t r = 0; r < W; ++r) bitslice_add<K>(planes, __ldg(votes + r * stride + c));
    out[c] = bitslice_result<K, std::uint32_t>(planes, W, ties);
  }
}

template <int K>
void launch_tally(const std::uint32_t* votes, std::size_t W, std::size_t stride,
                  std::size_t words, std::uint32_t* out, std::uint32_t ties, cudaStream_t stream) {
  tally_kernel<K><<<grid_for(words), kBlock, 0, stream>>>(votes, static_cast<std::uint32_t>(W),
                                                          stride, words, out, ties);
}

template <int Mode>
void launch_pack(float* x, const float* g, std::size_t n, float beta, float beta2, std::uint32_t* out,
                 unsigned long long* nan_count, cudaStream_t stream) {
  if (n == 0) return;  // adds 0 to *nan_count
  pack_kernel<Mode><<<grid_for(packed_words(n) * 32u), kBlock, 0, stream>>>(
      x, g, n, beta, 1.0f - beta, beta2, 1.0f - beta2, out, nan_count);
  SV_CUDA_CHECK(cudaGetLastError());
}

}  // namespace

void reset_counters(unsigned long long* counters, std::size_t n, cudaStream_t stream) {
  if (n) SV_CUDA_CHECK(cudaMemsetAsync(counters, 0, n * sizeof(unsigned long long), stream));
}

void pack(const float* x, std::size_t n, std::uint32_t* out, unsigned long long* nan_count,
          cudaStream_t stream) {
  // Momentum = false never writes x; the const_cast only shares the kernel.
  launch_pack<kPlain>(const_cast<float*>(x), nullptr, n, 0.0f, 0.0f, out, nan_count, stream);
}

void momentum_pack(float* m, const float* g, std::size_t n, float beta, std::uint32_t* out,
                   unsigned long long* nan_count, cudaStream_t stream) {
  launch_pack<kMomentum>(m, g, n, beta, beta, out, nan_count, stream);
}

void lion_pack(float* m, const float* g, std::size_t n, float beta1, float beta2, std::uint32_t* out,
               unsigned long long* nan_count, cudaStream_t stream) {
  launch_pack<kLion>(m, g, n, beta1, beta2, out, nan_count, stream);
}

void apply(float* x, std::size_t n, const std::uint32_t* bits, float lr, float wd,
           cudaStream_t stream) {
  if (n == 0) return;
  apply_kernel<<<grid_for(n), kBlock, 0, stream>>>(x, 0, n, bits, lr, wd);
  SV_CUDA_CHECK(cudaGetLastError());
}

void apply_range(float* x, std::size_t first, std::size_t n, const std::uint32_t* bits, float lr, float wd,
                 cudaStream_t stream) {
  if (n == 0) return;
  apply_kernel<<<grid_for(n), kBlock, 0, stream>>>(x, first, n, bits, lr, wd);
  SV_CUDA_CHECK(cudaGetLastError());
}

void invert_signs(std::uint32_t* bits, std::size_t n, cudaStream_t stream) {
  if (n == 0) return;
  invert_kernel<<<grid_for(packed_words(n)), kBlock, 0, stream>>>(bits, n);
  SV_CUDA_CHECK(cudaGetLastError());
}

void tally(const std::uint32_t* votes, std::size_t W, std::size_t stride, std::size_t words,
           std::uint32_t* out, std::uint32_t ties, cudaStream_t stream) {
  if (W < 1 || W > kMaxVoters) {
    throw std::invalid_argument("cuda::tally: W = " + std::to_string(W) +
                                " voters, must be in [1, 1023]");
  }
  if (words == 0) return;
  SV_TALLY_DISPATCH(launch_tally, W, votes, W, stride, words, out, ties, stream)
  SV_CUDA_CHECK(cudaGetLastError());
}

}  // namespace signvote::kernels::cuda
