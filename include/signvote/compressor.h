// Gradient codecs for the compressed-communication baselines: QSGD (Alistarh
// et al., NeurIPS 2017) and error-feedback signSGD (EF-SignSGD, Karimireddy
// et al., ICML 2019). Each codec turns d floats into a byte message of exactly
// encoded_bytes() bytes and back. Sign bits use the packed layout of
// include/signvote/sign_layout.h (coordinate i -> bit i%32 of word i/32, bit 1 =
// +1 = x >= 0). Multi-byte fields are in host byte order (little-endian on
// the x86-64 / aarch64 targets); messages need no alignment.
#pragma once

#include "signvote/config_enums.h"

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

namespace signvote {

// ---- QSGD ------------------------------------------------------------------
// Stochastic quantisation to s levels, per bucket of B consecutive
// coordinates (the QSGD paper's bucketing; B = 0 means one bucket of all d),
// with the bucket's norm v = ||g_bucket||_2 or max_i |g_i|:
//   l_i = floor(s |g_i| / v + u_i),  u_i ~ U[0,1)   so l_i in {0, .., s}
//   decode: g'_i = sign(g_i) * v * l_i / s          E[g'_i] = g_i (unbiased)
//   Var[g'_i] <= v^2 / (4 s^2) per coordinate, v of i's bucket.
// u_i is a pure function of (seed, step, i) (SplitMix64, counter based), so
// an encoding is reproducible from (g, seed, step) on any machine.
//
// Wire format, K = buckets = ceil(d / B), b = level_bits() = ceil(log2(s+1)),
// W = packed_words(d):
//
//   byte 0          4K                      4K + 4W                encoded_bytes()
//        +----------+-----------------------+------------------------------+
//        | v_0..v_  | signs: W uint32 words | levels: ceil(d*b/32) uint32  |
//        | K-1 fp32 | bit i%32 of word i/32 | words, l_i in bits [i*b,     |
//        | (bucket  | (sign_layout.h)       | i*b+b) of the LSB-first      |
//        |  norms)  |                       | bit stream, tail bits 0      |
//        +----------+-----------------------+------------------------------+
//
//   coordinate i belongs to bucket i / B.
//   e.g. levels stream for b = 3:  word 0 = [.. l2 l1 l0] (l10 straddles
//   words 0 and 1: its low 2 bits are bits 30-31 of word 0).
//   Bits per coordinate: 1 + b + 32/B  (s = 1: 2, s = 3: 3, s = 15: 5, plus
//   1/16 at B = 512) and word padding:
//   encoded_bytes = 4K + 4W + 4 ceil(d b / 32).
// v == 0 (a zero bucket) encodes all its levels 0 and decodes to zeros.
class QsgdCodec {
 public:
  using Norm = QsgdNorm;  // aggregation.norm (signvote/config_enums.h)
  static constexpr int kMaxLevels = 1 << 16;

  // d coordinates, s = levels in [1, kMaxLevels], bucket B (0 = d); throws
  // std::invalid_argument (naming `aggregation.levels`) otherwise.
  QsgdCodec(size_t d, int levels, Norm norm, size_t bucket = 0);

  size_t dim() const { return d_; }
  int levels() const { return s_; }
  Norm norm() const { return norm_; }
  size_t bucket() const { return bucket_; }  // B, after 0 -> d
  size_t buckets() const { return (d_ + bucket_ - 1) / bucket_; }
  // b = ceil(log2(s + 1)) bits per level index.
  int level_bits() const { return bits_; }
  // Exact message size in bytes (formula above).
  size_t encoded_bytes() const { return encoded_bytes(d_, s_, bucket_); }
  static size_t encoded_bytes(size_t d, int levels, size_t bucket = 0);

  // g (d,) -> out (>= encoded_bytes()), writes exactly encoded_bytes() bytes.
  // Randomness from (seed, step): callers pass a per-worker seed and the step.
  // Returns 0 on success; non-zero (the number of non-finite g_i, at least 1
  // if only a norm overflows float) means error, and an all-zero message
  // (every v = 0) was written. Throws std::invalid_argument on wrong sizes.
  size_t encode(std::span<const float> g, std::span<std::byte> out, std::uint64_t seed,
                std::uint64_t step) const;
  // in (>= encoded_bytes()) -> out (d,): g'_i = +-v * l_i / s, computed as
  // float(double(v) * l_i / s). Throws std::invalid_argument on wrong sizes.
  void decode(std::span<const std::byte> in, std::span<float> out) const;

 private:
  size_t d_;
  int s_;
  int bits_;
  Norm norm_;
  size_t bucket_;
};

// "l2" | "max" -> Norm; throws std::invalid_argument naming `aggregation.norm`.
QsgdCodec::Norm parse_qsgd_norm(std::string_view name);

// ---- EF-SignSGD --------------------------------------------------------------
// Worker-side state: residual e (d,), zero at start. Per step:
//   p = g + e;  scale = ||p||_1 / d;  send scale * sign(p);  e = p - scale*sign(p)
// so g + e_old = decoded + e_new (up to float rounding): nothing is lost, it
// is only delayed. sign(x) = +1 iff x >= 0 (sign_layout.h).
//
// Wire format, W = packed_words(d):
//
//   byte 0       4                                  4 + 4W = encoded_bytes()
//        +-------+----------------------------------+
//        | scale | signs of p: W uint32 words,      |
//        | fp32  | bit i%32 of word i/32, tail 0    |
//        +-------+----------------------------------+
class EfSignCodec {
 public:
  explicit EfSignCodec(size_t d);

  size_t dim() const { return residual_.size(); }
  size_t encoded_bytes() const { return encoded_bytes(dim()); }
  static size_t encoded_bytes(size_t d);

  // g (d,) -> out (>= encoded_bytes()); updates the residual. Returns 0 on
  // success; non-zero (number of non-finite p_i) means error: a zero message
  // (scale 0) was written and the residual was reset to 0.
  size_t encode(std::span<const float> g, std::span<std::byte> out);
  // Stateless: in (>= encoded_bytes(out.size())) -> out (d = out.size(),):
  // out_i = +-scale. Servers call this without owning a residual.
  static void decode(std::span<const std::byte> in, std::span<float> out);

  // Residual e (d,), for checkpoints: save by copying out, restore by writing in.
  std::span<float> residual() { return residual_; }
  std::span<const float> residual() const { return residual_; }
  void reset_residual();

 private:
  std::vector<float> residual_;     // e (d,)
  std::vector<std::uint32_t> bits_;  // packed signs of p, packed_words(d)
};

}  // namespace signvote
