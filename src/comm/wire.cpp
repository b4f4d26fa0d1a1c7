#include "comm/wire.h"

#include "comm/vote_tail.h"
#include "signvote/sign_layout.h"

#include <fmt/format.h>

#include <cstring>

namespace signvote::protocol {
const char* error_name(ErrorCode code) {
  switch (code) {
    case ErrorCode::ok: return "ok";
    case ErrorCode::bad_magic: return "bad_magic";
    case ErrorCode::bad_version: return "bad_version";
    case ErrorCode::bad_kind: return "bad_kind";
    case ErrorCode::step_mismatch: return "step_mismatch";
    case ErrorCode::length_mismatch: return "length_mismatch";
    case ErrorCode::size_mismatch: return "size_mismatch";
    case ErrorCode::nan_gradient: return "nan_gradient";
    case ErrorCode::hash_mismatch: return "hash_mismatch";
    case ErrorCode::worker_failed: return "worker_failed";
    case ErrorCode::worker_late: return "worker_late";
    case ErrorCode::worker_left: return "worker_left";
    case ErrorCode::lr_mismatch: return "lr_mismatch";
    case ErrorCode::schedule_conflict: return "schedule_conflict";
    case ErrorCode::bad_presence: return "bad_presence";
  }
  return "unknown";
}
}  // namespace signvote::protocol

namespace signvote::comm {

Message::Message(size_t words) : buf_(protocol::kHeaderBytes + 4 * words), words_(words) {
  header() = MsgHeader{};
  header().words = words;
}

bool reject(MsgHeader& v, ErrorCode code, int sender, uint64_t expected, uint64_t got) {
  v.status = code;
  v.err_rank = static_cast<uint32_t>(sender);
  v.err_expected = expected;
  v.err_got = got;
  return false;
}

bool validate(const MsgHeader& h, const Expect& want, size_t bytes, int sender, MsgHeader& verdict) {
  if (bytes < protocol::kHeaderBytes) return reject(verdict, ErrorCode::size_mismatch, sender, protocol::kHeaderBytes, bytes);
  if (h.magic != protocol::kMagic) return reject(verdict, ErrorCode::bad_magic, sender, protocol::kMagic, h.magic);
  if (h.version != protocol::kProtocolVersion)
    return reject(verdict, ErrorCode::bad_version, sender, protocol::kProtocolVersion, h.version);
  if (h.kind != want.kind)
    return reject(verdict, ErrorCode::bad_kind, sender, static_cast<uint64_t>(want.kind), static_cast<uint64_t>(h.kind));
  if (h.status != ErrorCode::ok)  // a reported failure; err_rank names another offender (rank 0 never does)
    return reject(verdict, h.status, h.err_rank ? static_cast<int>(h.err_rank) : sender, h.err_expected, h.err_got);
  if (h.step != want.step) return reject(verdict, ErrorCode::step_mismatch, sender, want.step, h.step);
  if (h.length != want.length) return reject(verdict, ErrorCode::length_mismatch, sender, want.length, h.length);
  if (h.offset != want.offset) return reject(verdict, ErrorCode::length_mismatch, sender, want.offset, h.offset);
  const size_t want_bytes = protocol::kHeaderBytes + 4 * want.words;
  if (bytes != want_bytes || h.words * 4 + protocol::kHeaderBytes != bytes)
    return reject(verdict, ErrorCode::size_mismatch, sender, want_bytes, bytes);
  return true;
}

namespace {
// err_expected / err_got of lr_mismatch and schedule_conflict (vote_tail.h).
std::string group_value(uint64_t packed) {
  const uint32_t bits = group_bits(packed);
  float v;
  std::memcpy(&v, &bits, sizeof v);
  return fmt::format("{} {}", group_field(packed) ? "weight_decay" : "lr", v);
}
}  // namespace

std::string describe_error(const MsgHeader& v) {
  const auto r = v.err_rank;
  const char* name = protocol::error_name(v.status);
  switch (v.status) {
    case ErrorCode::step_mismatch:
      return fmt::format("rank {} sent step {}, expected step {} ({})", r, v.err_got, v.err_expected, name);
    case ErrorCode::length_mismatch:
      return fmt::format("rank {} sent length/offset {}, expected {} ({})", r, v.err_got, v.err_expected, name);
    case ErrorCode::size_mismatch:
      return fmt::format("rank {} sent {} bytes, expected {} ({})", r, v.err_got, v.err_expected, name);
    case ErrorCode::bad_magic:
      return fmt::format("rank {} sent a message with magic {:#x}, expected {:#x} ({})", r, v.err_got, v.err_expected, name);
    case ErrorCode::bad_version:
      return fmt::format("rank {} speaks protocol version {}, expected {} ({})", r, v.err_got, v.err_expected, name);
    case ErrorCode::nan_gradient:
      return fmt::format("rank {} produced {} NaN or infinite coordinates ({})", r, v.err_got, name);
    case ErrorCode::hash_mismatch:
      return fmt::format("rank {} weights diverged: hash {:#018x}, majority {:#018x} ({})", r, v.err_got, v.err_expected, name);
    case ErrorCode::worker_failed:
      return fmt::format("rank {} failed locally (see its log) ({})", r, name);
    case ErrorCode::worker_late:
      return fmt::format("rank {} missed the round deadline {} rounds in a row (cluster.max_missed_rounds = {}) ({})", r,
                         v.err_got, v.err_expected, name);
    case ErrorCode::worker_left:
      if (r == protocol::kEveryone) return fmt::format("every worker left the run ({})", name);
      return fmt::format("rank {} left the run (close()) while the other workers went on ({})", r, name);
    case ErrorCode::lr_mismatch:
      return fmt::format("rank {} applies {} to parameter group {}, the other workers {}: every worker's lr and weight "
                         "decay must agree at every step ({})", r, group_value(v.err_got), group_index(v.err_got),
                         group_value(v.err_expected), name);
    case ErrorCode::schedule_conflict:
      return fmt::format("rank {} set {} for parameter group {}, but the server's optimizer.schedule drives the lr "
                         "from {}: use either optimizer.schedule or a torch LR scheduler, not both ({})", r,
                         group_value(v.err_got), group_index(v.err_got), group_value(v.err_expected), name);
    case ErrorCode::bad_presence:
      return fmt::format("rank {} sent presence word {:#x} with bits past its last tensor ({})", r, v.err_got, name);
    default:
      return fmt::format("rank {}: {} (expected {}, got {})", r, name, v.err_expected, v.err_got);
  }
}

}  // namespace signvote::comm
