// Naive references and random data for the kernel tests. The references are
// written from the definitions (per-coordinate loops, sums of +-1 votes),
// independently of the bit-sliced / SIMD code under test.
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <random>
#include <vector>

#include "signvote/sign_layout.h"

namespace signvote::kernels::test {

// n floats ~ N(0,1), with exact +0 / -0 sprinkled in (every 7th / 11th).
inline std::vector<float> random_floats(std::size_t n, std::uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> dist(0.0f, 1.0f);
  std::vector<float> x(n);
  for (std::size_t i = 0; i < n; ++i) {
    x[i] = i % 7 == 3 ? 0.0f : (i % 11 == 5 ? -0.0f : dist(rng));
  }
  return x;
}

// Reference pack: one coordinate at a time, from the definition.
inline std::vector<std::uint32_t> naive_pack(const std::vector<float>& x, std::size_t* nans) {
  std::vector<std::uint32_t> out((x.size() + 31) / 32, 0u);
  *nans = 0;
  for (std::size_t i = 0; i < x.size(); ++i) {
    if (std::isnan(x[i])) ++*nans;
    if (!std::isnan(x[i]) && !std::signbit(x[i] + 0.0f)) out[i / 32] |= 1u << (i % 32);
  }
  return out;
}

// W rows of random packed votes, row stride `stride` words, `n` valid bits per
// row (tail and padding words zero). Row r has P(bit=1) varying with r.
inline std::vector<std::uint32_t> random_votes(std::size_t W, std::size_t n, std::size_t stride,
                                               std::uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<std::uint32_t> votes(W * stride, 0u);
  for (std::size_t r = 0; r < W; ++r) {
    std::bernoulli_distribution coin(0.3 + 0.4 * static_cast<double>(r % 5) / 4.0);
    for (std::size_t i = 0; i < n; ++i) {
      if (coin(rng)) votes[r * stride + i / 32] |= 1u << (i % 32);
    }
  }
  return votes;
}

// Reference majority: sum of +-1 votes per coordinate, output +1 iff sum >= 0.
inline std::vector<std::uint32_t> naive_tally(const std::vector<std::uint32_t>& votes,
                                              std::size_t W, std::size_t stride,
                                              std::size_t words, std::uint64_t step) {
  std::vector<std::uint32_t> out(words, 0u);
  for (std::size_t i = 0; i < words * 32; ++i) {
    long sum = 0;
    for (std::size_t r = 0; r < W; ++r) {
      sum += ((votes[r * stride + i / 32] >> (i % 32)) & 1u) ? 1 : -1;
    }
    // +1 if the sum is positive; a tie (0) is +1 iff coordinate + step is even
    if (sum > 0 || (sum == 0 && (i + step) % 2 == 0)) out[i / 32] |= 1u << (i % 32);
  }
  return out;
}

// A copy of x placed `offset` floats past a 64-byte boundary: offset 0 hits
// the aligned (zmm) paths, others the unaligned ones.
class PlacedFloats {
 public:
  PlacedFloats(const std::vector<float>& x, std::size_t offset)
      : storage_(x.size() + offset + 16), size_(x.size()) {
    float* p = storage_.data();
    while (reinterpret_cast<std::uintptr_t>(p) % 64 != 0) ++p;
    data_ = p + offset;
    for (std::size_t i = 0; i < size_; ++i) data_[i] = x[i];
  }
  float* data() { return data_; }
  std::vector<float> to_vector() const { return {data_, data_ + size_}; }

 private:
  std::vector<float> storage_;
  std::size_t size_;
  float* data_;
};

inline constexpr std::size_t kOffsets[] = {0, 1, 4};  // floats past 64-byte alignment

}  // namespace signvote::kernels::test
