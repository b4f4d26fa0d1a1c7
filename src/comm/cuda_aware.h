// Whether the MPI library moves device memory itself ("CUDA-aware"), as
// Open MPI reports it at run time (MPIX_Query_cuda_support, mpi-ext.h).
#pragma once

namespace signvote::comm {

// 1: yes; 0: no, or this MPI has no such query.
bool mpi_cuda_aware();

}  // namespace signvote::comm
