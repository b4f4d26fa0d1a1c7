// Counter-based randomness for the data pipeline. Every random decision is a
// pure function of (seed, tag, counters), so the loader has no mutable RNG
// state: (seed, epoch, position) fully determines everything that follows,
// which makes save/restore trivially bit-identical. Standard-library engines
// and distributions are avoided on purpose: std::uniform_int_distribution and
// std::shuffle are implementation-defined, these functions are not.
#pragma once

#include "util/rng.h"

#include <cstdint>

namespace signvote::data::rng {

using util::mix64;

// Key for one independent stream: hash of (seed, tag, a, b). `tag` separates
// uses (permutation vs augmentation) so they never share a stream.
constexpr std::uint64_t stream_key(std::uint64_t seed, std::uint64_t tag, std::uint64_t a,
                                   std::uint64_t b = 0) {
  std::uint64_t h = mix64(seed ^ 0x5167A3C0FFEE1234ULL);
  h = mix64(h ^ tag);
  h = mix64(h + util::kGolden * (a + 1));
  return mix64(h + 0xD1B54A32D192ED03ULL * (b + 1));
}

inline constexpr std::uint64_t kTagPermutation = 1;
inline constexpr std::uint64_t kTagAugment = 2;

// SplitMix64 generator started at a key: next() = mix64(key + k*gamma).
class Stream {
 public:
  explicit constexpr Stream(std::uint64_t key) : state_(key) {}

  constexpr std::uint64_t next() {
    state_ += util::kGolden;
    return mix64(state_);
  }

  // Uniform integer in [0, n), n >= 1, by rejection (no modulo bias).
  constexpr std::uint64_t below(std::uint64_t n) {
    const std::uint64_t threshold = (0 - n) % n;  // 2^64 mod n
    for (;;) {
      const std::uint64_t r = next();
      if (r >= threshold) return r % n;
    }
  }

 private:
  std::uint64_t state_;
};

}  // namespace signvote::data::rng
