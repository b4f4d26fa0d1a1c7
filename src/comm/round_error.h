// The one error a round ends with, on either side: the server's (a round
// that failed validation; every worker has been told) and the worker's (the
// server stopped the round, or a local failure it reported). what() is the
// one-line reason naming the rank; `code` and `offender` are the RESULT's
// status and err_rank (a local failure: worker_failed and this rank; the
// server's own: the status it sent, or worker_failed when it has none).
#pragma once

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

}  // namespace signvote
