// QSGD stochastic quantisation (Alistarh et al., NeurIPS 2017); formulas and
// wire format in include/signvote/compressor.h.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <stdexcept>
#include <string>

#include "signvote/sign_layout.h"
#include "robust/counter_rng.h"
#include "robust/wire_bytes.h"
#include "signvote/compressor.h"

namespace signvote {
namespace {

using kernels::packed_words;

int bits_for_levels(int s) {  // smallest b with 2^b >= s + 1
  int b = 0;
  while ((1L << b) < static_cast<long>(s) + 1) ++b;
  return b;
}

size_t level_words(size_t d, int b) { return (d * static_cast<size_t>(b) + 31) / 32; }

// Norm of g in double (l2: sqrt of the double sum of squares; max: max |g_i|);
// adds the number of non-finite g_i to `nonfinite`.
double norm_of(std::span<const float> g, QsgdCodec::Norm norm, size_t& nonfinite) {
  double acc = 0.0;
  for (float x : g) {
    if (!std::isfinite(x)) ++nonfinite;
    const double a = std::fabs(static_cast<double>(x));
    acc = norm == QsgdCodec::Norm::l2 ? acc + a * a : std::max(acc, a);
  }
  return norm == QsgdCodec::Norm::l2 ? std::sqrt(acc) : acc;
}

}  // namespace

QsgdCodec::QsgdCodec(size_t d, int levels, Norm norm, size_t bucket)
    : d_(d), s_(levels), norm_(norm), bucket_(bucket == 0 ? d : std::min(bucket, d)) {
  if (d == 0) throw std::invalid_argument("QsgdCodec: dimension d must be >= 1");
  if (levels < 1 || levels > kMaxLevels)
    throw std::invalid_argument("qsgd: aggregation.levels = " + std::to_string(levels) +
                                ", need 1 <= levels <= " + std::to_string(kMaxLevels));
  bits_ = bits_for_levels(levels);
}

size_t QsgdCodec::encoded_bytes(size_t d, int levels, size_t bucket) {
  const size_t B = bucket == 0 ? std::max<size_t>(d, 1) : bucket;
  return 4 * ((d + B - 1) / B) + 4 * packed_words(d) + 4 * level_words(d, bits_for_levels(levels));
}

size_t QsgdCodec::encode(std::span<const float> g, std::span<std::byte> out, std::uint64_t seed,
                         std::uint64_t step) const {
  if (g.size() != d_ || out.size() < encoded_bytes())
    throw std::invalid_argument("QsgdCodec::encode: got " + std::to_string(g.size()) + " floats / " +
                                std::to_string(out.size()) + " bytes, expected " + std::to_string(d_) +
                                " / >= " + std::to_string(encoded_bytes()));
  std::byte* const msg = out.data();
  const size_t K = buckets();
  // Pass 1: bucket norms (any non-finite input or norm: all-zero message).
  std::vector<float> v(K);
  size_t nonfinite = 0;
  for (size_t k = 0; k < K; ++k) {
    const size_t lo = k * bucket_, n = std::min(bucket_, d_ - lo);
    v[k] = static_cast<float>(norm_of(g.subspan(lo, n), norm_, nonfinite));
    if (!std::isfinite(v[k])) nonfinite = std::max<size_t>(nonfinite, 1);
  }
  if (nonfinite > 0) {
    std::memset(msg, 0, encoded_bytes());
    return nonfinite;
  }
  for (size_t k = 0; k < K; ++k) robust::store_f32(msg + 4 * k, v[k]);
  std::byte* const sign_dst = msg + 4 * K;
  robust::BitWriter levels(sign_dst + 4 * packed_words(d_));
  // Pass 2: r_i = |g_i| * s / v in [0, s] (up to rounding, hence the clamp);
  // with u of 32-bit resolution r + u < s + 1 is exact for s <= 2^16 anyway.
  const std::uint64_t key = robust::stream_key(seed, robust::kTagQsgd, step);
  const unsigned b = static_cast<unsigned>(bits_);
  std::uint32_t word = 0;
  double s_over_v = 0.0;
  for (size_t i = 0; i < d_; ++i) {
    if (i % bucket_ == 0) {
      const float vk = v[i / bucket_];
      s_over_v = vk > 0.0f ? static_cast<double>(s_) / static_cast<double>(vk) : 0.0;
    }
    const double r = std::fabs(static_cast<double>(g[i])) * s_over_v;
    const double u = robust::uniform32(robust::draw(key, i));
    const auto l = std::min(static_cast<std::uint32_t>(r + u), static_cast<std::uint32_t>(s_));
    levels.put(l, b);
    word |= kernels::sign_bit(g[i]) << kernels::bit_of(i);
    if (kernels::bit_of(i) == 31 || i + 1 == d_) {
      robust::store_u32(sign_dst + 4 * kernels::word_of(i), word);
      word = 0;
    }
  }
  levels.finish();
  return 0;
}

void QsgdCodec::decode(std::span<const std::byte> in, std::span<float> out) const {
  if (out.size() != d_ || in.size() < encoded_bytes())
    throw std::invalid_argument("QsgdCodec::decode: got " + std::to_string(in.size()) + " bytes / " +
                                std::to_string(out.size()) + " floats, expected >= " +
                                std::to_string(encoded_bytes()) + " / " + std::to_string(d_));
  const std::byte* const msg = in.data();
  const std::byte* const signs = msg + 4 * buckets();
  robust::BitReader levels(signs + 4 * packed_words(d_));
  const unsigned b = static_cast<unsigned>(bits_);
  double v_bucket = 0.0;
  std::uint32_t word = 0;
  for (size_t i = 0; i < d_; ++i) {
    if (i % bucket_ == 0) v_bucket = static_cast<double>(robust::load_f32(msg + 4 * (i / bucket_)));
    if (kernels::bit_of(i) == 0) word = robust::load_u32(signs + 4 * kernels::word_of(i));
    // A field of b bits may hold up to 2^b - 1 > s only in a corrupt message: clamp.
    const std::uint32_t l = std::min(levels.get(b), static_cast<std::uint32_t>(s_));
    const float mag = static_cast<float>(v_bucket * static_cast<double>(l) / static_cast<double>(s_));
    out[i] = ((word >> kernels::bit_of(i)) & 1u) ? mag : -mag;
  }
}

QsgdCodec::Norm parse_qsgd_norm(std::string_view name) {
  if (const auto n = enum_from_name<QsgdNorm>(name)) return *n;
  throw std::invalid_argument("aggregation.norm = '" + std::string(name) + "' is not a QSGD norm (valid: l2, max)");
}

}  // namespace signvote
