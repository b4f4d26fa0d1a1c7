// The one definition of the project's counter-based randomness primitives:
// the SplitMix64 finaliser and increment, and the Box-Muller transform.
// Streams built on them live with their users (data/rng.h: loader
// permutations and augmentation; robust/counter_rng.h: codecs and
// adversaries; worker/quadratic.cpp: the toy's noise seed). Standard-library
// distributions are avoided on purpose: their output is implementation-defined.
#pragma once

#include <cmath>
#include <cstdint>
#include <numbers>

namespace signvote::util {

// SplitMix64's increment (2^64 / golden ratio).
inline constexpr std::uint64_t kGolden = 0x9E3779B97F4A7C15ULL;

// SplitMix64 finaliser (Steele, Lea, Flood 2014): a bijection on uint64.
constexpr std::uint64_t mix64(std::uint64_t x) {
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
  return x ^ (x >> 31);
}

// Box-Muller: uniforms u1 in (0, 1], u2 in [0, 1) -> two independent
// N(0, scale^2) deviates, *z0 = scale R cos(theta), *z1 = scale R sin(theta).
inline void box_muller(double u1, double u2, double scale, double* z0, double* z1) {
  const double radius = std::sqrt(-2.0 * std::log(u1));
  const double theta = 2.0 * std::numbers::pi * u2;
  *z0 = scale * radius * std::cos(theta);
  *z1 = scale * radius * std::sin(theta);
}

}  // namespace signvote::util
