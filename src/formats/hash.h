// 64-bit hash of float data for replica-consistency checks (do all workers
// hold bit-identical weights?). Bitwise: +0.0 and -0.0 differ, NaN payloads
// count. Not cryptographic.
//
// Algorithm ("signvote word hash v1", xxHash64-style rounds, NOT XXH64
// itself): bytes are read as little-endian uint64 words w_i (a final partial
// word zero-padded); four lanes v_0..v_3 start at mix64(n_bytes + j) and word
// i updates lane i % 4 with
//   round(v, w) = rotl64(v + w * P2, 31) * P1     (P1, P2: the XXH64 primes)
// The result is mix64(round(round(round(v_0, v_1), v_2), v_3)), mix64 being
// the SplitMix64 finaliser. round() is a bijection of v for fixed w and of w
// for fixed v, and so is the lane merge in each lane, so two equal-length
// inputs differing in a single word (e.g. one flipped bit) ALWAYS hash
// differently; other differences collide with probability ~2^-64. Four
// independent lanes hide the multiply latency: several GB/s per core.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

namespace signvote::data {

std::uint64_t hash_bytes(const void* data, std::size_t n_bytes);

inline std::uint64_t hash_floats(std::span<const float> x) {
  return hash_bytes(x.data(), x.size_bytes());
}

}  // namespace signvote::data
