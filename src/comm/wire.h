// Message buffers and header validation for include/signvote/protocol.h.
#pragma once

#include "comm/aligned_buffer.h"
#include "signvote/protocol.h"

#include <cstddef>
#include <cstdint>
#include <string>

namespace signvote::comm {

using protocol::ErrorCode;
using protocol::MsgHeader;
using protocol::MsgKind;

// Payload words for `length` coordinates: ceil(length/32) rounded up to 16
// words, so every slot in a gather buffer starts on a 64-byte boundary.
size_t payload_words(size_t length);

// One message: header followed by `words` payload words, 64-byte aligned.
class Message {
 public:
  Message() = default;
  explicit Message(size_t words);
  MsgHeader& header() { return *reinterpret_cast<MsgHeader*>(buf_.data()); }
  const MsgHeader& header() const { return *reinterpret_cast<const MsgHeader*>(buf_.data()); }
  uint32_t* payload() { return reinterpret_cast<uint32_t*>(buf_.data() + protocol::kHeaderBytes); }
  const uint32_t* payload() const { return reinterpret_cast<const uint32_t*>(buf_.data() + protocol::kHeaderBytes); }
  size_t words() const { return words_; }
  size_t bytes() const { return protocol::kHeaderBytes + 4 * words_; }
  std::byte* data() { return buf_.data(); }

 private:
  AlignedBuffer<std::byte> buf_;
  size_t words_ = 0;
};

// What the receiver expects of a header.
struct Expect {
  MsgKind kind;
  uint64_t step;
  uint64_t length;
  uint64_t offset;
};

// Checks magic, version, kind, step, length and offset, and that `bytes`
// (the MPI count) matches the header. On failure fills err_* of `verdict`
// (status, err_rank = sender, expected/got) and returns false.
bool validate(const MsgHeader& h, const Expect& want, size_t bytes, int sender, MsgHeader& verdict);

// One line for an error RESULT header, naming the rank: for example
// "rank 3 sent step 7, expected step 8 (step_mismatch)".
std::string describe_error(const MsgHeader& verdict);

}  // namespace signvote::comm
