// Counter-based randomness for codecs and adversaries: draw k of stream
// (seed, tag, step) is a pure function mix64(key + (k+1) * gamma), so any
// coordinate's random number can be computed independently and an encoding
// is reproducible from (seed, step) alone. Standard-library distributions are
// avoided on purpose: their output is implementation-defined.
#pragma once

#include "util/rng.h"

#include <cstdint>

namespace signvote::robust {

using util::mix64;
inline constexpr std::uint64_t kGamma = util::kGolden;
// Tags keep the uses on separate streams.
inline constexpr std::uint64_t kTagQsgd = 0x51;
inline constexpr std::uint64_t kTagRandomSign = 0x52;
inline constexpr std::uint64_t kTagGaussian = 0x53;

// Key of stream (seed, tag, step).
constexpr std::uint64_t stream_key(std::uint64_t seed, std::uint64_t tag, std::uint64_t step) {
  std::uint64_t h = mix64(seed ^ 0x7369676E766F7465ULL);  // "signvote"
  h = mix64(h ^ tag);
  return mix64(h + kGamma * (step + 1));
}

// Draw k (0-based) of the stream with this key.
constexpr std::uint64_t draw(std::uint64_t key, std::uint64_t k) {
  return mix64(key + kGamma * (k + 1));
}

// Top 32 bits -> u in [0, 1) with resolution 2^-32 (exact in double; s + u
// stays below s + 1 for any level count s < 2^20, see qsgd.cpp).
constexpr double uniform32(std::uint64_t r) {
  return static_cast<double>(r >> 32) * 0x1.0p-32;
}
// Top 53 bits -> u in (0, 1] (never 0: safe for log in Box-Muller).
constexpr double uniform53_open0(std::uint64_t r) {
  return static_cast<double>((r >> 11) + 1) * 0x1.0p-53;
}

}  // namespace signvote::robust
