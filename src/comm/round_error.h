// The one error a round ends with, on either side: the server's (a round
// that failed validation; every worker has been told) and the worker's (the
// server stopped the round, or a local failure it reported). what() is the
// one-line reason naming the rank; `code` and `offender` are the RESULT's
// status and err_rank (a local failure: worker_failed and this rank; the
// server's own: the status it sent, or worker_failed when it has none).
#pragma once

#include "signvote/exit_status.h"
#include "signvote/protocol.h"

#include <stdexcept>
#include <string>

namespace signvote {

struct RoundError : std::runtime_error {
  explicit RoundError(const std::string& what, protocol::ErrorCode code = protocol::ErrorCode::worker_failed,
                      int offender = -1)
      : std::runtime_error(what), code(code), offender(offender) {}
  protocol::ErrorCode code;
  int offender;
};

// The exit status a round's error ends the job with: a worker that kept
// missing the deadline is an infrastructure failure (a restart without it can
// go on); every other round error would happen again.
inline int exit_status_of(protocol::ErrorCode code) {
  return code == protocol::ErrorCode::worker_late ? exit_status::infrastructure : exit_status::error;
}

// " [infrastructure]" for a status-75 error line (signvote/exit_status.h), else "".
inline const char* status_tag(int status) { return status == exit_status::infrastructure ? " [infrastructure]" : ""; }

}  // namespace signvote
