// How long a nonblocking NCCL communicator (nccl_comm.h) is waited for,
// and what ends the wait. Pure (no NCCL, no CUDA): the CPU tests cover it.
//
// Every NCCL call on the communicator may return ncclInProgress; the
// caller then polls ncclCommGetAsyncError (and, for queued work, the
// stream) until the state is no longer in progress:
//   done         -> go on
//   in_progress  -> keep polling while waited < timeout
//   failed       -> ncclCommAbort, throw (the NCCL error string)
//   timed out    -> ncclCommAbort, throw ("timed out after N s")
// A blocking communicator would instead hang forever inside NCCL when a
// peer never joins or dies mid-collective.
#pragma once

#include <chrono>
#include <string>

namespace signvote::comm {

// No configuration key bounds a single collective (run.round_deadline_ms
// is the vote's deadline, run.time_limit_s the whole run's), so one
// constant: communicator set-up (the first ncclCommInitRankConfig, which
// connects every rank: a few seconds across nodes) and each wait for an
// all-reduce. Inside that wait run the sum (milliseconds for ResNet-18's
// 45 MB) and at most the tail of the backward pass queued before it, so
// 60 s means a peer is gone, not slow.
inline constexpr std::chrono::seconds kNcclTimeout{60};

enum class NcclState { done, in_progress, failed };
enum class NcclVerdict { done, wait, abort_failed, abort_timed_out };

inline NcclVerdict nccl_verdict(NcclState state, std::chrono::steady_clock::duration waited,
                                std::chrono::steady_clock::duration timeout) {
  if (state == NcclState::done) return NcclVerdict::done;
  if (state == NcclState::failed) return NcclVerdict::abort_failed;
  return waited >= timeout ? NcclVerdict::abort_timed_out : NcclVerdict::wait;
}

// "file:line: call: what (detail); communicator aborted", the shape of
// SV_NCCL_CHECK's messages (what: ncclGetErrorString or "timed out after
// 60 s"; detail: ncclGetLastError, left out when empty).
inline std::string nccl_abort_message(const char* file, int line, const char* call, const std::string& what,
                                      const std::string& detail) {
  std::string m = std::string(file) + ":" + std::to_string(line) + ": " + call + ": " + what;
  if (!detail.empty()) m += " (" + detail + ")";
  return m + "; communicator aborted";
}

inline std::string nccl_timeout_text(std::chrono::steady_clock::duration timeout) {
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(timeout).count();
  return ms % 1000 == 0 ? "timed out after " + std::to_string(ms / 1000) + " s"
                        : "timed out after " + std::to_string(ms) + " ms";
}

}  // namespace signvote::comm
