#include "comm/nccl_comm.h"

#include "comm/mpi_check.h"
#include "comm/nccl_check.h"

#include <exception>
#include <stdexcept>
#include <thread>

// An NCCL call on the nonblocking communicator: ncclSuccess goes on,
// ncclInProgress is polled out (deadline), anything else aborts and throws
// with this file:line and the call's text.
#define SV_NCCL_SETTLE(call) settle((call), #call, __FILE__, __LINE__)

namespace signvote::comm {
namespace {

using Clock = std::chrono::steady_clock;

// Between polls: yield for the first ~1000 (a sum of a few MB finishes in
// well under a millisecond), then sleep 50 us so a long wait costs no core.
void backoff(int polls) {
  if (polls < 1000) std::this_thread::yield();
  else std::this_thread::sleep_for(std::chrono::microseconds(50));
}

// What rank 0 broadcasts: its ncclGetUniqueId result travels with the id,
// so a failure there fails every rank instead of leaving them in the Bcast.
struct RootId {
  ncclResult_t rc = ncclSuccess;
  ncclUniqueId id{};
};

}  // namespace

NcclComm::NcclComm(MPI_Comm mpi, int rank, int size, Clock::duration timeout) : timeout_(timeout) {
  RootId root;
  if (rank == 0) root.rc = ncclGetUniqueId(&root.id);
  SV_MPI_CHECK(MPI_Bcast(&root, sizeof root, MPI_BYTE, 0, mpi));
  if (root.rc != ncclSuccess) nccl_fail(root.rc, "ncclGetUniqueId (on rank 0)", __FILE__, __LINE__);
  ncclConfig_t config = NCCL_CONFIG_INITIALIZER;
  config.blocking = 0;  // every call returns at once; wait() bounds the waiting
  SV_NCCL_SETTLE(ncclCommInitRankConfig(&comm_, size, root.id, rank, &config));
  healthy_ = true;
}

NcclComm::~NcclComm() {
  if (!comm_) return;
  // ncclCommFinalize is collective within the node: while this rank unwinds
  // from an exception its peers are not finalizing, so waiting would only
  // run out the deadline. Abort at once instead.
  if (healthy_ && std::uncaught_exceptions() == 0) {
    try {
      SV_NCCL_SETTLE(ncclCommFinalize(comm_));  // flushes queued sums, bounded by the deadline
      ncclCommDestroy(comm_);                    // local once finalized; no throw from a destructor
      comm_ = nullptr;
    } catch (const std::exception&) {
      // fail() has aborted it
    }
    return;
  }
  abort();
}

void NcclComm::all_reduce_sum(float* buf, size_t count, cudaStream_t stream) {
  if (!healthy()) throw std::logic_error("NcclComm::all_reduce_sum: the communicator was aborted");
  SV_NCCL_SETTLE(ncclAllReduce(buf, buf, count, ncclFloat, ncclSum, comm_, stream));
}

void NcclComm::synchronize(cudaStream_t stream) {
  if (!healthy()) throw std::logic_error("NcclComm::synchronize: the communicator was aborted");
  wait("stream work and NCCL sums", __FILE__, __LINE__, stream, true);
}

void NcclComm::settle(ncclResult_t rc, const char* call, const char* file, int line) {
  if (rc == ncclSuccess) return;
  if (rc != ncclInProgress || comm_ == nullptr) fail(file, line, call, ncclGetErrorString(rc));
  wait(call, file, line, nullptr, false);
}

void NcclComm::wait(const char* call, const char* file, int line, cudaStream_t stream, bool with_stream) {
  const auto t0 = Clock::now();
  for (int polls = 0;; ++polls) {
    ncclResult_t st = ncclSuccess;
    const ncclResult_t rc = ncclCommGetAsyncError(comm_, &st);
    if (rc != ncclSuccess) fail(file, line, "ncclCommGetAsyncError", ncclGetErrorString(rc));
    NcclState state = st == ncclSuccess      ? NcclState::done
                      : st == ncclInProgress ? NcclState::in_progress
                                             : NcclState::failed;
    if (state == NcclState::done && with_stream) {
      // cudaErrorNotReady is the expected "still running", so no SV_CUDA_CHECK.
      const cudaError_t q = cudaStreamQuery(stream);
      if (q == cudaErrorNotReady) state = NcclState::in_progress;
      else if (q != cudaSuccess)
        fail(file, line, "cudaStreamQuery", std::string(cudaGetErrorName(q)) + ": " + cudaGetErrorString(q));
    }
    switch (nccl_verdict(state, Clock::now() - t0, timeout_)) {
      case NcclVerdict::done: return;
      case NcclVerdict::wait: break;
      case NcclVerdict::abort_failed: fail(file, line, call, ncclGetErrorString(st));
      case NcclVerdict::abort_timed_out: fail(file, line, call, nccl_timeout_text(timeout_));
    }
    backoff(polls);
  }
}

void NcclComm::fail(const char* file, int line, const char* call, const std::string& what) {
  // NCCL's last error first: the abort may replace it.
  const char* last = ncclGetLastError(comm_);
  const std::string message = nccl_abort_message(file, line, call, what, last ? last : "");
  abort();
  throw std::runtime_error(message);
}

void NcclComm::abort() noexcept {
  healthy_ = false;
  if (!comm_) return;
  ncclCommAbort(comm_);  // frees the communicator whatever its peers do; its result is of no use here
  comm_ = nullptr;
}

}  // namespace signvote::comm
