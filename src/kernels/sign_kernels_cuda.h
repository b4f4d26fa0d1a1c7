// CUDA twins of the CPU sign kernels (signvote/sign_kernels.h), same layout
// (signvote/sign_layout.h), bit-identical results. Host launchers take DEVICE
// pointers and a stream; they are asynchronous (launch errors are checked
// with SV_CUDA_CHECK and thrown as std::runtime_error). Plain header: usable
// from .cpp files compiled by the host compiler.
#pragma once

#include <cuda_runtime_api.h>

#include <cstddef>
#include <cstdint>

#include "kernels/cuda_check.h"
#include "kernels/device_buffer.h"
#include "signvote/sign_layout.h"

namespace signvote::kernels::cuda {

// NaN counters: every pack launcher ADDS the NaN count of the values it
// packs to *nan_count (device memory, one unsigned long long, atomicAdd) and
// never zeroes it, so no memset sits inside a round or a timed loop. The
// caller zeroes its counters (reset_counters) before the first launch and
// after each read.
// counters (n,) = 0, queued on `stream`.
void reset_counters(unsigned long long* counters, std::size_t n, cudaStream_t stream);
// x (n,) float -> out (packed_words(n),) uint32 (same bits as CPU pack);
// *nan_count += NaNs of x.
void pack(const float* x, std::size_t n, std::uint32_t* out, unsigned long long* nan_count,
          cudaStream_t stream);
// m (n,) = beta*m + (1-beta)*g in place, then pack(m) -> out; *nan_count += NaNs of m.
void momentum_pack(float* m, const float* g, std::size_t n, float beta, std::uint32_t* out,
                   unsigned long long* nan_count, cudaStream_t stream);
// Lion: pack(beta1*m + (1-beta1)*g) -> out, then m = beta2*m + (1-beta2)*g;
// *nan_count += NaNs of the packed values (CPU twin: SignOps::lion_pack).
void lion_pack(float* m, const float* g, std::size_t n, float beta1, float beta2, std::uint32_t* out,
               unsigned long long* nan_count, cudaStream_t stream);
// x (n,) -= lr * (s + wd*x), s = +-1 from bits (packed_words(n),).
void apply(float* x, std::size_t n, const std::uint32_t* bits, float lr, float wd,
           cudaStream_t stream);
// x[first + i] -= lr * (s + wd*x[first + i]) for i < n, s = +-1 from bit
// first + i of bits (a range that may start inside a word: a parameter
// tensor of the PyTorch workers; CPU twin: the host engine's apply_part).
void apply_range(float* x, std::size_t first, std::size_t n, const std::uint32_t* bits, float lr, float wd,
                 cudaStream_t stream);
// votes: W rows of `words` words, row r at votes + r*stride -> out (words,)
// majority bits, a tie's from `ties` (tie_word(round), sign_layout.h). W in
// [1, 1023], else std::invalid_argument.
void tally(const std::uint32_t* votes, std::size_t W, std::size_t stride, std::size_t words,
           std::uint32_t* out, std::uint32_t ties, cudaStream_t stream);
// Adversary sign flip: bits (packed_words(n),) ^= ~0 on the n valid bits,
// tail bits stay 0 (CPU twin: kernels::invert_signs).
void invert_signs(std::uint32_t* bits, std::size_t n, cudaStream_t stream);

}  // namespace signvote::kernels::cuda
