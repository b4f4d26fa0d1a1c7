#include "comm/agreement.h"

#include "comm/mpi_check.h"
#include "signvote/exit_status.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <climits>
#include <cstdio>
#include <cstdlib>

namespace signvote {

void abort_job(const std::string& reason, int status) {
  spdlog::error("{} (stopping every rank){}", reason, status == exit_status::infrastructure ? " [infrastructure]" : "");
  spdlog::default_logger()->flush();
  std::fflush(stdout);
  std::fflush(stderr);
  MPI_Abort(MPI_COMM_WORLD, status);
  std::_Exit(status);  // MPI_Abort does not return; this is for the compiler
}

void agree_or_throw(const std::string& error) {
  int rank = 0;
  SV_MPI_CHECK(MPI_Comm_rank(MPI_COMM_WORLD, &rank));
  int mine = error.empty() ? INT_MAX : rank, first = INT_MAX;
  SV_MPI_CHECK(MPI_Allreduce(&mine, &first, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD));
  if (first == INT_MAX) return;
  // The failing rank's reason reaches everyone (the PyTorch workers raise it).
  std::string reason = first == rank ? error : std::string();
  int n = static_cast<int>(reason.size());
  SV_MPI_CHECK(MPI_Bcast(&n, 1, MPI_INT, first, MPI_COMM_WORLD));
  reason.resize(static_cast<size_t>(n));
  SV_MPI_CHECK(MPI_Bcast(reason.data(), n, MPI_CHAR, first, MPI_COMM_WORLD));
  if (first == rank) throw std::runtime_error(error);
  throw PeerFailure(fmt::format("rank {} failed during setup: {}", first, reason));
}

}  // namespace signvote
