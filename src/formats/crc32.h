// CRC-32 (IEEE 802.3, reflected polynomial 0xEDB88320, init and final xor
// 0xFFFFFFFF): the same value as zlib's crc32() and Python's zlib.crc32(), so
// checkpoints can be verified without signvote. Slice-by-8, ~2-4 GB/s.
#pragma once

#include <cstddef>
#include <cstdint>

namespace signvote::data {

// crc32(data, n) of a whole buffer; to continue over pieces pass the previous
// result as `crc`: crc32(b, nb, crc32(a, na)) == crc32 of a followed by b.
std::uint32_t crc32(const void* data, std::size_t n, std::uint32_t crc = 0);

}  // namespace signvote::data
