// hash_floats: deterministic, bitwise, sensitive to any single bit and length.
#include <catch2/catch.hpp>

#include <cstring>
#include <random>
#include <set>

#include "formats/hash.h"

using signvote::data::hash_bytes;
using signvote::data::hash_floats;

namespace {

std::vector<float> random_floats(std::size_t n, unsigned seed) {
  std::mt19937 gen(seed);
  std::normal_distribution<float> d;
  std::vector<float> v(n);
  for (auto& x : v) x = d(gen);
  return v;
}

void flip_bit(std::vector<float>& v, std::size_t bit) {
  std::uint32_t u;
  std::memcpy(&u, &v[bit / 32], 4);
  u ^= 1u << (bit % 32);
  std::memcpy(&v[bit / 32], &u, 4);
}

}  // namespace

TEST_CASE("hash_floats is deterministic and content-based", "[data][hash]") {
  const auto v = random_floats(1001, 1);
  const auto copy = v;
  CHECK(hash_floats(v) == hash_floats(copy));
  CHECK(hash_floats(v) == hash_bytes(v.data(), v.size() * 4));
  CHECK(hash_floats(v) != hash_floats(random_floats(1001, 2)));
}

TEST_CASE("hash_floats changes when any single bit flips", "[data][hash]") {
  for (std::size_t n : {1u, 2u, 3u, 64u, 1001u}) {  // odd sizes exercise the tail word
    const auto v = random_floats(n, 3);
    const std::uint64_t h = hash_floats(v);
    std::set<std::uint64_t> seen{h};
    const std::size_t bits = n * 32;
    const std::size_t stride = bits > 4096 ? 97 : 1;  // all bits of small inputs
    for (std::size_t b = 0; b < bits; b += stride) {
      auto w = v;
      flip_bit(w, b);
      REQUIRE(hash_floats(w) != h);
      seen.insert(hash_floats(w));
    }
    CHECK(seen.size() == 1 + (bits + stride - 1) / stride);  // no collisions either
  }
}

TEST_CASE("hash_floats is bitwise and length-aware", "[data][hash]") {
  CHECK(hash_floats(std::vector<float>{0.0f}) != hash_floats(std::vector<float>{-0.0f}));
  CHECK(hash_floats(std::vector<float>{}) != hash_floats(std::vector<float>{0.0f}));
  CHECK(hash_floats(std::vector<float>{0.0f}) != hash_floats(std::vector<float>{0.0f, 0.0f}));
  const auto v = random_floats(8, 4);
  auto swapped = v;
  std::swap(swapped[0], swapped[1]);
  CHECK(hash_floats(v) != hash_floats(swapped));  // order matters
}
