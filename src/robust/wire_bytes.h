// Unaligned little helpers for codec messages (std::byte buffers with no
// alignment guarantee): memcpy loads / stores of fp32 and uint32 words, and
// an LSB-first bit stream of fixed-width fields packed into uint32 words.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

namespace signvote::robust {

inline void store_f32(std::byte* p, float v) { std::memcpy(p, &v, sizeof v); }
inline float load_f32(const std::byte* p) {
  float v;
  std::memcpy(&v, p, sizeof v);
  return v;
}
inline void store_u32(std::byte* p, std::uint32_t v) { std::memcpy(p, &v, sizeof v); }
inline std::uint32_t load_u32(const std::byte* p) {
  std::uint32_t v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

// Appends b-bit fields (b <= 32) to uint32 words at dst: field k occupies
// bits [k*b, k*b + b) of the stream, bit t of the stream = bit t%32 of word
// t/32. finish() writes the partial last word (unused high bits 0).
class BitWriter {
 public:
  explicit BitWriter(std::byte* dst) : dst_(dst) {}
  void put(std::uint32_t value, unsigned b) {
    acc_ |= static_cast<std::uint64_t>(value) << nbits_;
    nbits_ += b;
    if (nbits_ >= 32) {
      store_u32(dst_, static_cast<std::uint32_t>(acc_));
      dst_ += 4;
      acc_ >>= 32;
      nbits_ -= 32;
    }
  }
  void finish() {
    if (nbits_ > 0) store_u32(dst_, static_cast<std::uint32_t>(acc_));
    nbits_ = 0;
  }

 private:
  std::byte* dst_;
  std::uint64_t acc_ = 0;  // pending bits, LSB first; < 32 + b used
  unsigned nbits_ = 0;
};

// Reads the fields written by BitWriter, in order.
class BitReader {
 public:
  explicit BitReader(const std::byte* src) : src_(src) {}
  std::uint32_t get(unsigned b) {
    if (nbits_ < b) {
      acc_ |= static_cast<std::uint64_t>(load_u32(src_)) << nbits_;
      src_ += 4;
      nbits_ += 32;
    }
    const std::uint32_t v = static_cast<std::uint32_t>(acc_ & ((std::uint64_t{1} << b) - 1));
    acc_ >>= b;
    nbits_ -= b;
    return v;
  }

 private:
  const std::byte* src_;
  std::uint64_t acc_ = 0;
  unsigned nbits_ = 0;
};

}  // namespace signvote::robust
