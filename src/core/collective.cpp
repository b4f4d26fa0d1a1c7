#include "core/collective.h"

#include "comm/mpi_check.h"

#include <fmt/format.h>

#include <climits>

namespace signvote {

void agree_or_throw(const std::string& error) {
  int rank = 0;
  SV_MPI_CHECK(MPI_Comm_rank(MPI_COMM_WORLD, &rank));
  int mine = error.empty() ? INT_MAX : rank, first = INT_MAX;
  SV_MPI_CHECK(MPI_Allreduce(&mine, &first, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD));
  if (first == INT_MAX) return;
  if (first == rank) throw std::runtime_error(error);
  throw PeerFailure(fmt::format("rank {} failed during setup", first));
}

}  // namespace signvote
