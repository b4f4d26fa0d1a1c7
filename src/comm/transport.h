// The point-to-point seam under a round: nonblocking byte messages between
// ranks. The round code (worker/vote_client, server/vote_server, deadline.cpp,
// buckets.cpp) asks a Transport to send and receive and names no
// communicator, datatype or MPI_Request, so the same round runs over
//
//   MpiTransport       (comm/mpi_transport.h) MPI_COMM_WORLD, every call
//                      checked (SV_MPI_CHECK); mpi_transport() is the one
//                      the production paths use
//   LoopbackTransport  (comm/loopback.h) ranks as objects in one process,
//                      for unit tests without mpiexec
//
// A Request is a handle the transport hands out (an index into its own
// table); kNoRequest is "nothing pending" (MPI_REQUEST_NULL). Calls that
// complete a request set it back to kNoRequest. A transport is used by one
// thread at a time (MPI_THREAD_FUNNELED).
#pragma once

#include <cstddef>
#include <span>
#include <vector>

namespace signvote::comm {

class Topology;

using Request = int;
inline constexpr Request kNoRequest = -1;

// What a completed request delivered: the bytes a receive got, or -1 when
// it failed (a message longer than the receive: MPI truncation) or did not
// complete. A send's, or an inactive request's, bytes are 0.
struct Status {
  int bytes = -1;
};

class Transport {
 public:
  virtual ~Transport() = default;
  // Posts a send / receive of `bytes` bytes with `tag` to / from rank
  // `peer`; *req completes it. The buffer must stay put until then.
  virtual void isend(const void* buf, size_t bytes, int dest, int tag, Request* req) = 0;
  virtual void irecv(void* buf, size_t bytes, int src, int tag, Request* req) = 0;
  // Waits for every request of `reqs`; st[i] = request i's status (failures
  // show as bytes = -1; any failure nothing can name throws).
  virtual void wait_all(std::span<Request> reqs, std::vector<Status>& st) = 0;
  // The requests of `reqs` that have completed: their indices into
  // done[0..n), their statuses into st[0..n); returns n, or -1 when none of
  // `reqs` is active.
  virtual int test_some(std::span<Request> reqs, std::vector<int>& done, std::vector<Status>& st) = 0;
  // Waits for one of `reqs`: its index (its status in *st), or -1 when none
  // is active. A failed receive throws (nothing else can name it).
  virtual int wait_any(std::span<Request> reqs, Status* st) = 0;
  // Waits for one request; kNoRequest returns at once (bytes 0).
  virtual void wait(Request* req, Status* st = nullptr) = 0;
  // Whether *req has completed (then it is kNoRequest).
  virtual bool test(Request* req) = 0;
  // For destructors (never throw, errors ignored): cancels a pending
  // receive and waits for it; lets a pending send complete in the
  // background (its buffer must outlive it). kNoRequest is skipped.
  virtual void cancel(Request* req) noexcept = 0;
  virtual void release(Request* req) noexcept = 0;
};

// The MPI transport over MPI_COMM_WORLD, one per process (comm/mpi_transport.cpp).
Transport& mpi_transport();

// The ranks a round talks to: this rank, the server count and the voters
// whose votes the servers tally (world ranks, in order). A Topology's, or
// a loopback test's own.
struct Peers {
  int world_rank = 0;
  int servers = 1;
  std::vector<int> voters;
  int voter_count() const { return static_cast<int>(voters.size()); }
  static Peers of(const Topology& topo);
};

}  // namespace signvote::comm
