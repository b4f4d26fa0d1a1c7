// Every MPI call goes through SV_MPI_CHECK: on failure it throws MpiError
// with file:line and MPI's own error string. Communicators must use
// MPI_ERRORS_RETURN (set in main() and by the Python module) for this to see errors.
#pragma once

#include <mpi.h>

#include <stdexcept>
#include <string>

namespace signvote::comm {

struct MpiError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

[[noreturn]] void throw_mpi_error(int code, const char* call, const char* file, int line);

}  // namespace signvote::comm

#define SV_MPI_CHECK(call)                                                        \
  do {                                                                            \
    const int sv_mpi_rc_ = (call);                                                \
    if (sv_mpi_rc_ != MPI_SUCCESS)                                                \
      ::signvote::comm::throw_mpi_error(sv_mpi_rc_, #call, __FILE__, __LINE__);   \
  } while (0)
