// Internal to libsignvote_native.so: C++ exceptions -> the error kinds of
// native_api.h, kept in this thread's last-error record.
#pragma once

#include "native_api.h"

#include "signvote/external.h"

#include <new>
#include <stdexcept>
#include <string>

namespace signvote::native {

// Records (message, cause, rank) for sv_last_error; returns kind.
int fail(int kind, const char* message, std::string cause = {}, int rank = -1);

// MPI up (signvote::mpi::ensure_initialised: FUNNELED unless MPI is up
// already; MPI_ERRORS_RETURN), the log lines tagged with the rank.
void ensure_mpi();

// Throws std::invalid_argument naming `what` when p is null.
inline void need(const void* p, const char* what) {
  if (p == nullptr) throw std::invalid_argument(std::string("signvote: ") + what + " is a null pointer");
}

// Runs f; its exceptions become the error kinds, most derived first
// (RunStopped and JoinError are runtime_errors), as pybind11 mapped them.
template <class F>
int guarded(F&& f) noexcept {
  try {
    f();
    return SV_OK;
  } catch (const RunStopped& e) {
    return fail(SV_RUN_STOPPED, e.what(), e.cause, e.rank);
  } catch (const JoinError& e) {
    return fail(e.no_server ? SV_NO_SERVER : SV_JOIN_ERROR, e.what());
  } catch (const std::invalid_argument& e) {
    return fail(SV_VALUE_ERROR, e.what());
  } catch (const std::domain_error& e) {
    return fail(SV_VALUE_ERROR, e.what());
  } catch (const std::length_error& e) {
    return fail(SV_VALUE_ERROR, e.what());
  } catch (const std::out_of_range& e) {
    return fail(SV_INDEX_ERROR, e.what());
  } catch (const std::bad_alloc&) {
    return fail(SV_MEMORY_ERROR, "out of memory");  // short: kept without allocating
  } catch (const std::runtime_error& e) {  // MPI, I/O, CUDA: still a signvote.Error
    return fail(SV_ERROR, e.what());
  } catch (const std::exception& e) {
    return fail(SV_OTHER_ERROR, e.what());
  } catch (...) {
    return fail(SV_OTHER_ERROR, "unknown C++ exception");
  }
}

}  // namespace signvote::native
