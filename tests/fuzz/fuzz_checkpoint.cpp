// Fuzz harness: the checkpoint reader (parse_checkpoint, src/formats/checkpoint.h;
// format in docs/checkpoint.md).
//
// Each input is parsed twice:
//  1. as given, which mostly exercises the header, size and CRC checks;
//  2. with its last 4 bytes replaced by the CRC-32 of the bytes before them,
//     so mutated section tables get past the checksum and reach the section
//     parser (a mutation almost never keeps the CRC right by itself).
// Expected rejections are std::exception; crashes, UB, hangs and non-std
// exceptions are findings. A parsed checkpoint must round-trip:
// serialize_checkpoint(c) parses again to a checkpoint that serializes to the
// same bytes (bytes, not Checkpoint ==, because NaN != NaN in float compare).
// Seeds: tests/fuzz/corpus/checkpoint/.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <exception>
#include <string>
#include <string_view>

#include "formats/checkpoint.h"
#include "formats/crc32.h"
#include "fuzz_util.h"

namespace {
namespace sd = signvote::data;

constexpr std::size_t kTrailerBytes = 4;  // u32 CRC-32 at the end of the file

// serialize(parse(serialize(c))) == serialize(c), compared as bytes (NaN != NaN).
void check_round_trip(const sd::Checkpoint& c) {
  signvote::fuzz::check_fixed_point(
      "checkpoint", sd::serialize_checkpoint(c),
      [](const std::string& bytes) { return sd::serialize_checkpoint(sd::parse_checkpoint(bytes, "<serialized>")); },
      false);
}

void parse_and_check(std::string_view bytes) {
  sd::Checkpoint c;
  try {
    c = sd::parse_checkpoint(bytes, "fuzz.ckpt");
  } catch (const std::exception&) {
    return;  // rejected with a message: expected
  }
  check_round_trip(c);
}

// `in` with its trailer set to the CRC-32 of everything before it.
std::string with_fixed_crc(std::string_view in) {
  std::string fixed(in);
  const std::size_t covered = fixed.size() - kTrailerBytes;
  const std::uint32_t crc = sd::crc32(fixed.data(), covered);
  std::memcpy(fixed.data() + covered, &crc, sizeof crc);  // little-endian host
  return fixed;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  parse_and_check(in);
  if (size >= kTrailerBytes) parse_and_check(with_fixed_crc(in));
  return 0;
}
