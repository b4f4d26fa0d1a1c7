#include "comm/cuda_aware.h"

#include <mpi.h>
#if __has_include(<mpi-ext.h>)
#include <mpi-ext.h>
#endif

namespace signvote::comm {

bool mpi_cuda_aware() {
#if defined(MPIX_CUDA_AWARE_SUPPORT)
  return MPIX_Query_cuda_support() == 1;  // run-time answer: the library may be built with, the transport without
#else
  return false;
#endif
}

}  // namespace signvote::comm
