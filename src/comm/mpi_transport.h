// comm::Transport over an MPI communicator (MPI_COMM_WORLD): today's
// checked MPI_Isend / MPI_Irecv / MPI_Wait* calls. A Request indexes
// table_, the MPI_Request it stands for; the calls over several requests
// gather them into scratch_ (kept across rounds: no allocation once warm),
// call MPI once and put back what is still pending.
#pragma once

#include "comm/transport.h"

#include <mpi.h>

#include <vector>

namespace signvote::comm {

class MpiTransport final : public Transport {
 public:
  explicit MpiTransport(MPI_Comm comm = MPI_COMM_WORLD) : comm_(comm) {}
  ~MpiTransport() override = default;  // after MPI_Finalize too: no MPI call here
  MpiTransport(const MpiTransport&) = delete;
  MpiTransport& operator=(const MpiTransport&) = delete;

  void isend(const void* buf, size_t bytes, int dest, int tag, Request* req) override;
  void irecv(void* buf, size_t bytes, int src, int tag, Request* req) override;
  void wait_all(std::span<Request> reqs, std::vector<Status>& st) override;
  int test_some(std::span<Request> reqs, std::vector<int>& done, std::vector<Status>& st) override;
  int wait_any(std::span<Request> reqs, Status* st) override;
  void wait(Request* req, Status* st = nullptr) override;
  bool test(Request* req) override;
  void cancel(Request* req) noexcept override;
  void release(Request* req) noexcept override;

 private:
  Request take_slot();
  template <class Start>
  Request post(Start&& start);
  MPI_Request* gather(std::span<const Request> reqs);
  // After an MPI call over scratch_: a request MPI nulled frees its slot
  // and becomes kNoRequest, the others keep their (updated) handle.
  void scatter(std::span<Request> reqs);
  void put_back(Request* req, MPI_Request r);

  MPI_Comm comm_;
  std::vector<MPI_Request> table_;  // Request -> MPI_Request
  std::vector<Request> free_;       // unused slots of table_
  std::vector<MPI_Request> scratch_;
  std::vector<MPI_Status> mpi_st_;
};

}  // namespace signvote::comm
