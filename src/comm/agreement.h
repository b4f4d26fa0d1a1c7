// Agreeing on failure before the first round, so that an error on one rank
// (an unreadable file on one node, say) stops every rank instead of leaving
// the others waiting in a round.
#pragma once

#include <stdexcept>
#include <string>

namespace signvote {

// Thrown on the ranks that did not fail themselves: exit non-zero quietly,
// the failing rank prints the reason.
struct PeerFailure : std::runtime_error {
  explicit PeerFailure(const std::string& what, int status = 1) : std::runtime_error(what), status(status) {}
  int status;  // the exit status (signvote/exit_status.h)
};

// The path for an error outside a round, once round 1 has started
// (checkpoint I/O, evaluation, probes, metrics): the other ranks may be
// waiting in a receive or a collective this rank will never join, so the
// reason is logged once ("[rank N] [error] ..."), the logs are flushed and
// MPI_Abort ends every rank of the job with `status` (signvote/exit_status.h;
// mpirun exits non-zero).
[[noreturn]] void abort_job(const std::string& reason, int status = 1);

// Collective over MPI_COMM_WORLD. `error` is this rank's error ("" = ok).
// If any rank failed, the lowest failing rank throws std::runtime_error with
// its own message and all the others throw PeerFailure carrying it
// ("rank N failed during setup: <its message>").
void agree_or_throw(const std::string& error);

}  // namespace signvote
