// Message buffers and header validation for include/signvote/protocol.h.
#pragma once

#include "comm/vote_tail.h"
#include "signvote/aligned_buffer.h"
#include "signvote/protocol.h"
#include "signvote/sign_layout.h"

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>

namespace signvote::comm {

using protocol::ErrorCode;
using protocol::MsgHeader;
using protocol::MsgKind;

// Payload words for `length` coordinates of packed signs: ceil(length/32)
// rounded up to 16 words, so every slot in a receive buffer starts on a
// 64-byte boundary.
// (Header-only with RoundFormat: src/methods uses them without linking comm.)
inline size_t payload_words(size_t length) { return kernels::wire_words(length); }
// Payload words for `length` fp32 values, rounded up to 16 words.
inline size_t fp32_payload_words(size_t length) { return (length + 15) / 16 * 16; }
// Payload words for an encoded message of `bytes` bytes, rounded up to 16 words.
inline size_t bytes_payload_words(size_t bytes) { return fp32_payload_words((bytes + 3) / 4); }

// Payload sizes of one kind of round, as functions of the shard length.
struct RoundFormat {
  std::function<size_t(size_t)> up_words;    // VOTE payload (worker -> server)
  std::function<size_t(size_t)> down_words;  // RESULT payload (server -> worker)
  // The vote's tail after the packed words (vote_tail.h; inactive: none).
  VoteTail tail;
  // 1 bit per coordinate both ways
  static RoundFormat sign_bits() { return {payload_words, payload_words, {}}; }
  // The same, each payload followed by `tail` (model.tensors).
  static RoundFormat sign_bits(const VoteTail& tail) {
    return {[tail](size_t n) { return payload_words(n) + tail.up_words(); },
            [tail](size_t n) { return payload_words(n) + tail.down_words(); }, tail};
  }
  // fp32 up, fp32 aggregate down
  static RoundFormat fp32() { return {fp32_payload_words, fp32_payload_words, {}}; }
  // An encoded gradient of bytes(length) bytes up, fp32 aggregate down.
  static RoundFormat coded(std::function<size_t(size_t)> bytes) {
    return {[bytes](size_t n) { return n ? bytes_payload_words(bytes(n)) : 0; }, fp32_payload_words, {}};
  }
};

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
  uint64_t words;  // payload words
};

// Fills verdict's status, err_rank = sender, err_expected and err_got;
// returns false (a check's verdict: `return reject(...)`).
bool reject(MsgHeader& verdict, ErrorCode code, int sender, uint64_t expected, uint64_t got);

// Checks magic, version, kind, step, length and offset, and that `bytes`
// (the MPI count) matches the header. On failure fills err_* of `verdict`
// (status, err_rank = sender, expected/got) and returns false.
bool validate(const MsgHeader& h, const Expect& want, size_t bytes, int sender, MsgHeader& verdict);

// One line for an error RESULT header, naming the rank: for example
// "rank 3 sent step 7, expected step 8 (step_mismatch)".
std::string describe_error(const MsgHeader& verdict);

}  // namespace signvote::comm
