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
  using std::runtime_error::runtime_error;
};

// Collective over MPI_COMM_WORLD. `error` is this rank's error ("" = ok).
// If any rank failed, the lowest failing rank throws std::runtime_error with
// its own message and all the others throw PeerFailure.
void agree_or_throw(const std::string& error);

}  // namespace signvote
