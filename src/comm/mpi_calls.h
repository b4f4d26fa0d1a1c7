// The rest of MPI that code outside comm/ needs, typed and checked like
// collectives.h (allreduce, bcast, alltoall, allgather): rooted collectives
// (gather, gatherv, reduce), communicator queries and splits, request
// clean-up, the process's start and end. With collectives.h and transport.h
// these are the only MPI calls outside src/comm/*.cpp (scripts/check_layers.py).
// Every call checks its return code (SV_MPI_CHECK) except where noted.
#pragma once

#include "comm/collectives.h"

#include <mpi.h>

#include <span>
#include <string>
#include <vector>

namespace signvote::comm {

// ---- communicators ------------------------------------------------------------
MPI_Comm world();
int rank(MPI_Comm comm);
int size(MPI_Comm comm);
// The ranks of comm that share this node (MPI_COMM_TYPE_SHARED); free it
// with free_comm.
MPI_Comm split_node(MPI_Comm comm);
void free_comm(MPI_Comm& comm);
// This host's name as MPI reports it (MPI_Get_processor_name).
std::string processor_name();

// ---- rooted collectives -------------------------------------------------------
// Every rank's block of `each` elements to `root`, in rank order: recv holds
// size(comm) * each elements on the root (ignored elsewhere; may be null).
template <class T>
void gather(const T* send, T* recv, size_t each, int root, MPI_Comm comm) {
  const int n = detail::count_of(each, "gather");
  SV_MPI_CHECK(MPI_Gather(send, n, detail::mpi_type<T>(), recv, n, detail::mpi_type<T>(), root, comm));
}
// Blocks of different lengths to `root`: rank k's `mine` lands at
// recv + displs[k] with counts[k] elements (counts, displs: size(comm) on the
// root, ignored elsewhere).
template <class T>
void gatherv(std::span<const T> mine, T* recv, const int* counts, const int* displs, int root, MPI_Comm comm) {
  SV_MPI_CHECK(MPI_Gatherv(mine.data(), detail::count_of(mine.size(), "gatherv"), detail::mpi_type<T>(), recv, counts,
                           displs, detail::mpi_type<T>(), root, comm));
}
// v[i] = op over the ranks of v[i], on `root` only (in place there; the
// other ranks' v is left as it was).
template <class T>
void reduce(std::span<T> v, Op op, int root, MPI_Comm comm) {
  const bool at_root = rank(comm) == root;
  SV_MPI_CHECK(MPI_Reduce(at_root ? MPI_IN_PLACE : v.data(), v.data(), detail::count_of(v.size(), "reduce"),
                          detail::mpi_type<T>(), detail::mpi_op(op), root, comm));
}
// The bitwise OR of `bits` over the ranks of comm, on every rank.
int allreduce_bit_or(int bits, MPI_Comm comm);

// ---- the process ----------------------------------------------------------------
// MPI_Init, then MPI_ERRORS_RETURN on MPI_COMM_WORLD so SV_MPI_CHECK sees
// errors. Unchecked, as main() always did: a failing MPI_Init aborts itself.
void init(int* argc, char*** argv);
// MPI_Finalize, unchecked (the exit code is already decided).
void finalize() noexcept;
// Ends every rank of the job with `code` (MPI_Abort on MPI_COMM_WORLD).
[[noreturn]] void abort_world(int code) noexcept;

}  // namespace signvote::comm
