// The collectives the rest of signvote uses, typed and checked: the only
// place outside comm/*.cpp that MPI's collective calls are spelled. Callers
// pass spans of plain values and a communicator handle from comm::Topology;
// every call goes through SV_MPI_CHECK (file:line and MPI's error string).
// Counts above INT_MAX elements throw std::length_error instead of wrapping.
#pragma once

#include "comm/mpi_check.h"

#include <mpi.h>

#include <climits>
#include <cstddef>
#include <cstdint>
#include <span>
#include <stdexcept>
#include <string>
#include <type_traits>

namespace signvote::comm {

enum class Op { sum, min, max };

namespace detail {
template <class T>
MPI_Datatype mpi_type() {
  using U = std::remove_cv_t<T>;
  if constexpr (std::is_same_v<U, float>) return MPI_FLOAT;
  else if constexpr (std::is_same_v<U, double>) return MPI_DOUBLE;
  else if constexpr (std::is_same_v<U, int>) return MPI_INT;
  else if constexpr (std::is_same_v<U, int64_t>) return MPI_INT64_T;
  else if constexpr (std::is_same_v<U, uint64_t>) return MPI_UINT64_T;
  else if constexpr (std::is_same_v<U, uint32_t>) return MPI_UINT32_T;
  else if constexpr (std::is_same_v<U, char> || std::is_same_v<U, std::byte> || std::is_same_v<U, unsigned char>)
    return MPI_BYTE;
  else static_assert(sizeof(U) == 0, "comm: no MPI datatype for this type");
}
inline MPI_Op mpi_op(Op op) { return op == Op::sum ? MPI_SUM : op == Op::min ? MPI_MIN : MPI_MAX; }
inline int count_of(size_t n, const char* what) {
  if (n > static_cast<size_t>(INT_MAX)) throw std::length_error(std::string(what) + ": more than INT_MAX elements");
  return static_cast<int>(n);
}
}  // namespace detail

// v[i] = op over the ranks of v[i], in place, on every rank.
template <class T>
void allreduce(std::span<T> v, Op op, MPI_Comm comm) {
  SV_MPI_CHECK(MPI_Allreduce(MPI_IN_PLACE, v.data(), detail::count_of(v.size(), "allreduce"), detail::mpi_type<T>(),
                             detail::mpi_op(op), comm));
}
template <class T>
T allreduce_one(T v, Op op, MPI_Comm comm) {
  allreduce(std::span<T>(&v, 1), op, comm);
  return v;
}

// root's v to every rank of comm.
template <class T>
void bcast(std::span<T> v, int root, MPI_Comm comm) {
  SV_MPI_CHECK(MPI_Bcast(v.data(), detail::count_of(v.size(), "bcast"), detail::mpi_type<T>(), root, comm));
}
template <class T>
void bcast_one(T& v, int root, MPI_Comm comm) {
  bcast(std::span<T>(&v, 1), root, comm);
}

// Equal blocks of `each` elements: send block j goes to rank j, which keeps
// it as its block i (i = this rank). send and recv hold size(comm) blocks.
template <class T>
void alltoall(const T* send, T* recv, size_t each, MPI_Comm comm) {
  const int n = detail::count_of(each, "alltoall");
  SV_MPI_CHECK(MPI_Alltoall(send, n, detail::mpi_type<T>(), recv, n, detail::mpi_type<T>(), comm));
}
// Every rank's block of `each` elements, in rank order, on every rank.
template <class T>
void allgather(const T* send, T* recv, size_t each, MPI_Comm comm) {
  const int n = detail::count_of(each, "allgather");
  SV_MPI_CHECK(MPI_Allgather(send, n, detail::mpi_type<T>(), recv, n, detail::mpi_type<T>(), comm));
}

}  // namespace signvote::comm
