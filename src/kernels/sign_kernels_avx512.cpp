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

// Lanes [0, count) of a 16-lane half, count in [0, 16].
inline __mmask16 lane_mask(std::size_t count) {
  return count >= 16 ? __mmask16(0xFFFF) : __mmask16((1u << count) - 1u);
}

// 16 floats (lanes in k) -> 16 sign bits (x >= 0, ordered: NaN -> 0); NaN lanes
// are OR-ed into *nan_lanes (counted by the caller only when non-zero).
inline std::uint32_t sign_mask16(__m512 v, __mmask16 k, std::uint32_t* nan_lanes) {
  *nan_lanes |= _mm512_mask_cmp_ps_mask(k, v, v, _CMP_UNORD_Q);
  return _mm512_mask_cmp_ps_mask(k, v, _mm512_setzero_ps(), _CMP_GE_OQ);
}

// Word w of 32 coordinates, lanes in (klo, khi): 2 x 16 floats -> 1 word.
inline std::uint32_t pack_word(const float* x, __mmask16 klo, __mmask16 khi, std::size_t* nans) {
  std::uint32_t nan_lo = 0, nan_hi = 0;
  const std::uint32_t lo = sign_mask16(_mm512_maskz_loadu_ps(klo, x), klo, &nan_lo);
  const std::uint32_t hi = sign_mask16(_mm512_maskz_loadu_ps(khi, x + 16), khi, &nan_hi);
  if (nan_lo | nan_hi) *nans += static_cast<std::size_t>(_mm_popcnt_u32(nan_lo | (nan_hi << 16)));
  return lo | (hi << 16);
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
  std::size_t nans = 0;
  const std::size_t full = n / kBitsPerWord;
  for (std::size_t w = 0; w < full; ++w) {
    out[w] = pack_word(x + w * kBitsPerWord, 0xFFFF, 0xFFFF, &nans);
  }
  const std::size_t rem = n - full * kBitsPerWord;
  if (rem > 0) {
    out[full] = pack_word(x + full * kBitsPerWord, lane_mask(rem),
                          lane_mask(rem > 16 ? rem - 16 : 0), &nans);
  }
  return nans;
}

namespace {
// One word of fused momentum + pack, lanes in (klo, khi).
inline std::uint32_t momentum_word(float* m, const float* g, __mmask16 klo, __mmask16 khi,
                                   __m512 beta, __m512 omb, std::size_t* nans) {
  std::uint32_t nan_lo = 0, nan_hi = 0;
  const std::uint32_t lo = sign_mask16(momentum16(m, g, klo, beta, omb), klo, &nan_lo);
  const std::uint32_t hi = sign_mask16(momentum16(m + 16, g + 16, khi, beta, omb), khi, &nan_hi);
  if (nan_lo | nan_hi) *nans += static_cast<std::size_t>(_mm_popcnt_u32(nan_lo | (nan_hi << 16)));
  return lo | (hi << 16);
}
}  // namespace

std::size_t momentum_pack_avx512(float* m, const float* g, std::size_t n, float beta,
                                 std::uint32_t* out) {
  const __m512 vb = _mm512_set1_ps(beta);
  const __m512 vomb = _mm512_set1_ps(1.0f - beta);
  std::size_t nans = 0;
  const std::size_t full = n / kBitsPerWord;
  for (std::size_t w = 0; w < full; ++w) {
    const std::size_t i = w * kBitsPerWord;
    out[w] = momentum_word(m + i, g + i, 0xFFFF, 0xFFFF, vb, vomb, &nans);
  }
  const std::size_t rem = n - full * kBitsPerWord;
  if (rem > 0) {
    const std::size_t i = full * kBitsPerWord;
    out[full] = momentum_word(m + i, g + i, lane_mask(rem), lane_mask(rem > 16 ? rem - 16 : 0),
                              vb, vomb, &nans);
  }
  return nans;
}

void apply_avx512(float* x, std::size_t n, const std::uint32_t* bits, float lr, float wd) {
  const __m512 vlr = _mm512_set1_ps(lr);
  const __m512 vwd = _mm512_set1_ps(wd);
  const std::size_t full = n / kBitsPerWord;
  for (std::size_t w = 0; w < full; ++w) {
    const std::uint32_t word = bits[w];
    apply16(x + w * kBitsPerWord, __mmask16(word), 0xFFFF, vlr, vwd);
    apply16(x + w * kBitsPerWord + 16, __mmask16(word >> 16), 0xFFFF, vlr, vwd);
  }
  const std::size_t rem = n - full * kBitsPerWord;
  if (rem > 0) {
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
