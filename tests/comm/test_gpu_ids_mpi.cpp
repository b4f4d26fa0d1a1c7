// comm::allgather_strings + comm::plan_gpus under mpiexec, on the CPU:
// every rank contributes a made-up GPU identity of its own length and every
// rank must get the same list back, in rank order, and the same plan.
//
//   mpiexec -np 3 test_gpu_ids_mpi     (any rank count >= 1)
//
// Rank 0 prints "test_gpu_ids_mpi: ok: ..." (exit 0) or "FAILED: ..." (exit 1).
#include "mpi_world.h"
#include "comm/gpu_plan.h"
#include "comm/mpi_check.h"

#include <mpi.h>

#include <cstdio>
#include <string>
#include <vector>

namespace {

// Rank r's identity: r + 1 characters long (rank 0's is 1 character), and
// ranks 0 and 2 claim the same GPU when there are 3 or more ranks.
std::string id_of(int r) {
  const int g = r == 2 ? 0 : r;
  return "GPU-" + std::string(static_cast<size_t>(g + 1), static_cast<char>('a' + g % 26));
}

std::string check(int rank, int size) {
  const auto ids = signvote::comm::allgather_strings(MPI_COMM_WORLD, id_of(rank));
  if (static_cast<int>(ids.size()) != size) return "got " + std::to_string(ids.size()) + " ids";
  for (int r = 0; r < size; ++r)
    if (ids[static_cast<size_t>(r)] != id_of(r)) return "id " + std::to_string(r) + " = '" + ids[static_cast<size_t>(r)] + "'";
  const auto plan = signvote::comm::plan_gpus(ids, false, 1);
  if (plan.shared != (size >= 3)) return "shared = " + std::to_string(plan.shared);
  if (size >= 3 && plan.error.rfind("rank 3: its GPU GPU-a is already used by rank 1", 0) != 0) return "error: " + plan.error;
  // Every rank decided the same: compare the error texts' lengths and contents.
  int len = static_cast<int>(plan.error.size()), lo = 0, hi = 0;
  SV_MPI_CHECK(MPI_Allreduce(&len, &lo, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD));
  SV_MPI_CHECK(MPI_Allreduce(&len, &hi, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD));
  if (lo != hi) return "the ranks' plans differ";
  return {};
}

}  // namespace

int main(int argc, char** argv) {
  const MpiWorld world(&argc, &argv);
  const int rank = world.rank, size = world.size;
  std::string err;
  try {
    err = check(rank, size);
  } catch (const std::exception& e) {
    err = e.what();
  }
  int bad = err.empty() ? 0 : 1, any = 0;
  MPI_Allreduce(&bad, &any, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
  if (bad) std::printf("test_gpu_ids_mpi: FAILED: rank %d: %s\n", rank, err.c_str());
  else if (rank == 0 && !any)
    std::printf("test_gpu_ids_mpi: ok: %d ranks gathered %d ids of different lengths, same plan everywhere\n", size, size);
  return any;
}
