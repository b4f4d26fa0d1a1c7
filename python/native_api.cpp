// libsignvote_native.so, module-level part of python/native_api.h: the
// last-error record, MPI, the weight hash. The worker: native_worker.cpp.
#include "native_api.h"
#include "native_guard.h"

#include "signvote/mpi_session.h"
#include "signvote/sign_kernels.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <string>

namespace signvote::native {
namespace {

struct LastError {
  int kind = SV_OK;
  std::string message, cause;
  int rank = -1;
};
thread_local LastError t_error;

// MPI_Init_thread once per process (a script that already initialised MPI,
// with mpi4py say, is left alone): signvote/mpi_session.h.
bool g_we_initialised = false;

}  // namespace

void ensure_mpi() {
  if (!signvote::mpi::ensure_initialised()) return;
  spdlog::set_pattern(fmt::format("[%H:%M:%S.%e] [rank {}] [%l] %v", signvote::mpi::world_rank()));
  g_we_initialised = true;
}

int fail(int kind, const char* message, std::string cause, int rank) {
  t_error = LastError{kind, message, std::move(cause), rank};
  return kind;
}

}  // namespace signvote::native

using namespace signvote::native;

extern "C" {

int sv_last_error(const char** message, const char** cause, int* rank) {
  if (message) *message = t_error.message.c_str();
  if (cause) *cause = t_error.cause.c_str();
  if (rank) *rank = t_error.rank;
  return t_error.kind;
}

int sv_abi_version(void) { return 2; }

int sv_world(int* rank, int* size) {
  return guarded([&] {
    need(rank, "rank"), need(size, "size");
    ensure_mpi();
    *rank = signvote::mpi::world_rank();
    *size = signvote::mpi::world_size();
  });
}

int sv_finalize(void) {
  return guarded([] {
    if (g_we_initialised && signvote::mpi::running()) signvote::mpi::finalize();
  });
}

int sv_mpi_running(int* running) {
  return guarded([&] { need(running, "running"), *running = signvote::mpi::running() ? 1 : 0; });
}

int sv_abort(int code) {
  return guarded([&] { signvote::mpi::abort(code); });
}

int sv_hash_floats(const float* x, size_t n, uint64_t* hash) {
  return guarded([&] {
    need(hash, "hash");
    if (n > 0) need(x, "x");
    *hash = signvote::hash_floats(x, n);
  });
}

int sv_isa(const char** name) {
  return guarded([&] {
    need(name, "name");
    *name = signvote::kernels::isa_name(signvote::kernels::ops_named("auto").isa);
  });
}

}  // extern "C"
