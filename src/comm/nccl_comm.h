// NcclComm: one rank's NCCL communicator, RAII, nonblocking, never waited
// for without a deadline (nccl_wait.h).
//
//   set-up   rank 0's ncclUniqueId reaches every rank by MPI_Bcast; each
//            joins with ncclCommInitRankConfig(blocking = 0) on the current
//            CUDA device and polls ncclCommGetAsyncError until the state
//            leaves ncclInProgress, at most `timeout`.
//   sums     all_reduce_sum queues ncclAllReduce; an ncclInProgress answer
//            is polled out before the call returns (NCCL's rule: no other
//            NCCL call and no kernel on its stream before the state is
//            ncclSuccess). synchronize() then polls the stream and the
//            communicator's asynchronous error together, with the deadline,
//            instead of a cudaStreamSynchronize that would hang when a peer
//            died mid-collective.
//   failure  any error or timeout: ncclCommAbort (ncclCommDestroy can hang
//            once a peer is gone, NCCL >= 2.18), then std::runtime_error
//            "file:line: call: <ncclGetErrorString> (<ncclGetLastError>);
//            communicator aborted"; the object is then unusable.
//   end      a healthy communicator: ncclCommFinalize (polled, bounded),
//            ncclCommDestroy; any other: ncclCommAbort. Never throws.
#pragma once

#include "comm/nccl_wait.h"

#include <cuda_runtime_api.h>
#include <mpi.h>
#include <nccl.h>

#include <chrono>
#include <cstddef>
#include <string>

namespace signvote::comm {

class NcclComm {
 public:
  // Collective over `mpi`, where this process is `rank` of `size`.
  NcclComm(MPI_Comm mpi, int rank, int size, std::chrono::steady_clock::duration timeout = kNcclTimeout);
  ~NcclComm();
  NcclComm(const NcclComm&) = delete;
  NcclComm& operator=(const NcclComm&) = delete;

  // buf (count floats, device memory of this rank's GPU) = the sum of buf
  // over the ranks, in place, queued on `stream`.
  void all_reduce_sum(float* buf, size_t count, cudaStream_t stream);
  // Returns once everything queued on `stream` (the sums included) is done.
  void synchronize(cudaStream_t stream);

  bool healthy() const { return comm_ != nullptr && healthy_; }
  ncclComm_t get() const { return comm_; }

 private:
  // Polls until the communicator leaves ncclInProgress (stream: also until
  // its work is done); aborts and throws on error or timeout.
  void wait(const char* call, const char* file, int line, cudaStream_t stream, bool with_stream);
  // rc of an NCCL call: ncclSuccess goes on, ncclInProgress waits, else fail.
  void settle(ncclResult_t rc, const char* call, const char* file, int line);
  [[noreturn]] void fail(const char* file, int line, const char* call, const std::string& what);
  void abort() noexcept;

  ncclComm_t comm_ = nullptr;
  bool healthy_ = false;
  std::chrono::steady_clock::duration timeout_;
};

}  // namespace signvote::comm
