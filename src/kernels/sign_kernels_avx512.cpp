// AVX-512 sign kernels (F+BW+VL+VPOPCNTDQ, BMI2). This TU alone is compiled
// with the AVX-512 -m flags (CMakeLists.txt); it only runs after the
// dispatcher checked __builtin_cpu_supports.
//
// Float streams use zmm when 64-byte aligned, else ymm with AVX-512VL mask
// compares/blends: a zmm access that splits two cache lines costs more than
// two ymm ones (measured here: zmm read 27 GB/s unaligned vs 41 aligned).
// Words are 32 coordinates; the partial last word uses masked zmm ops.
#include <immintrin.h>

#include "kernels/sign_kernels_detail.h"
#include "signvote/sign_layout.h"
#include "kernels/tally_dispatch.h"

namespace signvote::kernels::detail {
namespace {

// Software prefetch distance for tally rows, in words (1 KiB).
constexpr std::size_t kTallyPrefetchWords = 256;

// 16 lanes, aligned loads/stores (pointer 64-byte aligned).
struct Zmm {
  using V = __m512;
  static constexpr int kLanes = 16;
  static V load(const float* p) { return _mm512_load_ps(p); }
  static void store(float* p, V v) { _mm512_store_ps(p, v); }
  static V set1(float f) { return _mm512_set1_ps(f); }
  static V add(V a, V b) { return _mm512_add_ps(a, b); }
  static V sub(V a, V b) { return _mm512_sub_ps(a, b); }
  static V mul(V a, V b) { return _mm512_mul_ps(a, b); }
  static std::uint32_t ge0(V v) { return _mm512_cmp_ps_mask(v, _mm512_setzero_ps(), _CMP_GE_OQ); }
  static std::uint32_t unord(V a, V b) { return _mm512_cmp_ps_mask(a, b, _CMP_UNORD_Q); }
  // lane l = bit l of bits ? plus : minus
  static V select(std::uint32_t bits, V minus, V plus) {
    return _mm512_mask_blend_ps(static_cast<__mmask16>(bits), minus, plus);
  }
};

// 8 lanes, unaligned loads/stores, AVX-512VL mask compares / blends.
struct Ymm {
  using V = __m256;
  static constexpr int kLanes = 8;
  static V load(const float* p) { return _mm256_loadu_ps(p); }
  static void store(float* p, V v) { _mm256_storeu_ps(p, v); }
  static V set1(float f) { return _mm256_set1_ps(f); }
  static V add(V a, V b) { return _mm256_add_ps(a, b); }
  static V sub(V a, V b) { return _mm256_sub_ps(a, b); }
  static V mul(V a, V b) { return _mm256_mul_ps(a, b); }
  static std::uint32_t ge0(V v) { return _mm256_cmp_ps_mask(v, _mm256_setzero_ps(), _CMP_GE_OQ); }
  static std::uint32_t unord(V a, V b) { return _mm256_cmp_ps_mask(a, b, _CMP_UNORD_Q); }
  static V select(std::uint32_t bits, V minus, V plus) {
    return _mm256_mask_blend_ps(static_cast<__mmask8>(bits), minus, plus);
  }
};

template <class T>
constexpr int kChunks = static_cast<int>(kBitsPerWord) / T::kLanes;  // vectors per word

// One word of 32 floats in v -> sign bits (x >= 0, ordered: NaN -> 0).
// Non-finite check (NaN, +-inf): x - x is NaN exactly for those; unordered
// compares of vector pairs flag one in either; only then are the lanes
// counted exactly (rare path).
template <class T>
inline std::uint32_t sign_word(const typename T::V (&v)[kChunks<T>], std::size_t* nans) {
  std::uint32_t any_nan = 0, word = 0;
  typename T::V d[kChunks<T>];
  for (int j = 0; j < kChunks<T>; ++j) d[j] = T::sub(v[j], v[j]);
  for (int j = 0; j < kChunks<T>; j += 2) any_nan |= T::unord(d[j], d[j + 1]);
  if (any_nan != 0) {
    std::uint32_t lanes = 0;
    for (int j = 0; j < kChunks<T>; ++j) lanes |= T::unord(d[j], d[j]) << (j * T::kLanes);
    *nans += static_cast<std::size_t>(_mm_popcnt_u32(lanes));
  }
  for (int j = 0; j < kChunks<T>; ++j) word |= T::ge0(v[j]) << (j * T::kLanes);
  return word;
}

template <class T>
std::size_t pack_words(const float* x, std::size_t words, std::uint32_t* out) {
  std::size_t nans = 0;
  for (std::size_t w = 0; w < words; ++w, x += kBitsPerWord) {
    typename T::V v[kChunks<T>];
    for (int j = 0; j < kChunks<T>; ++j) v[j] = T::load(x + j * T::kLanes);
    out[w] = sign_word<T>(v, &nans);
  }
  return nans;
}

// Lion: c = beta1*m + omb1*g packed, m = beta2*m + omb2*g (momentum_update's op order).
template <class T>
std::size_t lion_words(float* m, const float* g, std::size_t words, float beta1, float beta2,
                       std::uint32_t* out) {
  const typename T::V vb1 = T::set1(beta1), vomb1 = T::set1(1.0f - beta1);
  const typename T::V vb2 = T::set1(beta2), vomb2 = T::set1(1.0f - beta2);
  std::size_t nans = 0;
  for (std::size_t w = 0; w < words; ++w, m += kBitsPerWord, g += kBitsPerWord) {
    typename T::V c[kChunks<T>];
    for (int j = 0; j < kChunks<T>; ++j) {
      const typename T::V mv = T::load(m + j * T::kLanes), gv = T::load(g + j * T::kLanes);
      c[j] = T::add(T::mul(vb1, mv), T::mul(vomb1, gv));
      T::store(m + j * T::kLanes, T::add(T::mul(vb2, mv), T::mul(vomb2, gv)));
    }
    out[w] = sign_word<T>(c, &nans);
  }
  return nans;
}

// x = x - lr*(s + wd*x), s = +-1 selected straight from the bits by mask blend.
template <class T>
void apply_words(float* x, std::size_t words, const std::uint32_t* bits, float lr, float wd) {
  const typename T::V vlr = T::set1(lr), vwd = T::set1(wd);
  const typename T::V plus = T::set1(1.0f), minus = T::set1(-1.0f);
  for (std::size_t w = 0; w < words; ++w, x += kBitsPerWord) {
    for (int j = 0; j < kChunks<T>; ++j) {
      const typename T::V s = T::select(bits[w] >> (j * T::kLanes), minus, plus);
      const typename T::V xv = T::load(x + j * T::kLanes);
      T::store(x + j * T::kLanes, T::sub(xv, T::mul(vlr, T::add(s, T::mul(vwd, xv)))));
    }
  }
}

// ---- partial last word (rem in [1, 31] coordinates): masked zmm ops -------

// Lanes [0, count) of a 16-lane half, count in [0, 16].
inline __mmask16 lane_mask(std::size_t count) {
  return count >= 16 ? __mmask16(0xFFFF) : __mmask16((1u << count) - 1u);
}

// Sign bits + exact non-finite count of the valid lanes (klo, khi) of (lo, hi).
inline std::uint32_t sign_word_masked(__m512 lo, __m512 hi, __mmask16 klo, __mmask16 khi,
                                      std::size_t* nans) {
  const __m512 zero = _mm512_setzero_ps();
  const __m512 dlo = _mm512_sub_ps(lo, lo), dhi = _mm512_sub_ps(hi, hi);
  const std::uint32_t nan_lanes =
      _mm512_mask_cmp_ps_mask(klo, dlo, dlo, _CMP_UNORD_Q) |
      (std::uint32_t{_mm512_mask_cmp_ps_mask(khi, dhi, dhi, _CMP_UNORD_Q)} << 16);
  *nans += static_cast<std::size_t>(_mm_popcnt_u32(nan_lanes));
  return std::uint32_t{_mm512_mask_cmp_ps_mask(klo, lo, zero, _CMP_GE_OQ)} |
         (std::uint32_t{_mm512_mask_cmp_ps_mask(khi, hi, zero, _CMP_GE_OQ)} << 16);
}

// x = x - lr*(s + wd*x) on the lanes in k, s = +1 where `bits` is set.
inline void apply16(float* x, __mmask16 bits, __mmask16 k, float lr, float wd) {
  const __m512 s = _mm512_mask_blend_ps(bits, _mm512_set1_ps(-1.0f), _mm512_set1_ps(1.0f));
  const __m512 xv = _mm512_maskz_loadu_ps(k, x);
  const __m512 step =
      _mm512_mul_ps(_mm512_set1_ps(lr), _mm512_add_ps(s, _mm512_mul_ps(_mm512_set1_ps(wd), xv)));
  _mm512_mask_storeu_ps(x, k, _mm512_sub_ps(xv, step));
}

inline bool aligned64(const void* p) { return reinterpret_cast<std::uintptr_t>(p) % 64 == 0; }

// 16 output words per step: W rows of one 64-byte column through K+1
// bit-sliced counter planes held in zmm registers; partial last column masked.
// The W rows are W concurrent streams, too many for the hardware prefetcher:
// each row is software-prefetched 1 KiB ahead (W = 27, d = 11.2M: 1.9 ms vs
// 3.5 ms without; reading the votes alone takes 1.3 ms).
template <int K>
void tally_k(const std::uint32_t* votes, std::size_t W, std::size_t stride, std::size_t words,
             std::uint32_t* out, std::uint32_t ties) {
  const __m512i zero = _mm512_setzero_si512();
  const __m512i ones = _mm512_set1_epi32(-1);
  const __m512i tie = _mm512_set1_epi32(static_cast<int>(ties));
  const auto W32 = static_cast<std::uint32_t>(W);
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
      _mm512_storeu_si512(out + c, bitslice_result<K, __m512i>(planes, W32, tie));
    } else {
      for (std::size_t r = 0; r < W; ++r, p += stride) {
        bitslice_add<K>(planes, _mm512_maskz_loadu_epi32(k, p));
      }
      _mm512_mask_storeu_epi32(out + c, k, bitslice_result<K, __m512i>(planes, W32, tie));
    }
  }
}

}  // namespace

std::size_t pack_avx512(const float* x, std::size_t n, std::uint32_t* out) {
  const std::size_t full = n / kBitsPerWord;
  std::size_t nans = aligned64(x) ? pack_words<Zmm>(x, full, out) : pack_words<Ymm>(x, full, out);
  if (const std::size_t rem = n - full * kBitsPerWord; rem > 0) {
    const float* p = x + full * kBitsPerWord;
    const __mmask16 klo = lane_mask(rem), khi = lane_mask(rem > 16 ? rem - 16 : 0);
    out[full] = sign_word_masked(_mm512_maskz_loadu_ps(klo, p),
                                 _mm512_maskz_loadu_ps(khi, p + 16), klo, khi, &nans);
  }
  return nans;
}

// Signum is Lion with beta1 = beta2: the same loads and stores, one kernel.
std::size_t momentum_pack_avx512(float* m, const float* g, std::size_t n, float beta,
                                 std::uint32_t* out) {
  return lion_pack_avx512(m, g, n, beta, beta, out);
}

std::size_t lion_pack_avx512(float* m, const float* g, std::size_t n, float beta1, float beta2,
                             std::uint32_t* out) {
  const std::size_t full = n / kBitsPerWord;
  std::size_t nans = aligned64(m) && aligned64(g) ? lion_words<Zmm>(m, g, full, beta1, beta2, out)
                                                  : lion_words<Ymm>(m, g, full, beta1, beta2, out);
  if (const std::size_t rem = n - full * kBitsPerWord; rem > 0) {  // the partial word through a 32-float buffer
    const std::size_t i = full * kBitsPerWord;
    alignas(64) float c[kBitsPerWord] = {};
    for (std::size_t b = 0; b < rem; ++b) {
      c[b] = momentum_update(m[i + b], g[i + b], beta1, 1.0f - beta1);
      m[i + b] = momentum_update(m[i + b], g[i + b], beta2, 1.0f - beta2);
    }
    const __mmask16 klo = lane_mask(rem), khi = lane_mask(rem > 16 ? rem - 16 : 0);
    out[full] = sign_word_masked(_mm512_maskz_loadu_ps(klo, c), _mm512_maskz_loadu_ps(khi, c + 16), klo, khi, &nans);
  }
  return nans;
}

void apply_avx512(float* x, std::size_t n, const std::uint32_t* bits, float lr, float wd) {
  const std::size_t full = n / kBitsPerWord;
  if (aligned64(x)) {
    apply_words<Zmm>(x, full, bits, lr, wd);
  } else {
    apply_words<Ymm>(x, full, bits, lr, wd);
  }
  if (const std::size_t rem = n - full * kBitsPerWord; rem > 0) {
    const std::size_t i = full * kBitsPerWord;
    apply16(x + i, __mmask16(bits[full]), lane_mask(rem), lr, wd);
    apply16(x + i + 16, __mmask16(bits[full] >> 16), lane_mask(rem > 16 ? rem - 16 : 0), lr, wd);
  }
}

void tally_avx512(const std::uint32_t* votes, std::size_t W, std::size_t stride,
                  std::size_t words, std::uint32_t* out, std::uint32_t ties) {
  SV_TALLY_DISPATCH(tally_k, W, votes, W, stride, words, out, ties)
}

}  // namespace signvote::kernels::detail
