// MPI for a program that embeds signvote instead of running `signvote`
// (the Python module, libsignvote_native.so): start it, ask who we are, end
// it. Plain C++ types only, so that no caller needs <mpi.h>.
#pragma once

namespace signvote::mpi {

// MPI_Init_thread(MPI_THREAD_FUNNELED) unless MPI is up already (a script
// that initialised it with mpi4py, say, is left alone), then
// MPI_ERRORS_RETURN on MPI_COMM_WORLD. Returns true when this call started
// MPI. Throws std::runtime_error "signvote: MPI_Init_thread failed (run under
// mpirun)" when MPI cannot start.
bool ensure_initialised();
// MPI is initialised and not yet finalised.
bool running();
// This process's rank in, and the size of, MPI_COMM_WORLD.
int world_rank();
int world_size();
// MPI_Finalize (checked).
void finalize();
// MPI_Abort(MPI_COMM_WORLD, code): ends every rank; throws only if MPI fails.
void abort(int code);

}  // namespace signvote::mpi
