// AVX-512 sign kernels (F+BW+VL+VPOPCNTDQ, BMI2). This TU alone is compiled
// with the AVX-512 -m flags (CMakeLists.txt); it only runs after the
// dispatcher checked __builtin_cpu_supports. Loads/stores are unaligned (no
// alignment is guaranteed by callers); the partial last word uses masks.
#include <immintrin.h>

#include <cstring>

#include "kernels/sign_kernels_detail.h"
#include "kernels/sign_layout.h"
#include "kernels/tally_dispatch.h"

namespace signvote::kernels::detail {
namespace {

// Software prefetch distance for tally rows, in words (1 KiB).
constexpr std::size_t kTallyPrefetchWords = 256;

// Lanes [0, count) of a 16-lane half, count in [0, 16].
inline __mmask16 lane_mask(std::size_t count) {
  return count >= 16 ? __mmask16(0xFFFF) : __mmask16((1u << count) - 1u);
}

// Full 16-lane float I/O. Aligned: one zmm access (x 64-byte aligned).
// Unaligned: two ymm accesses; a zmm load/store that splits two cache lines
// costs more than two ymm ones (read bandwidth 27 vs 41 GB/s measured here).
template <bool Aligned>
inline __m512 load16(const float* p) {
  if constexpr (Aligned) {
    return _mm512_load_ps(p);
  } else {
    // [lo, hi] from two ymm loads. The mask_ form with an explicit source
    // avoids GCC 12's -Wmaybe-uninitialized on _mm512_undefined_pd.
    const __m512d lo = _mm512_castpd256_pd512(_mm256_loadu_pd(reinterpret_cast<const double*>(p)));
    const __m256d hi = _mm256_loadu_pd(reinterpret_cast<const double*>(p + 8));
    return _mm512_castpd_ps(_mm512_mask_insertf64x4(lo, 0xFF, lo, hi, 1));
  }
}
template <bool Aligned>
inline void store16(float* p, __m512 v) {
  if constexpr (Aligned) {
    _mm512_store_ps(p, v);
  } else {
    const __m256 lo = _mm512_castps512_ps256(v);
    const __m256d hi = _mm512_mask_extractf64x4_pd(_mm256_castps_pd(lo), 0xF, _mm512_castps_pd(v), 1);
    _mm256_storeu_ps(p, lo);
    _mm256_storeu_ps(p + 8, _mm256_castpd_ps(hi));
  }
}
inline bool aligned64(const void* p) { return reinterpret_cast<std::uintptr_t>(p) % 64 == 0; }

// 32 floats (lo, hi) -> 1 word of sign bits (x >= 0, ordered: NaN -> 0).
// NaN check: one unordered compare of lo against hi flags a NaN in either;
// only then are the NaN lanes counted exactly (rare path).
inline std::uint32_t sign_word(__m512 lo, __m512 hi, std::size_t* nans) {
  const __m512 zero = _mm512_setzero_ps();
  if (_mm512_cmp_ps_mask(lo, hi, _CMP_UNORD_Q) != 0) {
    const std::uint32_t nan_lanes = _mm512_cmp_ps_mask(lo, lo, _CMP_UNORD_Q) |
                                    (std::uint32_t{_mm512_cmp_ps_mask(hi, hi, _CMP_UNORD_Q)} << 16);
    *nans += static_cast<std::size_t>(_mm_popcnt_u32(nan_lanes));
  }
  return std::uint32_t{_mm512_cmp_ps_mask(lo, zero, _CMP_GE_OQ)} |
         (std::uint32_t{_mm512_cmp_ps_mask(hi, zero, _CMP_GE_OQ)} << 16);
}

// Partial last word: lanes (klo, khi) valid, the others read as 0 and masked out.
inline std::uint32_t sign_word_masked(__m512 lo, __m512 hi, __mmask16 klo, __mmask16 khi,
                                      std::size_t* nans) {
  const __m512 zero = _mm512_setzero_ps();
  const std::uint32_t nan_lanes = _mm512_mask_cmp_ps_mask(klo, lo, lo, _CMP_UNORD_Q) |
                                  (std::uint32_t{_mm512_mask_cmp_ps_mask(khi, hi, hi, _CMP_UNORD_Q)} << 16);
  *nans += static_cast<std::size_t>(_mm_popcnt_u32(nan_lanes));
  return std::uint32_t{_mm512_mask_cmp_ps_mask(klo, lo, zero, _CMP_GE_OQ)} |
         (std::uint32_t{_mm512_mask_cmp_ps_mask(khi, hi, zero, _CMP_GE_OQ)} << 16);
}

template <bool Aligned>
std::size_t pack_full_words(const float* x, std::size_t words, std::uint32_t* out) {
  std::size_t nans = 0;
  for (std::size_t w = 0; w < words; ++w, x += kBitsPerWord) {
    out[w] = sign_word(load16<Aligned>(x), load16<Aligned>(x + 16), &nans);
  }
  return nans;
}

template <bool Aligned>
std::size_t momentum_full_words(float* m, const float* g, std::size_t words, __m512 beta,
                                __m512 omb, std::uint32_t* out) {
  std::size_t nans = 0;
  for (std::size_t w = 0; w < words; ++w, m += kBitsPerWord, g += kBitsPerWord) {
    const __m512 lo = _mm512_add_ps(_mm512_mul_ps(beta, load16<Aligned>(m)),
                                    _mm512_mul_ps(omb, load16<Aligned>(g)));
    const __m512 hi = _mm512_add_ps(_mm512_mul_ps(beta, load16<Aligned>(m + 16)),
                                    _mm512_mul_ps(omb, load16<Aligned>(g + 16)));
    store16<Aligned>(m, lo);
    store16<Aligned>(m + 16, hi);
    out[w] = sign_word(lo, hi, &nans);
  }
  return nans;
}

template <bool Aligned>
void apply_full_words(float* x, std::size_t words, const std::uint32_t* bits, __m512 lr,
                      __m512 wd) {
  const __m512 plus = _mm512_set1_ps(1.0f), minus = _mm512_set1_ps(-1.0f);
  for (std::size_t w = 0; w < words; ++w, x += kBitsPerWord) {
    for (int h = 0; h < 2; ++h) {
      const __m512 s = _mm512_mask_blend_ps(__mmask16(bits[w] >> (16 * h)), minus, plus);
      const __m512 xv = load16<Aligned>(x + 16 * h);
      const __m512 step = _mm512_mul_ps(lr, _mm512_add_ps(s, _mm512_mul_ps(wd, xv)));
      store16<Aligned>(x + 16 * h, _mm512_sub_ps(xv, step));
    }
  }
}

// m = beta*m + omb*g on the lanes in k (same op order as momentum_update).
inline __m512 momentum16(float* m, const float* g, __mmask16 k, __m512 beta, __m512 omb) {
  const __m512 mv = _mm512_maskz_loadu_ps(k, m);
  const __m512 gv = _mm512_maskz_loadu_ps(k, g);
  const __m512 out = _mm512_add_ps(_mm512_mul_ps(beta, mv), _mm512_mul_ps(omb, gv));
  _mm512_mask_storeu_ps(m, k, out);
  return out;
}

// x = x - lr*(s + wd*x) on the lanes in k, s = +1 where the bit in `bits` is set.
inline void apply16(float* x, __mmask16 bits, __mmask16 k, __m512 lr, __m512 wd) {
  const __m512 s = _mm512_mask_blend_ps(bits, _mm512_set1_ps(-1.0f), _mm512_set1_ps(1.0f));
  const __m512 xv = _mm512_maskz_loadu_ps(k, x);
  const __m512 step = _mm512_mul_ps(lr, _mm512_add_ps(s, _mm512_mul_ps(wd, xv)));
  _mm512_mask_storeu_ps(x, k, _mm512_sub_ps(xv, step));
}

// 16 output words per step: W rows of one 64-byte column through K+1
// bit-sliced counter planes held in zmm registers; partial last column masked.
// The W rows are W concurrent streams, too many for the hardware prefetcher:
// each row is software-prefetched 1 KiB ahead (1.9 ms vs 3.5 ms without, for
// W = 27, d = 11.2M; reading the votes alone takes 1.3 ms).
template <int K>
void tally_k(const std::uint32_t* votes, std::size_t W, std::size_t stride, std::size_t words,
             std::uint32_t* out) {
  const __m512i zero = _mm512_setzero_si512();
  const __m512i ones = _mm512_set1_epi32(-1);
  for (std::size_t c = 0; c < words; c += 16) {
    const __mmask16 k = lane_mask(words - c);
    __m512i planes[K + 1];
    bitslice_preload<K, __m512i>(planes, static_cast<std::uint32_t>(W), zero, ones);
    const std::uint32_t* p = votes + c;
    if (k == 0xFFFF) {
      for (std::size_t r = 0; r < W; ++r, p += stride) {
        __builtin_prefetch(p + kTallyPrefetchWords);
        bitslice_add<K>(planes, _mm512_loadu_si512(p));
      }
      _mm512_storeu_si512(out + c, planes[K]);
    } else {
      for (std::size_t r = 0; r < W; ++r, p += stride) {
        bitslice_add<K>(planes, _mm512_maskz_loadu_epi32(k, p));
      }
      _mm512_mask_storeu_epi32(out + c, k, planes[K]);
    }
  }
}

}  // namespace

std::size_t pack_avx512(const float* x, std::size_t n, std::uint32_t* out) {
  const std::size_t full = n / kBitsPerWord;
  std::size_t nans = aligned64(x) ? pack_full_words<true>(x, full, out)
                                  : pack_full_words<false>(x, full, out);
  if (const std::size_t rem = n - full * kBitsPerWord; rem > 0) {
    const float* p = x + full * kBitsPerWord;
    const __mmask16 klo = lane_mask(rem), khi = lane_mask(rem > 16 ? rem - 16 : 0);
    out[full] = sign_word_masked(_mm512_maskz_loadu_ps(klo, p), _mm512_maskz_loadu_ps(khi, p + 16),
                                 klo, khi, &nans);
  }
  return nans;
}

std::size_t momentum_pack_avx512(float* m, const float* g, std::size_t n, float beta,
                                 std::uint32_t* out) {
  const __m512 vb = _mm512_set1_ps(beta);
  const __m512 vomb = _mm512_set1_ps(1.0f - beta);
  const std::size_t full = n / kBitsPerWord;
  std::size_t nans = aligned64(m) && aligned64(g)
                         ? momentum_full_words<true>(m, g, full, vb, vomb, out)
                         : momentum_full_words<false>(m, g, full, vb, vomb, out);
  if (const std::size_t rem = n - full * kBitsPerWord; rem > 0) {
    const std::size_t i = full * kBitsPerWord;
    const __mmask16 klo = lane_mask(rem), khi = lane_mask(rem > 16 ? rem - 16 : 0);
    const __m512 lo = momentum16(m + i, g + i, klo, vb, vomb);
    const __m512 hi = momentum16(m + i + 16, g + i + 16, khi, vb, vomb);
    out[full] = sign_word_masked(lo, hi, klo, khi, &nans);
  }
  return nans;
}

void apply_avx512(float* x, std::size_t n, const std::uint32_t* bits, float lr, float wd) {
  const __m512 vlr = _mm512_set1_ps(lr);
  const __m512 vwd = _mm512_set1_ps(wd);
  const std::size_t full = n / kBitsPerWord;
  if (aligned64(x)) {
    apply_full_words<true>(x, full, bits, vlr, vwd);
  } else {
    apply_full_words<false>(x, full, bits, vlr, vwd);
  }
  if (const std::size_t rem = n - full * kBitsPerWord; rem > 0) {
    const std::size_t i = full * kBitsPerWord;
    apply16(x + i, __mmask16(bits[full]), lane_mask(rem), vlr, vwd);
    apply16(x + i + 16, __mmask16(bits[full] >> 16), lane_mask(rem > 16 ? rem - 16 : 0), vlr,
            vwd);
  }
}

void tally_avx512(const std::uint32_t* votes, std::size_t W, std::size_t stride,
                  std::size_t words, std::uint32_t* out) {
  SV_TALLY_DISPATCH(tally_k, W, votes, W, stride, words, out)
}

}  // namespace signvote::kernels::detail
