#include "comm/mpi_calls.h"

#include "signvote/mpi_session.h"

#include <cstdlib>
#include <stdexcept>

namespace signvote::comm {

int allreduce_bit_or(int bits, MPI_Comm comm) {
  SV_MPI_CHECK(MPI_Allreduce(MPI_IN_PLACE, &bits, 1, MPI_INT, MPI_BOR, comm));
  return bits;
}

MPI_Comm world() { return MPI_COMM_WORLD; }

int rank(MPI_Comm comm) {
  int r = 0;
  SV_MPI_CHECK(MPI_Comm_rank(comm, &r));
  return r;
}

int size(MPI_Comm comm) {
  int n = 0;
  SV_MPI_CHECK(MPI_Comm_size(comm, &n));
  return n;
}

MPI_Comm split_node(MPI_Comm comm) {
  MPI_Comm node = MPI_COMM_NULL;
  SV_MPI_CHECK(MPI_Comm_split_type(comm, MPI_COMM_TYPE_SHARED, 0, MPI_INFO_NULL, &node));
  return node;
}

void free_comm(MPI_Comm& comm) { SV_MPI_CHECK(MPI_Comm_free(&comm)); }

std::string processor_name() {
  char name[MPI_MAX_PROCESSOR_NAME];
  int len = 0;
  SV_MPI_CHECK(MPI_Get_processor_name(name, &len));
  return std::string(name, static_cast<size_t>(len));
}

void init(int* argc, char*** argv) {
  MPI_Init(argc, argv);
  MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
}

void finalize() noexcept { MPI_Finalize(); }

void abort_world(int code) noexcept {
  MPI_Abort(MPI_COMM_WORLD, code);
  std::_Exit(code);  // MPI_Abort does not return; this is for the compiler
}

}  // namespace signvote::comm

namespace signvote::mpi {

bool ensure_initialised() {
  int up = 0;
  SV_MPI_CHECK(MPI_Initialized(&up));
  if (up) return false;
  int provided = 0;  // checked by hand: the usual cause deserves its own message
  if (MPI_Init_thread(nullptr, nullptr, MPI_THREAD_FUNNELED, &provided) != MPI_SUCCESS)
    throw std::runtime_error("signvote: MPI_Init_thread failed (run under mpirun)");
  SV_MPI_CHECK(MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN));
  return true;
}

bool running() {
  int up = 0, down = 0;
  SV_MPI_CHECK(MPI_Initialized(&up));
  SV_MPI_CHECK(MPI_Finalized(&down));
  return up && !down;
}

int world_rank() { return comm::rank(MPI_COMM_WORLD); }
int world_size() { return comm::size(MPI_COMM_WORLD); }

void finalize() { SV_MPI_CHECK(MPI_Finalize()); }

void abort(int code) { SV_MPI_CHECK(MPI_Abort(MPI_COMM_WORLD, code)); }

}  // namespace signvote::mpi
