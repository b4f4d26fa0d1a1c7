// AVX2 sign kernels (AVX2+FMA+BMI2 flags, set on this TU only; FMA is never
// used for the float maths: -ffp-contract=off keeps results bit-identical to
// scalar). Runs only after the dispatcher checked __builtin_cpu_supports.
// Unaligned loads/stores throughout; the partial last word is done in scalar.
#include <immintrin.h>

#include <cstring>

#include "kernels/sign_kernels_detail.h"
#include "signvote/sign_layout.h"
#include "kernels/tally_dispatch.h"

namespace signvote::kernels::detail {
namespace {

// Software prefetch distance for tally rows, in words (1 KiB).
constexpr std::size_t kTallyPrefetchWords = 256;

// Scalar tail: x (count < 32,) -> one word; adds its non-finite count to *nans.
inline std::uint32_t pack_tail(const float* x, std::size_t count, std::size_t* nans) {
  std::uint32_t word = 0;
  for (std::size_t b = 0; b < count; ++b) {
    word |= sign_bit(x[b]) << b;
    *nans += non_finite(x[b]);
  }
  return word;
}

// 32 floats (4 x 8 lanes, already loaded) -> 1 word; the non-finite count
// (x - x unordered: NaN or +-inf) added to *nans.
inline std::uint32_t pack32(const __m256 (&v)[4], std::size_t* nans) {
  const __m256 zero = _mm256_setzero_ps();
  std::uint32_t word = 0, nan_lanes = 0;
  for (int j = 0; j < 4; ++j) {
    const auto ge = static_cast<std::uint32_t>(_mm256_movemask_ps(_mm256_cmp_ps(v[j], zero, _CMP_GE_OQ)));
    const __m256 d = _mm256_sub_ps(v[j], v[j]);
    const auto un = static_cast<std::uint32_t>(_mm256_movemask_ps(_mm256_cmp_ps(d, d, _CMP_UNORD_Q)));
    word |= ge << (8 * j);
    nan_lanes |= un << (8 * j);
  }
  if (nan_lanes) *nans += static_cast<std::size_t>(_mm_popcnt_u32(nan_lanes));
  return word;
}

// 8 lanes of +-1.0f from bits [8j, 8j+8) of word: shift bit 8j+l to the sign
// position (bit 31), invert, OR into 1.0f.
inline __m256 signs8(std::uint32_t word, int j) {
  const __m256i shifts = _mm256_sub_epi32(_mm256_set1_epi32(31 - 8 * j),
                                          _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
  const __m256i at_sign = _mm256_sllv_epi32(_mm256_set1_epi32(static_cast<int>(word)), shifts);
  const __m256 sign_bit_mask = _mm256_castsi256_ps(_mm256_set1_epi32(INT32_MIN));
  return _mm256_or_ps(_mm256_set1_ps(1.0f),
                      _mm256_andnot_ps(_mm256_castsi256_ps(at_sign), sign_bit_mask));
}

// 8 output words per step: W rows of one 32-byte column through K+1
// bit-sliced counter planes in ymm registers; last < 8 words on 32-bit lanes.
template <int K>
void tally_k(const std::uint32_t* votes, std::size_t W, std::size_t stride, std::size_t words,
             std::uint32_t* out, std::uint32_t ties) {
  const __m256i zero = _mm256_setzero_si256();
  const __m256i ones = _mm256_set1_epi32(-1);
  const __m256i tie = _mm256_set1_epi32(static_cast<int>(ties));
  const auto W32 = static_cast<std::uint32_t>(W);
  std::size_t c = 0;
  for (; c + 8 <= words; c += 8) {
    __m256i planes[K + 1];
    bitslice_preload<K, __m256i>(planes, static_cast<std::uint32_t>(W), zero, ones);
    const std::uint32_t* p = votes + c;
    const bool new_line = c % 16 == 0;  // one prefetch per 64-byte line per row
    for (std::size_t r = 0; r < W; ++r, p += stride) {
      if (new_line) __builtin_prefetch(p + kTallyPrefetchWords);  // W streams: see avx512 TU
      bitslice_add<K>(planes, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)));
    }
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + c), bitslice_result<K, __m256i>(planes, W32, tie));
  }
  for (; c < words; ++c) {
    std::uint32_t planes[K + 1];
    bitslice_preload<K, std::uint32_t>(planes, static_cast<std::uint32_t>(W), 0u, ~0u);
    for (std::size_t r = 0; r < W; ++r) bitslice_add<K>(planes, votes[r * stride + c]);
    out[c] = bitslice_result<K, std::uint32_t>(planes, W32, ties);
  }
}

}  // namespace

std::size_t pack_avx2(const float* x, std::size_t n, std::uint32_t* out) {
  std::size_t nans = 0;
  const std::size_t full = n / kBitsPerWord;
  for (std::size_t w = 0; w < full; ++w) {
    const float* p = x + w * kBitsPerWord;
    const __m256 v[4] = {_mm256_loadu_ps(p), _mm256_loadu_ps(p + 8), _mm256_loadu_ps(p + 16),
                         _mm256_loadu_ps(p + 24)};
    out[w] = pack32(v, &nans);
  }
  if (n > full * kBitsPerWord) {
    out[full] = pack_tail(x + full * kBitsPerWord, n - full * kBitsPerWord, &nans);
  }
  return nans;
}

// Signum is Lion with beta1 = beta2: the same loads and stores, one kernel.
std::size_t momentum_pack_avx2(float* m, const float* g, std::size_t n, float beta,
                               std::uint32_t* out) {
  return lion_pack_avx2(m, g, n, beta, beta, out);
}

std::size_t lion_pack_avx2(float* m, const float* g, std::size_t n, float beta1, float beta2,
                           std::uint32_t* out) {
  const float omb1 = 1.0f - beta1, omb2 = 1.0f - beta2;
  const __m256 vb1 = _mm256_set1_ps(beta1), vomb1 = _mm256_set1_ps(omb1);
  const __m256 vb2 = _mm256_set1_ps(beta2), vomb2 = _mm256_set1_ps(omb2);
  std::size_t nans = 0;
  const std::size_t full = n / kBitsPerWord;
  for (std::size_t w = 0; w < full; ++w) {
    float* pm = m + w * kBitsPerWord;
    const float* pg = g + w * kBitsPerWord;
    __m256 c[4];
    for (int j = 0; j < 4; ++j) {
      const __m256 mv = _mm256_loadu_ps(pm + 8 * j), gv = _mm256_loadu_ps(pg + 8 * j);
      c[j] = _mm256_add_ps(_mm256_mul_ps(vb1, mv), _mm256_mul_ps(vomb1, gv));
      _mm256_storeu_ps(pm + 8 * j, _mm256_add_ps(_mm256_mul_ps(vb2, mv), _mm256_mul_ps(vomb2, gv)));
    }
    out[w] = pack32(c, &nans);
  }
  const std::size_t first = full * kBitsPerWord;
  if (n > first) {
    float c[kBitsPerWord];
    for (std::size_t i = first; i < n; ++i) {
      c[i - first] = momentum_update(m[i], g[i], beta1, omb1);
      m[i] = momentum_update(m[i], g[i], beta2, omb2);
    }
    out[full] = pack_tail(c, n - first, &nans);
  }
  return nans;
}

void apply_avx2(float* x, std::size_t n, const std::uint32_t* bits, float lr, float wd) {
  const __m256 vlr = _mm256_set1_ps(lr);
  const __m256 vwd = _mm256_set1_ps(wd);
  const std::size_t full = n / kBitsPerWord;
  for (std::size_t w = 0; w < full; ++w) {
    float* p = x + w * kBitsPerWord;
    for (int j = 0; j < 4; ++j) {
      const __m256 xv = _mm256_loadu_ps(p + 8 * j);
      const __m256 u = _mm256_add_ps(signs8(bits[w], j), _mm256_mul_ps(vwd, xv));
      _mm256_storeu_ps(p + 8 * j, _mm256_sub_ps(xv, _mm256_mul_ps(vlr, u)));
    }
  }
  for (std::size_t i = full * kBitsPerWord; i < n; ++i) {
    x[i] = apply_update(x[i], sign_value(get_bit(bits, i)), lr, wd);
  }
}

void tally_avx2(const std::uint32_t* votes, std::size_t W, std::size_t stride,
                std::size_t words, std::uint32_t* out, std::uint32_t ties) {
  SV_TALLY_DISPATCH(tally_k, W, votes, W, stride, words, out, ties)
}

}  // namespace signvote::kernels::detail
