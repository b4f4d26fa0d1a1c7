#include "formats/hash.h"

#include "util/rng.h"

#include <bit>
#include <cstring>

namespace signvote::data {
namespace {

static_assert(std::endian::native == std::endian::little,
              "hash_bytes reads little-endian words; port the word load first");

constexpr std::uint64_t kP1 = 0x9E3779B185EBCA87ULL;  // odd: multiply is a bijection
constexpr std::uint64_t kP2 = 0xC2B2AE3D27D4EB4FULL;  // odd

constexpr std::uint64_t lane_round(std::uint64_t v, std::uint64_t w) {
  return std::rotl(v + w * kP2, 31) * kP1;
}

std::uint64_t load(const unsigned char* p) {
  std::uint64_t w;
  std::memcpy(&w, p, 8);
  return w;
}

}  // namespace

std::uint64_t hash_bytes(const void* data, std::size_t n_bytes) {
  const auto* p = static_cast<const unsigned char*>(data);
  const auto n = static_cast<std::uint64_t>(n_bytes);
  std::uint64_t v[4] = {util::mix64(n), util::mix64(n + 1), util::mix64(n + 2), util::mix64(n + 3)};
  std::size_t i = 0;
  for (; i + 32 <= n_bytes; i += 32) {  // 4 words, one per lane
    v[0] = lane_round(v[0], load(p + i));
    v[1] = lane_round(v[1], load(p + i + 8));
    v[2] = lane_round(v[2], load(p + i + 16));
    v[3] = lane_round(v[3], load(p + i + 24));
  }
  std::size_t lane = 0;  // word i/8 goes to lane (i/8) % 4; here (i/8) % 4 == 0
  for (; i + 8 <= n_bytes; i += 8) v[lane] = lane_round(v[lane], load(p + i)), ++lane;
  if (i < n_bytes) {
    std::uint64_t w = 0;  // zero-padded tail word
    std::memcpy(&w, p + i, n_bytes - i);
    v[lane] = lane_round(v[lane], w);
  }
  return util::mix64(lane_round(lane_round(lane_round(v[0], v[1]), v[2]), v[3]));
}

}  // namespace signvote::data
