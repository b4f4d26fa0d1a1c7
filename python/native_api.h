/* The C ABI of libsignvote_native.so, the PyTorch binding's native half,
 * loaded by python/signvote/_signvote.py with ctypes. No Python headers: one
 * build serves every Python 3 version (and any torch: a tensor is only a
 * data pointer and a length here).
 *
 * Every function but sv_worker_free, sv_last_error and sv_abi_version
 * returns a status: SV_OK (0) or the error kind, and then sv_last_error()
 * gives this thread's record of it (kind, message, cause, rank). Pointers are plain
 * addresses: float buffers of n floats, host memory unless the worker was
 * built with device >= 0 (then params and grads are CUDA device memory).
 */
#ifndef SIGNVOTE_NATIVE_API_H
#define SIGNVOTE_NATIVE_API_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define SV_API __attribute__((visibility("default")))

/* Error kinds (the Python class each becomes). */
enum {
  SV_OK = 0,
  SV_ERROR = 1,        /* signvote.Error: MPI, I/O, CUDA (std::runtime_error) */
  SV_JOIN_ERROR = 2,   /* signvote.JoinError: the job could not start */
  SV_NO_SERVER = 3,    /* signvote.NoServer: no `signvote serve` rank */
  SV_RUN_STOPPED = 4,  /* signvote.RunStopped: cause and rank set */
  SV_VALUE_ERROR = 5,  /* ValueError (std::invalid_argument, domain_error, length_error) */
  SV_OTHER_ERROR = 6,  /* RuntimeError (any other C++ exception) */
  SV_INDEX_ERROR = 7,  /* IndexError (std::out_of_range), as pybind11 mapped it */
  SV_MEMORY_ERROR = 8  /* MemoryError (std::bad_alloc) */
};

/* The last failure on this thread: returns its kind (SV_OK: none yet); the
 * strings live until the next failing call on it. rank: the offending
 * world rank (-1: unknown or none). */
SV_API int sv_last_error(const char** message, const char** cause, int* rank);

/* The ABI's version: 2 (sv_worker_step takes the tensors and groups). A package with another refuses the library. */
SV_API int sv_abi_version(void);

/* MPI. sv_world initialises it (MPI_THREAD_FUNNELED) when nobody has. */
SV_API int sv_world(int* rank, int* size);
SV_API int sv_finalize(void); /* MPI_Finalize, when sv_world initialised MPI */
SV_API int sv_mpi_running(int* running);
SV_API int sv_abort(int code); /* MPI_Abort: ends every rank of the job */

/* The server's 64-bit weight hash of n floats; the CPU sign kernels' name. */
SV_API int sv_hash_floats(const float* x, size_t n, uint64_t* hash);
SV_API int sv_isa(const char** name); /* "avx512" | "avx2" | "scalar", static */

/* A worker (signvote/external.h, ExternalWorker). settings: n_settings
 * "key=value" strings. params, grads: dim floats each. device: -1 for host
 * memory, else the CUDA device ordinal of params and grads (-2: the current
 * device); stream: a cudaStream_t on it (0: the legacy stream). Collective
 * with the server ranks. */
typedef struct sv_worker sv_worker;
SV_API int sv_worker_new(const char* const* settings, int n_settings, float* params, float* grads, size_t dim,
                         int device, void* stream, sv_worker** out);
SV_API void sv_worker_free(sv_worker* w);
/* One round; *last = 1 when it was the run's last. present (n_tensors,):
 * nonzero = this worker has a gradient for that tensor; lr, wd (n_groups,):
 * each parameter group's this step (signvote/external.h, StepGroups);
 * n_tensors = n_groups = 0: every tensor, the configured values. */
SV_API int sv_worker_step(sv_worker* w, float loss, uint32_t correct, uint32_t samples, const uint8_t* present,
                          size_t n_tensors, const float* lr, const float* wd, size_t n_groups, int* last);
SV_API int sv_worker_leave(sv_worker* w);
SV_API int sv_worker_resume(sv_worker* w, uint64_t step, double elapsed_s);
SV_API int sv_worker_join(sv_worker* w);  /* new to a resumed job (ExternalWorker::join) */
SV_API int sv_worker_average(sv_worker* w, float* x, size_t n);           /* host x */
SV_API int sv_worker_momentum_into(sv_worker* w, float* dst, size_t n);   /* host dst */
SV_API int sv_worker_set_momentum(sv_worker* w, const float* src, size_t n); /* host src */
/* name: rank, worker_index, workers, servers, steps_done, finished,
 * max_steps, skipped (every worker dropped the last round). */
SV_API int sv_worker_int(const sv_worker* w, const char* name, int64_t* value);
SV_API int sv_worker_elapsed_s(const sv_worker* w, double* seconds);
/* The resolved config (YAML); valid until the next call on this thread. */
SV_API int sv_worker_config_yaml(const sv_worker* w, const char** yaml);

#ifdef __cplusplus
}
#endif

#endif /* SIGNVOTE_NATIVE_API_H */
