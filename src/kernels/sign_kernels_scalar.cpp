// Portable scalar sign kernels. Compiled with the default flags (no -m
// options): this is the fallback that must run on any CPU. The tally is still
// bit-sliced, on 64-bit words (64 coordinates per operation).
#include <cstring>

#include "kernels/sign_kernels_detail.h"
#include "signvote/sign_layout.h"
#include "kernels/tally_dispatch.h"

namespace signvote::kernels::detail {
namespace {

// Software prefetch distance for tally rows, in words (1 KiB): W rows are W
// concurrent streams, more than the hardware prefetcher follows.
constexpr std::size_t kTallyPrefetchWords = 256;

// Packs x (count <= 32,) into one word; adds its non-finite count to *nans.
inline std::uint32_t pack_word(const float* x, std::size_t count, std::size_t* nans) {
  std::uint32_t word = 0;
  std::size_t bad = 0;
  for (std::size_t b = 0; b < count; ++b) {
    word |= sign_bit(x[b]) << b;
    bad += non_finite(x[b]);
  }
  *nans += bad;
  return word;
}

inline std::uint64_t load64(const std::uint32_t* p) {
  std::uint64_t v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

// out[c] for c in [0, words): counters on 64-bit lanes (2 words), then the odd
// last word on 32-bit lanes.
template <int K>
void tally_k(const std::uint32_t* votes, std::size_t W, std::size_t stride, std::size_t words,
             std::uint32_t* out, std::uint32_t ties) {
  const auto W32 = static_cast<std::uint32_t>(W);
  const std::uint64_t ties64 = (std::uint64_t(ties) << 32) | ties;
  std::size_t c = 0;
  for (; c + 2 <= words; c += 2) {
    std::uint64_t planes[K + 1];
    bitslice_preload<K, std::uint64_t>(planes, static_cast<std::uint32_t>(W), 0, ~0ull);
    const bool new_line = c % 16 == 0;  // prefetch once per 64-byte line per row
    for (std::size_t r = 0; r < W; ++r) {
      if (new_line) __builtin_prefetch(votes + r * stride + c + kTallyPrefetchWords);
      bitslice_add<K>(planes, load64(votes + r * stride + c));
    }
    const std::uint64_t result = bitslice_result<K, std::uint64_t>(planes, W32, ties64);
    std::memcpy(out + c, &result, sizeof(std::uint64_t));
  }
  if (c < words) {
    std::uint32_t planes[K + 1];
    bitslice_preload<K, std::uint32_t>(planes, static_cast<std::uint32_t>(W), 0, ~0u);
    for (std::size_t r = 0; r < W; ++r) bitslice_add<K>(planes, votes[r * stride + c]);
    out[c] = bitslice_result<K, std::uint32_t>(planes, W32, ties);
  }
}

}  // namespace

std::size_t pack_scalar(const float* x, std::size_t n, std::uint32_t* out) {
  std::size_t nans = 0;
  for (std::size_t w = 0; w < packed_words(n); ++w) {
    const std::size_t first = w * kBitsPerWord;
    const std::size_t count = n - first < kBitsPerWord ? n - first : kBitsPerWord;
    out[w] = pack_word(x + first, count, &nans);
  }
  return nans;
}

// Signum is Lion with beta1 = beta2 (same bits and m, tested on every ISA).
std::size_t momentum_pack_scalar(float* m, const float* g, std::size_t n, float beta,
                                 std::uint32_t* out) {
  return lion_pack_scalar(m, g, n, beta, beta, out);
}

std::size_t lion_pack_scalar(float* m, const float* g, std::size_t n, float beta1, float beta2,
                             std::uint32_t* out) {
  const float omb1 = 1.0f - beta1, omb2 = 1.0f - beta2;
  std::size_t nans = 0;
  float c[kBitsPerWord];  // one word's interpolation, packed below
  for (std::size_t w = 0; w < packed_words(n); ++w) {
    const std::size_t first = w * kBitsPerWord;
    const std::size_t count = n - first < kBitsPerWord ? n - first : kBitsPerWord;
    for (std::size_t b = 0; b < count; ++b) {
      c[b] = momentum_update(m[first + b], g[first + b], beta1, omb1);
      m[first + b] = momentum_update(m[first + b], g[first + b], beta2, omb2);
    }
    out[w] = pack_word(c, count, &nans);
  }
  return nans;
}

void apply_scalar(float* x, std::size_t n, const std::uint32_t* bits, float lr, float wd) {
  for (std::size_t w = 0; w < packed_words(n); ++w) {
    const std::size_t first = w * kBitsPerWord;
    const std::size_t count = n - first < kBitsPerWord ? n - first : kBitsPerWord;
    const std::uint32_t word = bits[w];
    float* xw = x + first;
    for (std::size_t b = 0; b < count; ++b) {
      xw[b] = apply_update(xw[b], sign_value((word >> b) & 1u), lr, wd);
    }
  }
}

void tally_scalar(const std::uint32_t* votes, std::size_t W, std::size_t stride,
                  std::size_t words, std::uint32_t* out, std::uint32_t ties) {
  SV_TALLY_DISPATCH(tally_k, W, votes, W, stride, words, out, ties)
}

}  // namespace signvote::kernels::detail
