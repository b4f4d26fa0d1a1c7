// SV_NCCL_CHECK(call): every NCCL call goes through it; a failure throws
// std::runtime_error "file:line: call: <ncclGetErrorString> (<last error>)".
#pragma once

#include <nccl.h>

#include <stdexcept>
#include <string>

namespace signvote::comm {

[[noreturn]] inline void nccl_fail(ncclResult_t r, const char* call, const char* file, int line) {
  throw std::runtime_error(std::string(file) + ":" + std::to_string(line) + ": " + call + ": " + ncclGetErrorString(r) +
                           " (" + ncclGetLastError(nullptr) + ")");
}

}  // namespace signvote::comm

#define SV_NCCL_CHECK(call)                                                   \
  do {                                                                        \
    const ncclResult_t sv_nccl_rc_ = (call);                                  \
    if (sv_nccl_rc_ != ncclSuccess)                                           \
      ::signvote::comm::nccl_fail(sv_nccl_rc_, #call, __FILE__, __LINE__);    \
  } while (0)
