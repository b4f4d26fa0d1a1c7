// MPI for a test binary's main(): MPI_Init with errors returned (so a failed
// call reaches SV_MPI_CHECK), this rank and the world size; MPI_Finalize at
// scope exit.
#pragma once

#include <mpi.h>

struct MpiWorld {
  MpiWorld(int* argc, char*** argv) {
    MPI_Init(argc, argv);
    MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
  }
  ~MpiWorld() { MPI_Finalize(); }
  MpiWorld(const MpiWorld&) = delete;
  MpiWorld& operator=(const MpiWorld&) = delete;
  int rank = 0, size = 1;
};
